"""Fault injection through the sandbox's control endpoint, and how the client copes with each."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from oai_magics.client import APIConnectionError, APIError, APITimeoutError, Client, RateLimitError
from oai_magics.sandbox import Sandbox

USER = [{"role": "user", "content": "Tell me a story about a lighthouse keeper"}]


@pytest.fixture
def client(sandbox: Sandbox) -> Client:
    return Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=2)


def test_status_with_retry_after_is_retried_and_waited_for(client: Client, faults: Any) -> None:
    faults(path="/v1/models", count=2, status=503, retry_after=0.05)
    waits: list[float] = []
    client._requester.sleep = waits.append
    assert len(client.models.list()) > 10
    assert waits == [0.05, 0.05]


def test_too_many_faults_exhaust_the_retries(client: Client, faults: Any) -> None:
    faults(path="/v1/models", count=3, status=429, retry_after=0)
    client._requester.sleep = lambda s: None
    with pytest.raises(RateLimitError) as info:
        client.models.list()
    assert info.value.request_id == "req_sandbox_fault" and "Injected fault" in str(info.value)


def test_dropped_connection_is_retried(sandbox: Sandbox, faults: Any) -> None:
    faults(path="/v1/embeddings", drop=True)
    # A POST that got no answer goes again only to a server that honours Idempotency-Key, as the sandbox does.
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, honours_idempotency_key=True)
    client._requester.sleep = lambda s: None
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert result.matrix.shape == (2, 1536)


def test_dropped_connection_beyond_retries_is_a_connection_error(sandbox: Sandbox, faults: Any) -> None:
    faults(path="/v1/models", drop=True, count=2)
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=1)
    client._requester.sleep = lambda s: None
    with pytest.raises(APIConnectionError):
        client.models.list()


def test_truncated_stream_keeps_what_arrived_and_is_not_retried(client: Client, faults: Any) -> None:
    faults(path="/v1/chat/completions", truncate_after=4)
    calls: list = []
    client.listeners.append(calls.append)
    received = []
    with pytest.raises(APIConnectionError, match="ended before"):
        for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True):
            received.append(chunk)
    assert len(received) == 4 and received[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(calls) == 1  # a stream that has yielded data is never sent again
    partial = "".join(c["choices"][0]["delta"].get("content") or "" for c in received)
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=USER)["choices"][0]["message"]["content"]
    assert partial and whole.startswith(partial) and len(partial) < len(whole)


def test_malformed_body_is_a_clear_error(client: Client, faults: Any) -> None:
    faults(path="/v1/models", malformed=True)
    with pytest.raises(APIError, match="expected JSON"):
        client.models.list()


def test_delay_beyond_the_timeout_is_a_timeout(sandbox: Sandbox, faults: Any) -> None:
    faults(path="/v1/models", delay=2)
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0, timeout=0.3)
    with pytest.raises(APITimeoutError):
        client.models.list()


def test_faults_match_method_and_path_and_unknown_fields_are_refused(client: Client, faults: Any, sandbox: Sandbox) -> None:
    faults(path="/v1/files", method="POST", status=500)
    assert client.files.list().object == "list"  # a GET is not matched
    armed = requests.get(sandbox.url + "/sandbox/faults", timeout=10).json()["armed"]
    assert armed[0]["method"] == "POST"
    assert requests.post(sandbox.url + "/sandbox/faults", json={"explode": 1}, timeout=10).status_code == 400


def seen(sandbox: Sandbox, **query: Any) -> dict:
    return requests.get(sandbox.url + "/sandbox/requests", params=query, timeout=30).json()


def test_an_html_error_page_is_sent_as_a_proxy_would(client: Client, faults: Any, sandbox: Sandbox) -> None:
    faults(path="/v1/models", status=502, html=True)
    answer = requests.get(sandbox.base_url + "/models", headers={"Authorization": "Bearer k"}, timeout=10)
    assert answer.status_code == 502 and answer.headers["content-type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in answer.content


def test_a_lost_response_did_the_work_but_the_client_hears_nothing(sandbox: Sandbox, faults: Any) -> None:
    faults(path="/v1/files", method="POST", lose_response=True)
    with pytest.raises(requests.ConnectionError, match="without response"):
        requests.post(sandbox.base_url + "/files", headers={"Authorization": "Bearer k"}, data={"purpose": "assistants"},
                      files={"file": ("lost.txt", b"kept on the server")}, timeout=10)
    listed = requests.get(sandbox.base_url + "/files", headers={"Authorization": "Bearer k"}, timeout=10).json()["data"]
    assert "lost.txt" in [f["filename"] for f in listed]


def test_a_stream_dropped_after_some_events_breaks_the_connection(client: Client, faults: Any) -> None:
    faults(path="/v1/chat/completions", drop_after=3)
    received = []
    with pytest.raises(APIConnectionError):
        for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True):
            received.append(chunk)
    assert len(received) == 3


def test_a_fault_can_match_one_request_by_its_body(client: Client, faults: Any) -> None:
    faults(path="/v1/embeddings", body="second", status=400)
    assert client.embeddings.create(model="text-embedding-3-small", input=["first"]).matrix.shape[0] == 1
    with pytest.raises(APIError):
        client.embeddings.create(model="text-embedding-3-small", input=["second"])


def test_the_request_log_and_waiting_for_a_client_that_gave_up(sandbox: Sandbox, faults: Any) -> None:
    requests.delete(sandbox.url + "/sandbox/requests", timeout=10)
    faults(path="/v1/models", delay=30)
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0, timeout=0.5)
    with pytest.raises(APITimeoutError):
        client.models.list()
    # The delayed answer notices its client left and ends: the server is idle long before 30 s.
    traffic = seen(sandbox, wait=10, until="idle")
    assert traffic["in_flight"] == 0
    assert [(r["method"], r["path"], r["status"]) for r in traffic["requests"]] == [("GET", "/v1/models", None)]
    client.embeddings.create(model="text-embedding-3-small", input=["logged body"])
    assert '"logged body"' in seen(sandbox)["requests"][-1]["body"]


def test_a_held_request_waits_for_its_release_and_then_answers(client: Client, faults: Any, sandbox: Sandbox) -> None:
    faults(path="/v1/models", method="GET", hold=60)
    answered: list[int] = []
    caller = threading.Thread(target=lambda: answered.append(len(client.models.list())))
    caller.start()
    try:
        assert requests.get(sandbox.url + "/sandbox/faults/held?wait=30", timeout=40).json()["held"] == 1
        assert not answered  # still held
    finally:
        released = requests.post(sandbox.url + "/sandbox/faults/release", timeout=10).json()["released"]
        caller.join(timeout=30)
    assert released == 1 and not caller.is_alive() and answered[0] > 10
    assert requests.get(sandbox.url + "/sandbox/faults/held", timeout=10).json()["held"] == 0
