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
    (b'{"id": "model-1", "object": "model"}', "one JSON model that is no answer to this call"),
    (b'{"choices": [broken', "asked for a stream, the server sent JSON that does not parse: '{\"choices\": [broken'"),
])
def test_a_stream_answered_with_json_that_no_stream_could_carry_says_what_came_back(client: Client, recorder: Any,
                                                                                    body: bytes, says: str) -> None:
    recorder.reply = lambda request: Response(body, content_type="application/json")
    stream = client.chat.completions.create(model="m", messages=MSG, stream=True)
    with pytest.raises(APIError) as caught:
        next(stream)
    assert says in str(caught.value) and caught.value.status == 200 and stream.closed


WHOLE_CHAT = {"id": "chatcmpl-1", "object": "chat.completion", "model": "m", "usage": {"total_tokens": 7},
              "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                  "role": "assistant", "content": "whole",
                  "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}},
                          {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": "two"}}]}


@pytest.mark.parametrize("body, texts", [
    (WHOLE_CHAT, ["whole", "two"]),
    ({"object": "text_completion", "choices": [{"index": 0, "text": "legacy", "finish_reason": "stop"}]}, ["legacy"]),
    ({"object": "chat.completion", "choices": []}, []),
])
def test_a_whole_answer_to_a_streamed_call_is_read_as_its_stream(client: Client, recorder: Any, body: dict,
                                                                  texts: list) -> None:
    from oai_magics.client.accumulate import ChunkAccumulator, consume

    recorder.reply = lambda request: Response(json.dumps(body), content_type="application/json")
    records: list = []
    client.listeners.append(records.append)
    pieces: list = []
    reply = consume(client.chat.completions.create(model="m", messages=MSG, stream=True), ChunkAccumulator(),
                    lambda index, piece: pieces.append((index, piece)))
    assert reply.error is None and reply.texts == texts and pieces == list(enumerate(texts))
    if body is WHOLE_CHAT:
        assert reply.tool_calls == WHOLE_CHAT["choices"][0]["message"]["tool_calls"]
        assert reply.finish_reason == "tool_calls" and records[0].usage == {"total_tokens": 7}


def test_a_whole_response_to_a_streamed_call_is_read_as_its_events(client: Client, recorder: Any) -> None:
    from oai_magics.client.accumulate import consume
    from oai_magics.client.responses_stream import ResponseAccumulator

    response = {"id": "resp_1", "object": "response", "status": "completed", "model": "m", "usage": {"total_tokens": 3},
                "output": [{"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
                           {"id": "msg_1", "type": "message", "role": "assistant",
                            "content": [{"type": "output_text", "text": "whole", "annotations": []}]}]}
    recorder.reply = lambda request: Response(json.dumps(response), content_type="application/json")
    accumulator = ResponseAccumulator()
    pieces: list = []
    reply = consume(client.responses.create(model="m", input="hi", stream=True), accumulator,
                    lambda index, piece: pieces.append(piece))
    assert reply.error is None and accumulator.finished and pieces == ["whole"] and reply.text == "whole"
    assert accumulator.response["output"] == response["output"] and reply.usage == {"total_tokens": 3}
    assert reply.tool_calls[0]["id"] == "call_1"


def test_a_whole_run_to_a_streamed_call_is_its_status_event(client: Client, recorder: Any) -> None:
    run = {"id": "run_1", "object": "thread.run", "status": "queued"}
    recorder.reply = lambda request: Response(json.dumps(run), content_type="application/json")
    events = list(client.threads.runs.create("thread_1", assistant_id="asst_1", stream=True))
    assert events == [{"event": "thread.run.queued", "data": run}]


@pytest.mark.parametrize("call, events", [
    (lambda client: client.chat.completions.create(model="m", messages=MSG, stream=True),
     [(None, {**chunk("a"), "model": "m-1"}), (None, {**chunk("b"), "model": "m-2", "usage": None}),
      (None, {"object": "chat.completion.chunk", "choices": [], "model": "m-2", "usage": {"total_tokens": 9}}),
      (None, "[DONE]")]),
    (lambda client: client.responses.create(model="m", input="hi", stream=True),
     [(None, {"type": "response.created", "response": {"id": "resp_1", "model": "m-2", "usage": None}}),
      (None, {"type": "response.output_text.delta", "delta": "a"}),
      (None, {"type": "response.completed", "response": {"id": "resp_1", "model": "m-2", "usage": {"total_tokens": 9}}})]),
    (lambda client: client.threads.runs.create("thread_1", assistant_id="asst_1", stream=True),
     [("thread.run.created", {"id": "run_1", "model": "m-2", "usage": None}),
      ("thread.run.completed", {"id": "run_1", "model": "m-2", "usage": {"total_tokens": 9}}),
      ("done", "[DONE]")]),
], ids=["chat chunks", "Responses events", "Assistants events"])
def test_the_request_record_has_the_model_and_usage_the_events_reported(client: Client, recorder: Any, call: Any,
                                                                        events: list) -> None:
    """Noted event by event where each kind of stream carries them: at the top of a chunk, in a
    Responses event's `response`, in an Assistants event's `data`; the last of each kept."""
    serve(recorder, sse(*events))
    records: list = []
    client.listeners.append(records.append)
    stream = call(client)
    list(stream)
    assert (stream.model, stream.usage) == ("m-2", {"total_tokens": 9})
    assert (records[0].model, records[0].usage) == ("m-2", {"total_tokens": 9})


def test_an_event_of_null_data_is_an_event_and_not_the_end(client: Client, recorder: Any) -> None:
    serve(recorder, sse((None, "null"), (None, chunk("a")), (None, "[DONE]")))
    assert list(client.chat.completions.create(model="m", messages=MSG, stream=True)) == [None, chunk("a")]
