"""Second review round: a server that echoes the key where the body mask does not look.

Each case failed when it was written; each now guards its fix.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oai_magics.client.accumulate import ChunkAccumulator, consume
from oai_magics.client.errors import OpenAIError
from tests.helpers.rawserver import serve  # noqa: F401 (serve is a fixture)
from tests.magics.conftest import sandbox, shell  # noqa: F401 (fixtures)
from tests.review.test_bad_server import MESSAGES, SERVER_KEY, answer, client_for, stream


def test_a_key_echoed_in_the_request_id_header_stays_out_of_the_error(serve: Any) -> None:
    server = serve(answer(b'{"error": {"message": "bad"}}', "400 Bad Request",
                          b"Content-Type: application/json\r\nx-request-id: req-" + SERVER_KEY.encode() + b"\r\n"))
    with pytest.raises(OpenAIError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert SERVER_KEY not in str(info.value) and SERVER_KEY not in repr(vars(info.value))


def test_a_key_echoed_json_escaped_stays_out_of_the_error(serve: Any) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in SERVER_KEY)  # valid JSON for the same string
    server = serve(answer(b'{"error": {"message": "key ' + escaped.encode() + b' refused"}}', "401 Unauthorized"))
    with pytest.raises(OpenAIError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert SERVER_KEY not in str(info.value)


def test_a_key_echoed_json_escaped_in_a_stream_stays_out_of_the_reply(serve: Any) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in SERVER_KEY)
    event = b'data: {"choices": [{"index": 0, "delta": {"content": "' + escaped.encode() + b'"}}]}\n\n'
    server = serve(stream(event, b"data: [DONE]\n\n"))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())
    assert SERVER_KEY not in reply.text


# -- a key the transport refuses -----------------------------------------------------------------

@pytest.mark.parametrize("key", [SERVER_KEY + "\r\nX-Other: 1", SERVER_KEY + "\n0", SERVER_KEY + "\u2014"])
def test_a_key_with_a_line_break_is_one_clear_error_without_the_key(serve: Any, key: str) -> None:
    from oai_magics.client import Client
    server = serve(answer(b'{"object": "list", "data": []}'))
    client = Client(api_key=key, base_url=server.url, timeout=(5, 5), max_retries=0)
    with pytest.raises(OpenAIError) as info:  # once: a bare ValueError quoting the key
        client.models.list()
    assert SERVER_KEY not in str(info.value)


def test_a_key_read_with_its_trailing_line_break_is_sent_without_it(serve: Any) -> None:
    """A key read from a file keeps its line break: whitespace around a key is taken off."""
    from oai_magics.client import Client
    server = serve(answer(b'{"object": "list", "data": []}'))
    client = Client(api_key=SERVER_KEY + "\n", base_url=server.url, timeout=(5, 5), max_retries=0)
    assert list(client.models.list()) == []


def test_a_key_with_a_trailing_line_break_in_chat_is_one_line_without_the_key(serve: Any, monkeypatch: Any) -> None:
    server = serve(answer(b'{"object": "list", "data": []}'))
    shown = shown_on_raw(server, monkeypatch, SERVER_KEY + "\n", "%chat --no-stream hi")
    assert SERVER_KEY not in shown and "Traceback" not in shown


def shown_on_raw(server: Any, monkeypatch: Any, key: str, line: str) -> str:
    """What a fresh shell shows for `line` on a profile of the raw server (`%oai use` probes it first)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from tests.helpers.shells import retire
    monkeypatch.setenv("REVIEW_KEY", key)
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "oai_magics")
        with capture_output() as shown:
            for cell in (f"%oai profile add raw --base-url {server.url} --key-env REVIEW_KEY", "%oai use raw", line):
                ip.run_cell(cell)
        return shown.stdout + shown.stderr
    finally:
        ip.run_line_magic("unload_ext", "oai_magics")
        retire(ip)


# -- the embedding cache -------------------------------------------------------------------------

def test_embed_of_a_text_with_a_lone_surrogate_is_not_a_traceback_wall(shell: Any) -> None:
    from IPython.utils.capture import capture_output
    shell.user_ns["texts"] = ["ok", "name read with surrogateescape \udcff"]
    with capture_output() as shown:
        result = shell.run_cell("%embed -i texts")
    assert "Traceback" not in shown.stdout + shown.stderr
    assert result.error_in_exec is None or not isinstance(result.error_in_exec, UnicodeError)


def test_the_cache_keeps_a_model_with_a_line_break_apart_from_a_text_with_one(tmp_path: Any) -> None:
    import numpy as np
    from oai_magics.embeddings.cache import EmbeddingCache
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    cache.store("http://s/v1", "m", None, ["x\n0\nt"], np.array([[1.0, 2.0]], dtype=np.float32))
    assert cache.missing("http://s/v1", "m\n0\nx", None, ["t"]) == [0]  # today: the other text's vector


# -- wrong shapes the magics do not read as one line ---------------------------------------------

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


@pytest.mark.parametrize("indexes", [(0, 0), (7, 0)])
def test_embedding_indexes_that_do_not_match_the_inputs_are_refused(serve: Any, indexes: tuple[int, int]) -> None:
    data = [{"embedding": [1.0, 1.0], "index": indexes[0]}, {"embedding": [0.0, 0.0], "index": indexes[1]}]
    server = serve(answer(json.dumps({"object": "list", "data": data}).encode()))
    with pytest.raises(OpenAIError):  # today: row 1 silently gets a vector the server gave for another input
        client_for(server).embeddings.create(model="m", input=["a", "b"])


# -- a whole answer to a stream, under another content type --------------------------------------

WHOLE_CHAT = (b'{"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", '
              b'"content": "the whole reply"}, "finish_reason": "stop"}]}')


@pytest.mark.parametrize("content_type", [b"Content-Type: text/plain\r\n", b""])
def test_a_whole_chat_answer_to_a_stream_keeps_its_text_whatever_its_content_type(serve: Any, content_type: bytes) -> None:
    server = serve(answer(WHOLE_CHAT, headers=content_type))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())  # today: '' and "the stream ended ... after 0 events"
    assert reply.text == "the whole reply"


@pytest.mark.parametrize("content_type", [b"Content-Type: text/plain\r\n", b""])
def test_events_under_another_content_type_are_still_read_as_events(serve: Any, content_type: bytes) -> None:
    events = (b'\n: a comment first\ndata: {"choices": [{"index": 0, "delta": {"content": "streamed "}}]}\n\n'
              b'data: {"choices": [{"index": 0, "delta": {"content": "reply"}}]}\n\ndata: [DONE]\n\n')
    server = serve(answer(events, headers=content_type))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert consume(chunks, ChunkAccumulator()).text == "streamed reply"
