"""transport: a body that is not streamed is read in one piece, whole, or fails in one line."""

from __future__ import annotations

import json
import socket
from typing import Any, Callable

import pytest
import urllib3

from oai_magics.client import APIConnectionError, APITimeoutError, Client
from tests.helpers.rawserver import RawServer

pytestmark = pytest.mark.timeout(30)

BIG = json.dumps({"object": "list", "data": [{"id": f"file-{i:07d}", "object": "file"} for i in range(60_000)],
                  "has_more": False}).encode()  # about 2.6 MB


def answering(head: bytes, body: bytes, then_wait: bool = False) -> Callable[[socket.socket, RawServer], None]:
    """A raw server handler: read one request, send `head` and `body`, then hang up (or hold the line)."""

    def handler(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        conn.sendall(head + body)
        if then_wait:
            server.hold.wait(10)

    return handler


def json_head(length: int) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length


def client_for(server: RawServer, **kwargs: Any) -> Client:
    return Client(api_key="sk-test", base_url=server.url, timeout=(5.0, 0.5), **kwargs)


def test_a_body_of_known_length_is_read_in_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests would read it in 10 KiB steps: some 260 reads for this body."""
    reads: list[int | None] = []
    read = urllib3.response.HTTPResponse.read

    def counted(self: Any, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        reads.append(amt)
        return read(self, amt, *args, **kwargs)

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read", counted)
    with RawServer(answering(json_head(len(BIG)), BIG)) as server:
        page = client_for(server, max_retries=0).files.list()
    assert len(page.data) == 60_000 and page.data[-1]["id"] == "file-0059999"
    assert len(reads) <= 2, reads


def test_a_chunked_body_arrives_whole() -> None:
    pieces = [BIG[i:i + 100_000] for i in range(0, len(BIG), 100_000)]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    with RawServer(answering(head, chunked)) as server:
        page = client_for(server, max_retries=0).files.list()
    assert len(page.data) == 60_000


def test_a_body_cut_short_is_one_line_and_a_post_is_not_sent_again() -> None:
    with RawServer(answering(json_head(len(BIG)), BIG[:50_000])) as server:
        with pytest.raises(APIConnectionError) as info:
            client_for(server, max_retries=2).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert len(server.requests) == 1
    message = str(info.value)
    assert "closed the connection" in message and "not re-sent" in message and "\n" not in message
    assert "urllib3" not in message and "IncompleteRead" not in message


def test_a_body_cut_short_on_a_get_is_retried() -> None:
    with RawServer(answering(json_head(len(BIG)), BIG[:50_000])) as server:
        client = client_for(server, max_retries=2)
        client._requester.sleep = lambda seconds: None
        with pytest.raises(APIConnectionError):
            client.files.list()
        assert len(server.requests) == 3


def test_a_body_that_stops_arriving_is_a_read_timeout() -> None:
    with RawServer(answering(json_head(len(BIG)), BIG[:50_000], then_wait=True)) as server:
        with pytest.raises(APITimeoutError) as info:
            client_for(server, max_retries=0).files.list()
    assert "0.5 s" in str(info.value) and "\n" not in str(info.value)
