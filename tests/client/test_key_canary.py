"""The key cannot be read from any error: not its chain, args, attributes or its frames' locals.

Each failure a user can meet (refused port, dropped connection, timeout, error status, broken
stream) is raised for real over loopback, then walked by `tests.helpers.canary`.
"""

from __future__ import annotations

import json
import socket
from typing import Any, Callable, Iterator

import pytest
from werkzeug import Response

from oai_magics.client import APIConnectionError, APIError, APIStatusError, APITimeoutError, Client
from oai_magics.client.core import Secret
from tests.helpers.canary import assert_no_secret, find_secret, verbose_traceback
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk

from .conftest import CANARY_KEY

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def raw_client(url: str, **kwargs: Any) -> Client:
    client = Client(api_key=CANARY_KEY, base_url=url, max_retries=1, timeout=(2.0, 0.5), **kwargs)
    client._requester.sleep = lambda seconds: None
    return client


def raised(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(APIError) as info:
        call()
    return info.value


def assert_clean(error: BaseException) -> None:
    assert_no_secret(error, CANARY_KEY, opaque=(Secret,))


@pytest.fixture
def serve() -> Iterator[Callable[[Callable], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Callable) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_the_walk_finds_a_key_held_in_a_frame_local() -> None:
    """The canary itself: a header dict in a local, or a context, is found."""

    def leaky() -> None:
        headers = {"Authorization": f"Bearer {CANARY_KEY}"}  # noqa: F841 - the local is the point
        try:
            raise ValueError("inner")
        except ValueError:
            raise RuntimeError("outer")

    with pytest.raises(RuntimeError) as info:
        leaky()
    assert find_secret(info.value, CANARY_KEY)
    assert CANARY_KEY in verbose_traceback(info.value)
    assert find_secret(RuntimeError("x", [{"k": CANARY_KEY.encode()}]), CANARY_KEY)


def test_refused_port(serve: Any) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    error = raised(raw_client(f"http://127.0.0.1:{port}/v1").models.list)
    assert_clean(error)
    assert isinstance(error, APIConnectionError) and not error.sent


def test_connection_dropped_before_the_answer(serve: Any) -> None:
    server = serve(lambda conn, srv: srv.read_request(conn))  # reads the request, closes without a word
    api = raw_client(server.url)  # the error must not reach the server, which has seen the key
    error = raised(lambda: api.chat.completions.create(**CHAT))
    assert_clean(error)
    assert isinstance(error, APIConnectionError) and error.sent


def test_read_timeout(serve: Any) -> None:
    server = serve(lambda conn, srv: (srv.read_request(conn), srv.hold.wait(10)))
    error = raised(raw_client(server.url).models.list)
    assert isinstance(error, APITimeoutError)
    assert_clean(error)


def test_status_error(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(json.dumps({"error": {"message": "bad key", "type": "invalid_request_error"}}),
                                              status=401, content_type="application/json")
    error = raised(lambda: client.models.list())
    assert isinstance(error, APIStatusError) and error.status == 401
    assert_clean(error)


def test_error_event_in_a_stream(client: Client, recorder: Any) -> None:
    body = 'event: error\ndata: {"error": {"message": "overloaded"}}\n\n'
    recorder.reply = lambda request: Response(body, content_type="text/event-stream")
    stream = client.chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert_clean(error)


def test_stream_cut_mid_way(serve: Any) -> None:
    def handler(conn: socket.socket, srv: RawServer) -> None:
        srv.read_request(conn)
        conn.sendall(STREAM_HEAD + chunk(b'data: {"choices": []}\n\n') * 2 + b"2000\r\npartial")

    server = serve(handler)
    stream = raw_client(server.url).chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert isinstance(error, APIConnectionError)
    assert_clean(error)


def test_stream_that_goes_silent(serve: Any) -> None:
    def handler(conn: socket.socket, srv: RawServer) -> None:
        srv.read_request(conn)
        conn.sendall(STREAM_HEAD + chunk(b'data: {"choices": []}\n\n'))
        srv.hold.wait(10)

    server = serve(handler)
    stream = raw_client(server.url).chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert_clean(error)
    assert isinstance(error, APITimeoutError)
