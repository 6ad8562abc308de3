"""Streams over real HTTP: chunks, Assistants events, errors, and the connection's release."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any, Iterator

import pytest
from werkzeug import Response

from oai_magics.client import APIConnectionError, APIError, APITimeoutError, Client
from tests.helpers.rawserver import STREAM_HEAD, RawServer
from tests.helpers.rawserver import chunk as chunk_bytes

MSG = [{"role": "user", "content": "hi"}]


def sse(*events: tuple[str | None, Any]) -> Iterator[bytes]:
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        body = data if isinstance(data, str) else json.dumps(data)
        yield (head + f"data: {body}\n\n").encode()


def chunk(text: str) -> dict:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}


def serve(recorder: Any, body: Iterator[bytes]) -> None:
    recorder.reply = lambda request: Response(body, content_type="text/event-stream")


def test_chat_stream_yields_chunk_dicts(client: Client, recorder: Any) -> None:
    serve(recorder, sse((None, chunk("Hel")), (None, chunk("lo")), (None, "[DONE]")))
    stream = client.chat.completions.create(model="m", messages=MSG, stream=True)
    texts = [c["choices"][0]["delta"]["content"] for c in stream]
    assert texts == ["Hel", "lo"] and stream.closed
    assert recorder.last.body["stream"] is True and recorder.last.headers["Accept"] == "text/event-stream"


def test_assistants_stream_keeps_event_names(client: Client, recorder: Any) -> None:
    serve(recorder, sse(("thread.run.created", {"id": "run_1", "object": "thread.run"}),
                        ("thread.message.delta", {"id": "msg_1", "delta": {}}), ("done", "[DONE]")))
    events = list(client.threads.runs.create("thread_1", assistant_id="asst_1", stream=True))
    assert [e["event"] for e in events] == ["thread.run.created", "thread.message.delta"]
    assert events[0]["data"]["id"] == "run_1"


def test_error_event_raises_with_the_servers_message(client: Client, recorder: Any) -> None:
    serve(recorder, sse(("thread.run.created", {"id": "run_1"}),
                        ("error", {"error": {"message": "Boom", "type": "server_error", "code": "x"}})))
    stream = client.threads.create_and_run(assistant_id="a", stream=True)
    assert next(stream)["event"] == "thread.run.created"
    with pytest.raises(APIError) as info:
        next(stream)
    assert info.value.message == "Boom" and info.value.code == "x" and stream.closed


def test_error_object_in_a_chat_stream_raises(client: Client, recorder: Any) -> None:
    serve(recorder, sse((None, chunk("a")), (None, {"error": {"message": "overloaded", "type": "server_error"}})))
    with pytest.raises(APIError, match="overloaded"):
        list(client.chat.completions.create(model="m", messages=MSG, stream=True))


def test_stream_ending_without_done_is_a_connection_error(client: Client, recorder: Any) -> None:
    serve(recorder, sse((None, chunk("partial"))))
    received = []
    with pytest.raises(APIConnectionError, match="ended before"):
        for item in client.chat.completions.create(model="m", messages=MSG, stream=True):
            received.append(item)
    assert len(received) == 1  # what arrived before the break was delivered


def test_malformed_data_raises_one_line(client: Client, recorder: Any) -> None:
    serve(recorder, sse((None, "{not json")))
    with pytest.raises(APIError, match="malformed data"):
        list(client.completions.create(model="m", prompt="x", stream=True))


def test_completion_stream_and_fine_tune_events_stream(client: Client, recorder: Any) -> None:
    serve(recorder, sse((None, {"object": "fine-tune-event", "message": "Job started"}), (None, "[DONE]")))
    events = list(client.fine_tunes.list_events("ft-1", stream=True))
    assert events[0]["message"] == "Job started" and recorder.last.query == {"stream": "true"}


class SlowServer:
    """A raw socket server that sends one SSE event, then holds the connection open until told."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.closed_by_client = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def run(self) -> None:
        conn, _ = self.sock.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        event = b'data: {"choices": [{"delta": {"content": "first"}}]}\n\n'
        conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
        conn.settimeout(10)
        try:
            while not self.release.is_set():  # recv returns b"" once the client has closed
                if conn.recv(1024) == b"":
                    self.closed_by_client.set()
                    break
        except OSError:
            self.closed_by_client.set()
        conn.close()
        self.sock.close()


def test_breaking_off_a_stream_closes_the_connection() -> None:
    server = SlowServer()
    client = Client(api_key="k", base_url=server.url)
    stream = client.chat.completions.create(model="m", messages=MSG, stream=True)
    assert next(stream)["choices"][0]["delta"]["content"] == "first"
    stream.close()
    assert server.closed_by_client.wait(10)


def test_keyboard_interrupt_while_reading_closes_the_connection() -> None:
    server = SlowServer()
    client = Client(api_key="k", base_url=server.url)
    stream = client.chat.completions.create(model="m", messages=MSG, stream=True)
    next(stream)

    def interrupted() -> Iterator[dict]:
        raise KeyboardInterrupt
        yield {}

    stream._iterator = interrupted()  # stands for Ctrl-C arriving inside the network read
    with pytest.raises(KeyboardInterrupt):
        next(stream)
    assert stream.closed and server.closed_by_client.wait(10)


def event_stream(events: int, then: bytes) -> Any:
    """A raw server handler: a chunked SSE stream of `events` chat chunks, then `then` and hang up."""

    def handler(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        body = b"".join(chunk_bytes(f"data: {json.dumps(chunk(str(i)))}\n\n".encode()) for i in range(events))
        conn.sendall(STREAM_HEAD + body + then)
        if then == b"wait":
            server.hold.wait(10)

    return handler


def stream_from(server: RawServer, read_timeout: float = 5.0) -> tuple[list, BaseException]:
    client = Client(api_key="sk-test", base_url=server.url, timeout=(5.0, read_timeout), max_retries=0)
    received: list = []
    with pytest.raises(APIConnectionError) as info:
        for item in client.chat.completions.create(model="m", messages=MSG, stream=True):
            received.append(item)
    return received, info.value


@pytest.mark.parametrize("cut", [b"", b"1f4\r\npartial chunk", b"zz\r\n", b"5\r\ndata:"])
def test_a_stream_cut_mid_way_says_so_in_words(cut: bytes) -> None:
    with RawServer(event_stream(3, cut)) as server:
        received, error = stream_from(server)
    assert len(received) == 3 and not isinstance(error, APITimeoutError)
    assert str(error) == "the server closed the connection after 3 events [request id: req_raw]"


def test_a_read_timeout_mid_stream_is_a_timeout() -> None:
    with RawServer(event_stream(2, b"wait")) as server:
        received, error = stream_from(server, read_timeout=0.3)
    assert len(received) == 2 and isinstance(error, APITimeoutError)
    assert str(error) == "the server sent nothing within the read timeout after 2 events [request id: req_raw]"


@pytest.mark.parametrize("body, says", [
    (b'{"id": "chatcmpl-1", "object": "chat.completion", "choices": []}', "one JSON chat.completion: it does not stream"),
    (b'{"choices": [broken', "asked for a stream, expected JSON but got application/json: '{\"choices\": [broken'"),
])
def test_a_stream_answered_with_one_json_body_says_what_came_back(client: Client, recorder: Any, body: bytes,
                                                                   says: str) -> None:
    recorder.reply = lambda request: Response(body, content_type="application/json")
    with pytest.raises(APIError) as caught:
        client.chat.completions.create(model="m", messages=MSG, stream=True)
    assert says in str(caught.value) and caught.value.status == 200
