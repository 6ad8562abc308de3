"""`decode`: server bytes become objects with the key masked, whatever the body turns out to be."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from werkzeug import Response

from oai_magics.client import APIError, Client
from oai_magics.client.decode import Decoder, StreamMask, event_json, status_error
from oai_magics.client.secret import Secret
from oai_magics.client.sse import SSEDecoder
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk, serve  # noqa: F401 (serve is a fixture)

from .conftest import CANARY_KEY

KEY = "not-a-real-key-0123456789"  # any text: the mask does not depend on how a key looks
MASK = repr(Secret(KEY))
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def escaped(key: str) -> str:
    """The key as JSON may spell it: every character a `\\u` escape, so its raw bytes do not match."""
    return "".join(f"\\u{ord(char):04x}" for char in key)


def decoded_events(mask: StreamMask, pieces: list[bytes]) -> list[Any]:
    """What a stream's reader makes of the pieces: each event's data decoded through the mask."""
    decoder, events = SSEDecoder(), []
    for piece in mask.chunks(iter(pieces)):
        events += [mask.json(sse.data) for sse in decoder.feed(piece) if sse.data != "[DONE]"]
    return events


# -- the key in a stream, however the network splits it ----------------------------------------------

def test_the_key_is_masked_wherever_a_chunk_boundary_falls() -> None:
    body = b'data: {"a": "x"}\n\ndata: {"echo": "Bearer ' + KEY.encode() + b'"}\n\ndata: [DONE]\n\n'
    for first in range(len(body)):
        for second in range(first, len(body), 7):
            pieces = [body[:first], body[first:second], body[second:]]
            out = list(StreamMask(Secret(KEY)).chunks(pieces))
            assert b"".join(out) == body.replace(KEY.encode(), MASK.encode()), (first, second)
            assert not any(KEY.encode() in piece for piece in out)


def test_whole_lines_pass_at_once() -> None:
    """Nothing that ends a line waits for the next chunk: a streamed reply is not held back."""
    chunks = iter([b"data: 1\n\n", b"data: 2\n", b"\ndata: 3"])
    masked = StreamMask(Secret(KEY)).chunks(chunks)
    assert next(masked) == b"data: 1\n\n"
    assert next(masked) == b"data: 2\n"
    assert next(masked) == b"\n"  # the rest of that line waits for its end (here: the end of the stream)
    assert list(masked) == [b"data: 3"]


# -- the key spelled by escapes in a stream --------------------------------------------------------

def test_an_escaped_key_is_masked_wherever_the_reads_split_its_stream() -> None:
    """Events before and after the one that spells the key; the split may put that event's data in
    one read and the blank line that ends it in a later one, which holds no escape itself."""
    body = (b'data: {"a": "plain"}\n\nevent: message\ndata: {"echo": "Bearer ' + escaped(KEY).encode()
            + b'"}\n\ndata: {"b": "plain"}\n\ndata: [DONE]\n\n')
    for first in range(1, len(body)):
        for second in range(first, len(body), 5):
            events = decoded_events(StreamMask(Secret(KEY)), [body[:first], body[first:second], body[second:]])
            assert events == [{"a": "plain"}, {"echo": f"Bearer {MASK}"}, {"b": "plain"}], (first, second)


def test_a_stream_without_a_key_is_decoded_as_sent() -> None:
    body = f'data: {{"echo": "{escaped(KEY)}"}}\n\n'.encode()
    assert decoded_events(StreamMask(None), [body]) == [{"echo": KEY}]


def test_an_escaped_key_in_a_streamed_reply_is_masked_over_the_network(serve: Any) -> None:
    """The event's data and the blank line that ends it come in two reads of a real connection."""

    def handler(conn: socket.socket, srv: RawServer) -> None:
        srv.read_request(conn)
        data = json.dumps({"choices": [{"index": 0, "delta": {"content": "echo KEY"}}]})
        conn.sendall(STREAM_HEAD + chunk(f"data: {data}\n".replace("KEY", escaped(CANARY_KEY)).encode()))
        conn.sendall(chunk(b"\n") + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    api = Client(api_key=CANARY_KEY, base_url=serve(handler).url, max_retries=0)
    chunks = list(api.chat.completions.create(**CHAT, stream=True))
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks)
    assert CANARY_KEY not in text and text == f"echo {repr(Secret('x'))}"


# -- whole answers and error statuses --------------------------------------------------------------

def test_an_escaped_key_in_an_error_body_is_masked() -> None:
    body = json.dumps({"error": {"message": "bad key KEY"}}).replace("KEY", escaped(KEY)).encode()
    error = status_error(401, body, {}, "", Decoder(Secret(KEY)))
    assert KEY not in str(error) + repr(error.body) and MASK in str(error)


def test_without_a_key_json_and_bytes_pass_as_sent() -> None:
    decoder = Decoder(None)
    raw = f'{{"id": "{escaped(KEY)}"}}'.encode()
    assert decoder.body(raw) is raw and decoder.json(raw) == {"id": KEY}


def test_a_raw_body_is_the_users_data_and_keeps_the_key(client: Client, recorder: Any) -> None:
    """A file's content is handed back byte for byte, even where it holds the key."""
    recorder.reply = lambda request: Response(f"key={CANARY_KEY}", content_type="application/octet-stream")
    assert client.files.content("file-1") == f"key={CANARY_KEY}".encode()


# -- a streamed call answered with something else ----------------------------------------------------

WHOLE = {"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
         "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}]}


@pytest.mark.parametrize("opening", [b"", b"\xef\xbb\xbf", b"\r\n "])
def test_an_untyped_body_opening_with_a_brace_is_one_whole_answer(client: Client, recorder: Any,
                                                                 opening: bytes) -> None:
    recorder.reply = lambda request: Response(opening + json.dumps(WHOLE).encode(), content_type="text/plain")
    chunks = list(client.chat.completions.create(**CHAT, stream=True))
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["whole"]


def test_an_untyped_body_of_events_is_read_as_events(client: Client, recorder: Any) -> None:
    events = b'data: {"choices": [{"index": 0, "delta": {"content": "ev"}}]}\n\ndata: [DONE]\n\n'
    recorder.reply = lambda request: Response(events, content_type="text/plain")
    chunks = list(client.chat.completions.create(**CHAT, stream=True))
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["ev"]


def test_a_web_page_for_a_stream_is_one_error_quoting_its_start(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response("<html><body>Sign in to continue</body></html>",
                                              content_type="text/html")
    stream = client.chat.completions.create(**CHAT, stream=True)
    with pytest.raises(APIError, match=r"POST /chat/completions: asked for a stream, the server sent a web page"
                                       r" \(text/html.*Sign in"):
        list(stream)


@pytest.mark.parametrize("data", ['{"a": [1, 2.5, null, true, "\\u00e9"]}', "[]", '"text"', "17", "-0.5e3", "NaN",
                                  ' {"a": 1}', '{"a": 1} ', "\t[1]\n"])
def test_an_events_json_is_what_json_loads_makes_of_it(data: str) -> None:
    """Event data is handed to the JSON scanner directly when it is one value end to end: whatever
    else surrounds the value, the result is json.loads's own."""
    got = event_json(data)
    assert got == json.loads(data) or (got != got and data == "NaN")


@pytest.mark.parametrize("data", ["", " ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]", "nope", "1 2"])
def test_an_events_data_that_is_not_json_is_json_loads_error(data: str) -> None:
    with pytest.raises(ValueError) as ours:
        event_json(data)
    with pytest.raises(ValueError) as theirs:
        json.loads(data)
    assert str(ours.value) == str(theirs.value)
