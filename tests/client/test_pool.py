"""One client, many threads: the connection pool keeps every connection the calls run on."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from oai_magics.client import Client
from tests.helpers.rawserver import RawServer

WORKERS = 48  # the widest `--workers` an embedding job takes
PAGE = b'{"object": "list", "data": [], "has_more": false}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE)


def test_the_default_pool_is_larger_than_the_widest_worker_count() -> None:
    adapter = Client(api_key="sk-test")._requester.transport.session.get_adapter("https://api.openai.com/v1")
    assert adapter._pool_maxsize >= 64


@pytest.mark.timeout(60)
def test_48_calls_at_once_twice_over_use_48_connections() -> None:
    """Each round's calls are held until all 48 have arrived, so 48 connections are open together.

    A pool smaller than that drops the extra connections after the first round and opens new ones
    for the second; a large enough pool reuses all of them.
    """
    everyone = threading.Barrier(WORKERS, timeout=20)

    def keep_alive(conn: socket.socket, server: RawServer) -> None:
        while server.read_request(conn):
            everyone.wait()
            conn.sendall(ANSWER)

    with RawServer(keep_alive) as server:
        client = Client(api_key="sk-test", base_url=server.url, max_retries=0)
        with ThreadPoolExecutor(WORKERS) as pool:
            for _ in range(2):
                assert all(page.data == [] for page in pool.map(lambda _: client.models.list(), range(WORKERS)))
        client.close()
        assert len(server.requests) == 2 * WORKERS and server.connections == WORKERS
