"""`Client.abort()` on a client of one job (`with_own_connections()`): a call blocked in another
thread, waiting for an answer that does not come, ends at once; nothing is sent again or later;
the client it was made from carries on."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from oai_magics.client import APIUserAbortError, Client
from oai_magics.client.transport import _Connections
from tests.helpers.rawserver import RawServer

pytestmark = pytest.mark.timeout(60)

CERTIFICATE = Path(__file__).resolve().parents[1] / "data" / "tls" / "loopback.pem"  # for 127.0.0.1, cert and key
PAGE = b'{"object": "list", "data": [], "has_more": false}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE)


class Silent:
    """A server that answers every connection but the first, which it holds without a word,
    noting when the client lets go of it."""

    def __init__(self, tls: bool) -> None:
        self.context: ssl.SSLContext | None = None
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(CERTIFICATE)
        self.asked = threading.Event()
        self.let_go = threading.Event()
        self.first = True

    def __call__(self, connection: socket.socket, server: RawServer) -> None:
        if self.context is not None:
            connection = self.context.wrap_socket(connection, server_side=True)
        held, self.first = self.first, False
        while server.read_request(connection):
            if not held:
                connection.sendall(ANSWER)
                continue
            self.asked.set()
            try:
                if connection.recv(1) == b"":  # the client closed its end
                    self.let_go.set()
            except (OSError, ssl.SSLError):
                self.let_go.set()
            return


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as exc:  # the test looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_abort_ends_a_call_waiting_in_another_thread(tls: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(CERTIFICATE))
    silent = Silent(tls)
    with RawServer(silent) as server:
        base_url = server.url.replace("http://", "https://") if tls else server.url
        client = Client(api_key="sk-test", base_url=base_url, max_retries=2, timeout=(5, 30))
        job = client.with_own_connections()
        records: list = []
        job.listeners.append(records.append)
        thread, outcome = in_thread(job.models.list)  # a GET: a connection error would be retried
        assert silent.asked.wait(10)
        job.abort()
        thread.join(5)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), APIUserAbortError), outcome
        assert "stopped before its answer came" in str(outcome["error"])
        assert silent.let_go.wait(5)  # the socket is closed, not only given up on
        with pytest.raises(APIUserAbortError, match="not sent"):
            job.models.list()
        assert len(server.requests) == 1 and server.connections == 1  # nothing sent again, or later
        # the call that went out is counted (it may be billed); the one never sent is not
        assert [(record.path, record.status) for record in records] == [("/models", None)]
        assert client.models.list().data == []  # the client it came from has connections of its own
        client.close()


def test_a_job_client_shares_the_settings_and_the_usage_listeners() -> None:
    client = Client(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=1, max_connections=7)
    job = client.with_own_connections()
    assert job.base_url == client.base_url and job.has_api_key and job.max_connections == 7
    assert job.listeners is client.listeners
    assert job._requester.transport is not client._requester.transport
    areas = [name for name, value in vars(client).items() if not name.startswith("_")]
    assert "embeddings" in areas and all(getattr(job, name) is not getattr(client, name) for name in areas)


def test_a_connection_that_connects_while_abort_runs_is_cut_at_once() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        connections = _Connections()
        connections.cut_all()
        connections.opened(type("Connection", (), {"sock": ours})())
        theirs.settimeout(5)
        assert theirs.recv(1) == b""


def test_abort_during_a_stream_says_the_stream_was_stopped_not_that_the_server_closed_it() -> None:
    first = b'data: {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}\n\n'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n"
    released = threading.Event()

    def hold_after_one_event(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        connection.sendall(head + first)
        connection.recv(1)  # until the client lets go
        released.set()

    with RawServer(hold_after_one_event) as server:
        job = Client(api_key="sk-test", base_url=server.url, max_retries=0, timeout=(5, 30)).with_own_connections()
        stream = job.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
        chunks = iter(stream)
        assert next(chunks)["choices"][0]["delta"]["content"] == "Hel"
        thread, outcome = in_thread(lambda: list(chunks))
        job.abort()
        thread.join(5)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), APIUserAbortError), outcome
        assert "stopped" in str(outcome["error"]) and "closed" not in str(outcome["error"])
        assert released.wait(5)
