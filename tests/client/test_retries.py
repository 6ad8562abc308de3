"""Retry policy over real HTTP: statuses, Retry-After, x-should-retry, dropped connections."""

from __future__ import annotations

import json
import socket
import threading
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from werkzeug import Response

from oai_magics.client import APIConnectionError, Client, InternalServerError, RateLimitError, RetryPolicy
from oai_magics.client.retries import RETRYABLE_STATUS, retry_after_seconds

OK = json.dumps({"object": "list", "id": "obj_1", "data": [{"id": "m1"}]})  # a list, and an uploaded file


def replies(recorder: Any, *answers: tuple[int, dict]) -> None:
    """The server answers the first requests with these (status, headers), then 200."""
    queue = list(answers)

    def reply(request: Any) -> Response:
        if queue:
            status, headers = queue.pop(0)
            body = json.dumps({"error": {"message": f"status {status}", "type": "t", "param": None, "code": None}})
            return Response(body, status=status, headers=headers, content_type="application/json")
        return Response(OK, content_type="application/json")

    recorder.reply = reply


@pytest.fixture
def waits(client: Client) -> list[float]:
    slept: list[float] = []
    client._requester.sleep = slept.append
    return slept


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retryable_statuses_are_retried(status: int, client: Client, recorder: Any, waits: list[float]) -> None:
    replies(recorder, (status, {}))
    assert client.models.list().data == [{"id": "m1"}]
    assert len(recorder.requests) == 2 and len(waits) == 1 and 0.3 <= waits[0] <= 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int, client: Client, recorder: Any, waits: list[float]) -> None:
    replies(recorder, (status, {}))
    with pytest.raises(Exception) as info:
        client.models.list()
    assert info.value.status == status and len(recorder.requests) == 1 and waits == []


def test_gives_up_after_max_retries(client: Client, recorder: Any, waits: list[float]) -> None:
    replies(recorder, (500, {}), (500, {}), (503, {"x-request-id": "req_3"}))
    with pytest.raises(InternalServerError) as info:
        client.models.list()
    assert len(recorder.requests) == 3 and info.value.request_id == "req_3"
    assert waits[1] > waits[0]  # exponential backoff


def test_retry_after_seconds_ms_and_http_date(client: Client, recorder: Any, waits: list[float]) -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    replies(recorder, (429, {"Retry-After": "3"}), (429, {"retry-after-ms": "250", "Retry-After": "9"}))
    client.models.list()
    assert waits == [3.0, 0.25]
    replies(recorder, (503, {"Retry-After": later}))
    client.models.list()
    assert 25 <= waits[-1] <= 30


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process's local time zone five hours behind UTC (restored afterwards)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_retry_after_date_in_any_http_form_is_gmt_whatever_the_local_zone(client: Client, recorder: Any,
                                                                              waits: list[float], new_york: Any) -> None:
    # HTTP dates are GMT, and a recipient must read all three forms (RFC 9110, 5.6.7). The asctime
    # form names no zone, and neither does "-0000": read as local time, 30 s became 5 h 30 s on a
    # machine in New York, and the call failed at once, telling the user to come back hours later.
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    for form in ("%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y",
                 "%a, %d %b %Y %H:%M:%S -0000"):
        replies(recorder, (429, {"Retry-After": later.strftime(form)}))
        client.models.list()
        assert 20 <= waits[-1] <= 30, form


def test_retry_after_beyond_the_cap_fails_at_once_saying_when(client: Client, recorder: Any, waits: list[float]) -> None:
    replies(recorder, (429, {"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as info:
        client.models.list()
    assert waits == [] and len(recorder.requests) == 1  # neither a sub-second retry nor an hour's wait
    assert info.value.retry_after == 3600.0
    assert "wait 3600 s" in str(info.value) and "try again after" in str(info.value)


def test_x_should_retry_overrides_the_status(client: Client, recorder: Any, waits: list[float]) -> None:
    replies(recorder, (500, {"x-should-retry": "false"}))
    with pytest.raises(InternalServerError):
        client.models.list()
    assert len(recorder.requests) == 1
    replies(recorder, (400, {"x-should-retry": "true"}))
    assert client.models.list().data
    assert len(recorder.requests) == 3


def test_max_retries_zero(httpserver: Any, recorder: Any) -> None:
    replies(recorder, (429, {}))
    with pytest.raises(RateLimitError):
        Client(api_key="k", base_url=httpserver.url_for("/v1"), max_retries=0).models.list()
    assert len(recorder.requests) == 1


def test_uploads_are_resent_whole_on_retry(client: Client, recorder: Any, waits: list[float], tmp_path: Any) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"prompt": "a", "completion": "b"}\n' * 1000)
    replies(recorder, (502, {}))
    with open(path, "rb") as handle:
        client.files.create(handle, purpose="fine-tune")
    bodies = [r.body["file"]["content"] for r in recorder.requests]
    assert bodies == [path.read_bytes()] * 2


class DroppingServer:
    """Accepts connections and closes them at once, `drops` times; then answers 200."""

    def __init__(self, drops: int) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.drops = drops
        self.accepted = 0
        threading.Thread(target=self.run, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def run(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            self.accepted += 1
            conn.recv(65536)
            if self.accepted <= self.drops:
                conn.close()
                continue
            body = OK.encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            conn.close()


def test_dropped_connections_are_retried() -> None:
    server = DroppingServer(drops=2)
    client = Client(api_key="k", base_url=server.url, max_retries=2)
    client._requester.sleep = lambda s: None
    assert client.models.list().data == [{"id": "m1"}]
    assert server.accepted == 3


def test_dropped_connections_beyond_the_budget_raise_one_line() -> None:
    server = DroppingServer(drops=10)
    client = Client(api_key="sk-hidden.key.123456789", base_url=server.url, max_retries=1)
    client._requester.sleep = lambda s: None
    with pytest.raises(APIConnectionError) as info:
        client.models.list()
    assert server.accepted == 2
    assert "\n" not in str(info.value) and "sk-hidden" not in str(info.value)


def test_policy_defaults() -> None:
    policy = RetryPolicy()
    assert RETRYABLE_STATUS >= {408, 409, 429, 500, 599}
    assert policy.should_retry(0, None) and not policy.should_retry(2, None)
    assert retry_after_seconds({"retry-after": "not a date"}) is None


@pytest.mark.parametrize("headers, seconds", [
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the finer one wins
    ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),  # an unreadable one is passed over
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date gone by is no wait
    ({"retry-after": ""}, None),
    ({}, None),
])
def test_retry_after_seconds_is_what_the_server_asked_for(headers: dict, seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds
