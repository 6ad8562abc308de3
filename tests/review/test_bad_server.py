"""A server that answers badly: each case ends in a result or one clear line, and keeps what arrived.

The server is a raw loopback socket (`tests.helpers.rawserver`), so it can send what no framework
would: `null` for an answer, chunks of the wrong shape, a JSON body to a streamed request, a
`Retry-After` of infinity.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.client import Client
from oai_magics.client.accumulate import ChunkAccumulator, consume
from oai_magics.client.errors import OpenAIError, RateLimitError
from oai_magics.client.responses_stream import ResponseAccumulator
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk, serve  # noqa: F401 (serve is a fixture)
from tests.helpers.shells import extension_shell

Handler = Callable[[socket.socket, RawServer], None]
MESSAGES = [{"role": "user", "content": "hi"}]
SERVER_KEY = "sk-review-0123456789"


def answer(body: bytes, status: str = "200 OK", headers: bytes = b"Content-Type: application/json\r\n") -> Handler:
    """Reads the request and sends one whole answer."""

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        connection.sendall(b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                           % (status.encode(), headers, len(body), body))

    return handle


def stream(*events: bytes) -> Handler:
    """Reads the request and sends the SSE events as chunks, ended properly."""

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        # Said closed: a client that pooled it would send its next request into a socket closing under it.
        head = STREAM_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        connection.sendall(head + b"".join(chunk(event) for event in events) + b"0\r\n\r\n")

    return handle



def client_for(server: RawServer) -> Client:
    client = Client(api_key=SERVER_KEY, base_url=server.url, timeout=(5, 5), max_retries=1)
    client._requester.sleep = lambda seconds: None
    return client


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    with extension_shell(monkeypatch, "REVIEW_KEY", SERVER_KEY) as ip:
        yield ip


def use(ip: InteractiveShell, server: RawServer) -> None:
    with capture_output():
        ip.run_line_magic("oai", f"profile add raw --base-url {server.url} --key-env REVIEW_KEY")
        ip.run_line_magic("oai", "use raw")


# -- Retry-After ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "1e300"])
def test_a_retry_after_beyond_any_clock_is_one_clear_error(serve: Any, value: str) -> None:
    server = serve(answer(b'{"error": {"message": "slow down"}}', "429 Too Many Requests",
                          b"Content-Type: application/json\r\nRetry-After: " + value.encode() + b"\r\n"))
    with pytest.raises(RateLimitError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert "slow down" in str(info.value) and "not retried" in str(info.value)
    assert server.connections == 1


def test_a_retry_after_of_days_names_the_date_not_only_the_hour(serve: Any) -> None:
    server = serve(answer(b'{"error": {"message": "slow down"}}', "429 Too Many Requests",
                          b"Content-Type: application/json\r\nRetry-After: 200000\r\n"))
    with pytest.raises(RateLimitError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert "-" in str(info.value).rpartition("try again")[2]  # a date, 2.3 days on


# -- streams of the wrong shape ------------------------------------------------------------------

GOOD = b'data: {"choices": [{"index": 0, "delta": {"content": "kept"}}]}\n\n'


@pytest.mark.parametrize("bad", [b"data: null\n\n", b'data: {"choices": [{"index": 0, "delta": "x"}]}\n\n',
                                 b'data: {"choices": [{"index": "0", "delta": {"content": "x"}}]}\n\n',
                                 b'data: {"choices": [{"index": 0, "delta": {"content": 5}}]}\n\n'])
def test_a_malformed_chunk_ends_the_stream_with_an_error_keeping_the_text(serve: Any, bad: bytes) -> None:
    server = serve(stream(GOOD, bad, b"data: [DONE]\n\n"))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())
    assert reply.text.startswith("kept")
    assert reply.error is None or isinstance(reply.error, OpenAIError)


def test_a_huge_choice_index_ends_the_reply_keeping_its_text() -> None:
    chunks = [{"choices": [{"index": 0, "delta": {"content": "kept"}}]},
              {"choices": [{"index": 100_000, "delta": {"content": "x"}}]}]
    reply = consume(iter(chunks), ChunkAccumulator())
    assert reply.text == "kept" and len(reply.choices) == 1
    assert isinstance(reply.error, OpenAIError) and "choice index 100000" in str(reply.error)


@pytest.mark.parametrize("where", [{"output_index": 100_000, "content_index": 0},
                                   {"output_index": 0, "content_index": 100_000}])
def test_a_huge_output_or_content_index_ends_the_reply_keeping_its_text(where: dict) -> None:
    events = [{"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "kept"},
              {"type": "response.output_text.delta", "delta": "x", **where}]
    accumulator = ResponseAccumulator()
    reply = consume(iter(events), accumulator)
    assert reply.text == "kept" and accumulator.text == "kept"
    assert len(accumulator.items) == 1 and len(accumulator.items[0]["content"]) == 1
    assert isinstance(reply.error, OpenAIError) and "index 100000" in str(reply.error)


def test_choices_a_little_out_of_order_are_kept_in_place() -> None:
    chunks = [{"choices": [{"index": 2, "delta": {"content": "c"}}]},
              {"choices": [{"index": 0, "delta": {"content": "a"}}]}]
    reply = consume(iter(chunks), ChunkAccumulator())
    assert reply.error is None and reply.texts == ["a", "", "c"]


@pytest.mark.parametrize("body, text, error", [
    (b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole answer"}, '
     b'"finish_reason": "stop"}]}', "whole answer", None),
    (b'{"error": {"message": "quota exceeded for ' + SERVER_KEY.encode() + b'"}}', "",
     "quota exceeded for Secret('********')"),
])
def test_a_json_answer_to_a_streamed_request_is_not_thrown_away(serve: Any, body: bytes, text: str,
                                                                error: str | None) -> None:
    server = serve(answer(body))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())
    assert reply.text == text
    assert (reply.error is None) if error is None else (isinstance(reply.error, OpenAIError) and error in str(reply.error))


# -- the magics, in front of such a server -------------------------------------------------------

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
def test_an_answer_of_the_wrong_shape_is_a_result_or_one_line(serve: Any, shell: InteractiveShell, tmp_path: Path,
                                                               action: tuple, shape: bytes) -> None:
    magic, line, cell = action
    (tmp_path / "notes.txt").write_text("some notes\n")
    use(shell, serve(answer(shape)))
    if "--api responses" in line:
        with capture_output():  # a local record: nothing is sent
            shell.run_line_magic("assistant", "create helper -m m --api responses")
    line = line.replace("{folder}", str(tmp_path))
    try:
        with capture_output():
            shell.run_cell_magic(magic, line, cell) if cell is not None else shell.run_line_magic(magic, line)
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
def test_an_answer_of_the_wrong_shape_names_the_endpoint_and_what_came(serve: Any, shell: InteractiveShell,
                                                                        body: bytes, magic: str, line: str,
                                                                        cell: str | None, says: str) -> None:
    use(shell, serve(answer(body)))
    with pytest.raises(UsageError) as info, capture_output():
        shell.run_cell_magic(magic, line, cell) if cell is not None else shell.run_line_magic(magic, line)
    assert says in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("has_more", [b'"false"', b'"no"', b"1", b"null"])
def test_only_a_real_true_has_more_pages(serve: Any, has_more: bytes) -> None:
    server = serve(answer(b'{"object": "list", "data": [{"id": "a"}], "has_more": ' + has_more + b"}"))
    page = client_for(server).models.list()
    assert [item["id"] for item in page.auto_paging_iter()] == ["a"] and not page.has_next_page()
    assert server.connections == 1


def test_a_streamed_chat_answered_with_one_whole_json_shows_it_as_the_reply(serve: Any, shell: InteractiveShell) -> None:
    use(shell, serve(answer(b'{"object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": '
                            b'{"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}]}')))
    with capture_output() as captured:
        shell.run_cell_magic("chat", "", "hi")
    assert "whole answer" in captured.stdout and "broken" not in captured.stdout
    assert shell.user_ns["_"] == "whole answer"


def test_chat_keeps_its_partial_text_when_a_chunk_is_malformed(serve: Any, shell: InteractiveShell) -> None:
    use(shell, serve(stream(GOOD, b'data: {"choices": [{"index": 0, "delta": "x"}]}\n\n', b"data: [DONE]\n\n")))
    with capture_output() as captured:
        shell.run_cell_magic("chat", "", "hi")
    assert "kept" in captured.stdout
