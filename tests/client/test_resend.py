"""A request is sent twice only when that cannot do the work twice; every call counts its attempts."""

from __future__ import annotations

import json
import socket
from typing import Any, Iterator

import pytest
from werkzeug import Response

from oai_magics.client import APIConnectionError, APITimeoutError, Client, RequestRecord
from tests.helpers.rawserver import RawServer

from .conftest import CANARY_KEY

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def raw_client(url: str, **kwargs: Any) -> tuple[Client, list[RequestRecord]]:
    client = Client(api_key=CANARY_KEY, base_url=url, max_retries=2, timeout=(2.0, 0.5), **kwargs)
    client._requester.sleep = lambda seconds: None
    records: list[RequestRecord] = []
    client.listeners.append(records.append)
    return client, records


@pytest.fixture
def unanswering() -> Iterator[RawServer]:
    """Reads each request and never answers it."""
    with RawServer(lambda conn, srv: (srv.read_request(conn), srv.hold.wait(10))) as server:
        yield server


@pytest.fixture
def hanging_up() -> Iterator[RawServer]:
    """Reads each request and closes the connection without a word."""
    with RawServer(lambda conn, srv: srv.read_request(conn)) as server:
        yield server


def test_a_post_that_timed_out_is_not_sent_again(unanswering: RawServer) -> None:
    client, records = raw_client(unanswering.url)
    with pytest.raises(APITimeoutError) as info:
        client.chat.completions.create(**CHAT)
    assert len(unanswering.requests) == 1 and records[0].attempts == 1
    message = str(info.value)
    assert message.startswith("POST /chat/completions sent, no answer within 0.5 s; not re-sent because it might be billed twice")
    assert "honours_idempotency_key=True" in message and "\n" not in message


def test_a_post_whose_connection_dropped_is_not_sent_again(hanging_up: RawServer) -> None:
    client, _ = raw_client(hanging_up.url)
    with pytest.raises(APIConnectionError, match="closed the connection without answering; not re-sent"):
        client.threads.runs.create("thread_1", assistant_id="asst_1")
    assert len(hanging_up.requests) == 1


def test_a_get_that_timed_out_is_retried(unanswering: RawServer) -> None:
    client, records = raw_client(unanswering.url)
    with pytest.raises(APITimeoutError):
        client.models.list()
    assert len(unanswering.requests) == 3 and records[0].attempts == 3 and records[0].retries == 2


def test_a_post_to_a_server_that_honours_the_key_is_retried_with_the_same_key(unanswering: RawServer) -> None:
    client, records = raw_client(unanswering.url, honours_idempotency_key=True)
    with pytest.raises(APITimeoutError):
        client.chat.completions.create(**CHAT)
    keys = {_header(raw, b"idempotency-key") for raw in unanswering.requests}
    assert len(unanswering.requests) == 3 and len(keys) == 1 and records[0].attempts == 3


def test_a_refused_post_is_retried_and_counted() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    client, records = raw_client(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(APIConnectionError, match="could not connect") as info:
        client.chat.completions.create(**CHAT)
    assert not info.value.sent and records[0].attempts == 3 and records[0].status is None


def test_idempotency_key_on_every_non_get_the_same_across_retries(client: Client, recorder: Any) -> None:
    answers = [500, 200, 200, 200, 200]
    body = json.dumps({"id": "x", "object": "thing", "choices": [], "data": []})
    recorder.reply = lambda request: Response(body, status=answers.pop(0), content_type="application/json")
    records: list[RequestRecord] = []
    client.listeners.append(records.append)
    client.chat.completions.create(**CHAT)  # a 500, then the retry
    client.chat.completions.create(**CHAT)
    keys = [seen.headers.get("Idempotency-Key") for seen in recorder.requests]
    assert keys[0] and keys[0] == keys[1] and keys[2] and keys[2] != keys[0]
    assert [r.attempts for r in records] == [2, 1]
    client.models.list()
    assert "Idempotency-Key" not in recorder.last.headers
    client.chat.completions.create(**CHAT, extra_headers={"Idempotency-Key": "mine"})
    assert recorder.last.headers["Idempotency-Key"] == "mine"


def _header(raw: bytes, name: bytes) -> bytes:
    for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return b""



@pytest.mark.parametrize("base_url", ["htps://api.openai.com/v1", "127.0.0.1:8000/v1", "sk-pasted-by-mistake"])
def test_a_base_url_that_is_not_http_is_one_line_that_does_not_quote_it(base_url: str) -> None:
    client, records = raw_client(base_url)
    with pytest.raises(APIConnectionError) as info:
        client.chat.completions.create(**CHAT)
    assert str(info.value) == "not sent: the base URL must start with http:// or https://"
    assert not info.value.sent and records == []
