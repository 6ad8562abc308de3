"""The magics in front of a server that answers badly: every magic and subcommand that reads an
answer ends in a result or one line that names the endpoint and what came, and keeps what arrived.

The server is a raw loopback socket (`tests.helpers.rawserver`); `raw_shell` is a shell with the
extension loaded, and `use_server` points its profile at such a server.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.rawserver import SERVER_KEY, STREAM_HEAD, RawServer, answer, chat_answer, chunk, stream
from tests.helpers.shells import shown_on_raw, use_server

from .conftest import run

GOOD = b'data: {"choices": [{"index": 0, "delta": {"content": "kept"}}]}\n\n'


# Every magic and subcommand that reads an answer, each with what it must be given first.
ACTIONS = {
    "chat": ("chat", "", "hi"),
    "chat --no-stream": ("chat", "--no-stream", "hi"),
    "embed": ("embed", "hello", None),
    "image": ("image", "a cat", None),
    "models": ("oai", "models", None),
    "files list": ("oai", "files list", None),
    "files upload": ("oai", "files upload {folder}/notes.txt --purpose assistants", None),
    "moderate": ("oai", "moderate some text", None),
    "transcribe": ("oai", "transcribe {folder}/notes.txt", None),
    "complete": ("oai", "complete hello", None),
    "complete --no-stream": ("oai", "complete --no-stream hello", None),
    "edit": ("oai", "edit -i shorter some text", None),
    "finetunes list": ("oai", "finetunes list", None),
    "finetunes show": ("oai", "finetunes show ft-1", None),
    "finetunes create": ("oai", "finetunes create --training-file file-1", None),
    "embed --batch": ("embed", "--batch hello", None),
    "embed --jobs": ("embed", "--jobs", None),
    "assistants list": ("assistant", "list --api assistants", None),
    "assistants create": ("assistant", "create helper -m m --api assistants", None),
    "assistants threads": ("assistant", "threads --api assistants", None),
    "responses run": ("assistant", "run helper hi --api responses --no-stream", None),
    "responses run streamed": ("assistant", "run helper hi --api responses", None),
}


SHAPES = {
    "null": b"null",
    "a list": b"[1, 2]",
    "a string": b'"text"',
    "an empty object": b"{}",
    "a list of numbers": b'{"object": "list", "data": [1, 2], "has_more": false}',
    "fields of the wrong type": b'{"choices": "x", "data": "x", "results": "x", "output": "x", "id": 5}',
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_an_answer_of_the_wrong_shape_is_a_result_or_one_line(serve: Any, raw_shell: InteractiveShell, tmp_path: Path,
                                                               action: tuple, shape: bytes) -> None:
    magic, line, cell = action
    (tmp_path / "notes.txt").write_text("some notes\n")
    use_server(raw_shell, serve(answer(shape)))
    if "--api responses" in line:
        with capture_output():  # a local record: nothing is sent
            raw_shell.run_line_magic("assistant", "create helper -m m --api responses")
    line = line.replace("{folder}", str(tmp_path))
    try:
        with capture_output():
            raw_shell.run_cell_magic(magic, line, cell) if cell is not None else raw_shell.run_line_magic(magic, line)
    except UsageError as error:
        assert "\n" not in str(error) and len(str(error)) < 400, error


@pytest.mark.parametrize("body, magic, line, cell, says", [
    (b"null", "chat", "--no-stream", "hi", "POST /chat/completions answered with null"),
    (b'{"choices": "x"}', "chat", "--no-stream", "hi", 'a string "x" as `choices`'),
    (b"null", "chat", "", "hi", "the server answered with one JSON NoneType"),
    (b"null", "embed", "hello", None, "POST /embeddings answered with null"),
    (b'{"object": "list", "data": []}', "embed", "hello", None, "POST /embeddings answered with 0 embeddings for 1 input"),
    (b'{"object": "list", "data": [1, 2]}', "oai", "models", None, "a list [1, 2] as `data`"),
    (b'{"error": {"message": "quota exceeded"}}', "image", "a cat", None, "answered 200 with an error: quota exceeded"),
])
def test_an_answer_of_the_wrong_shape_names_the_endpoint_and_what_came(serve: Any, raw_shell: InteractiveShell,
                                                                        body: bytes, magic: str, line: str,
                                                                        cell: str | None, says: str) -> None:
    use_server(raw_shell, serve(answer(body)))
    with pytest.raises(UsageError) as info, capture_output():
        raw_shell.run_cell_magic(magic, line, cell) if cell is not None else raw_shell.run_line_magic(magic, line)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_a_streamed_chat_answered_with_one_whole_json_shows_it_as_the_reply(serve: Any, raw_shell: InteractiveShell) -> None:
    use_server(raw_shell, serve(answer(b'{"object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": '
                            b'{"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}]}')))
    with capture_output() as captured:
        raw_shell.run_cell_magic("chat", "", "hi")
    assert "whole answer" in captured.stdout and "broken" not in captured.stdout
    assert raw_shell.user_ns["_"] == "whole answer"


def test_chat_keeps_its_partial_text_when_a_chunk_is_malformed(serve: Any, raw_shell: InteractiveShell) -> None:
    use_server(raw_shell, serve(stream(GOOD, b'data: {"choices": [{"index": 0, "delta": "x"}]}\n\n', b"data: [DONE]\n\n")))
    with capture_output() as captured:
        raw_shell.run_cell_magic("chat", "", "hi")
    assert "kept" in captured.stdout


def test_a_key_with_a_trailing_line_break_in_chat_is_one_line_without_the_key(serve: Any, monkeypatch: Any) -> None:
    server = serve(answer(b'{"object": "list", "data": []}'))
    shown = shown_on_raw(server, monkeypatch, SERVER_KEY + "\n", "%chat --no-stream hi")
    assert SERVER_KEY not in shown and "Traceback" not in shown


@pytest.mark.parametrize("line, body", [
    ("%image a cat", b'{"data": [{"b64_json": "!!notb64"}]}'),  # binascii.Error: Incorrect padding
    ("%embed hello", b'{"data": [{"embedding": [1, "a"], "index": 0}]}'),
    ("%chat --no-stream hi", b'{"choices": [{"message": {"content": 5}}]}'),  # TypeError: __str__ ...
])
def test_a_wrong_value_inside_an_answer_is_one_line(serve: Any, monkeypatch: Any, line: str, body: bytes) -> None:
    shown = shown_on_raw(serve(answer(body)), monkeypatch, SERVER_KEY, line)
    assert "Traceback" not in shown


@pytest.mark.parametrize("line, body, said", [
    ("%image a cat", b'{"data": [{"b64_json": "!!notb64"}]}', "image 1 whose b64_json is not base64"),
    ("%image a cat", b'{"data": [{"url": 5}]}', "image 1 whose url is not an http(s) address"),
    ("%image a cat", b'{"data": [{"url": "file:///etc/passwd"}]}', "image 1 whose url is not an http(s) address"),
    ("%image a cat", b'{"data": ["x"]}', "as `data`, not a list of objects"),
    ("%chat --no-stream hi", b'{"choices": [{"message": {"content": 5}}]}', "a choice that is not a reply"),
    ("%chat --no-stream hi", b'{"choices": [{"message": {"content": "x", "tool_calls": 7}}]}',
     "a choice that is not a reply"),
    ("%chat --no-stream hi", b'{"choices": []}', "no choices: there is no reply to show"),
    ("%oai complete --no-stream hi", b'{"choices": [{"text": ["x"]}]}', "a choice that is not a reply"),
    ("%oai complete hi", b'{"choices": [{"text": ["x"]}]}', "one JSON object that is no answer to this call"),
])
def test_a_wrong_value_inside_an_answer_says_what_was_wrong(serve: Any, monkeypatch: Any, line: str, body: bytes,
                                                            said: str) -> None:
    shown = shown_on_raw(serve(answer(body)), monkeypatch, SERVER_KEY, line)
    assert "Traceback" not in shown and said in shown and "connect" not in shown


# -- n=2: the output's type depends on how far the stream got ---------------------------------------

def first_choice_then_cut(connection: socket.socket, server: RawServer) -> None:
    """Streams one chunk of choice 0 of an n=2 reply, then closes the connection."""
    server.read_request(connection)
    connection.sendall(STREAM_HEAD + chunk(b'data: {"choices": [{"index": 0, "delta": {"content": "kept"}}]}\n\n'))


def test_n2_gives_the_list_of_choices_even_when_the_stream_broke_before_the_second(serve: Any,
                                                                                    raw_shell: InteractiveShell) -> None:
    use_server(raw_shell, serve(first_choice_then_cut))
    run(raw_shell, "chat", "-p n=2 -o out Tell me twice")
    out = raw_shell.user_ns["out"]
    assert out == ["kept", ""], f"-p n=2 -o gave {out!r}"
    use_server(raw_shell, serve(first_choice_then_cut))
    run(raw_shell, "oai", "complete -p n=2 -o out Tell me twice")
    assert raw_shell.user_ns["out"] == ["kept", ""]


def test_a_timeout_too_large_for_the_clock_is_refused_or_one_line(serve: Any, raw_shell: InteractiveShell) -> None:
    # `%config OAIMagics.timeout = 1e300` passes the new finiteness check; every request after it
    # (even `%oai use`) ends in a wall of urllib3 frames: "OverflowError: timestamp out of range".
    server = serve(answer(chat_answer({"role": "assistant", "content": "ok"})))
    magics = raw_shell.magics_manager.registry["OAIMagics"]
    raw_shell.run_line_magic("config", "OAIMagics.timeout = 1e300")
    try:
        with capture_output():
            use_server(raw_shell, server)
            raw_shell.run_line_magic("chat", "--no-stream hi")
    except UsageError as error:
        assert "\n" not in str(error)
    else:
        assert magics.timeout < 1e300, "the setting was taken and the chat went through"
