"""A loopback TCP server that misbehaves on purpose: it hands each connection's socket to a function.

For what an HTTP framework will not do: close the connection after reading a request, never
answer, or cut a chunked body in the middle, send `null` for an answer, chunks of the wrong shape,
a JSON body to a streamed request, a `Retry-After` of infinity. `hold` is an event that handlers
wait on instead of answering; stopping the server sets it, so no handler outlives the test.

`answer(...)` and `stream(...)` make the usual handlers; `client_for(server)` is a client on one,
with a key of its own (SERVER_KEY) that must never come back. The `serve` fixture comes to every
test through tests/conftest.py.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Callable, Iterator

import pytest

from oai_magics.client import Client

Handler = Callable[[socket.socket, "RawServer"], None]


class RawServer:
    """Run `handler(connection, server)` in a thread for each connection to `url`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.hold = threading.Event()
        self.requests: list[bytes] = []  # the head and body of every request read with `read_request`
        self.connections = 0  # how many connections were accepted
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self.hold.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(10)
            try:
                self.handler(connection, self)
            except OSError:
                pass

    def read_request(self, connection: socket.socket) -> bytes:
        """Read one request (head and Content-Length body) and remember it."""
        data = b""
        while b"\r\n\r\n" not in data:
            block = connection.recv(65536)
            if not block:
                return data
            data += block
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            block = connection.recv(65536)
            if not block:
                break
            body += block
        self.requests.append(head + b"\r\n\r\n" + body)
        return data

    def stop(self) -> None:
        self.hold.set()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> "RawServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    """A fixture: `serve(handler)` starts a RawServer, and every one started is stopped afterwards."""
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked HTTP body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
               b"x-request-id: req_raw\r\n\r\n")


MESSAGES = [{"role": "user", "content": "hi"}]
SERVER_KEY = "sk-review-0123456789"


def answer(body: bytes, status: str = "200 OK", headers: bytes = b"Content-Type: application/json\r\n") -> Handler:
    """Reads the request and sends one whole answer."""

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        connection.sendall(b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                           % (status.encode(), headers, len(body), body))

    return handle


def chat_answer(message: dict) -> bytes:
    """A whole chat.completion body whose one choice is `message`."""
    return json.dumps({"object": "chat.completion", "model": "m",
                       "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}).encode()


def stream(*events: bytes) -> Handler:
    """Reads the request and sends the SSE events as chunks, ended properly."""

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        # Said closed: a client that pooled it would send its next request into a socket closing under it.
        head = STREAM_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        connection.sendall(head + b"".join(chunk(event) for event in events) + b"0\r\n\r\n")

    return handle


def client_for(server: RawServer) -> Client:
    """A client on `server` with SERVER_KEY, one retry and no waiting before it."""
    client = Client(api_key=SERVER_KEY, base_url=server.url, timeout=(5, 5), max_retries=1)
    client._requester.sleep = lambda seconds: None
    return client


def json_answer(body: object) -> Handler:
    """A handler that reads the request and answers 200 with `body` as JSON, whatever was asked
    (a streamed request included: a server that ignores `stream: true`)."""
    data = json.dumps(body).encode()

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n%s" % (len(data), data))

    return handle
