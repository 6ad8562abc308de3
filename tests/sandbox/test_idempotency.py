"""The sandbox honours Idempotency-Key: a repeated POST gets the first answer, and the work is done once."""

from __future__ import annotations

from typing import Any

import requests

from oai_magics.client import Client, RequestRecord
from oai_magics.sandbox import Sandbox


def post(sandbox: Sandbox, path: str, body: dict, key: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {sandbox.api_key}", "OpenAI-Beta": "assistants=v2"}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(sandbox.base_url + path, json=body, headers=headers, timeout=10)


def assistants_named(client: Client, name: str) -> list[dict]:
    return [a for a in client.assistants.list(limit=100).auto_paging_iter() if a.get("name") == name]


def test_a_repeated_key_replays_the_first_answer(sandbox: Sandbox) -> None:
    body = {"model": "gpt-4o-mini", "name": "idempotent-once"}
    first = post(sandbox, "/assistants", body, "key-once")
    again = post(sandbox, "/assistants", body, "key-once")
    other = post(sandbox, "/assistants", body, "key-other")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and other.json()["id"] != first.json()["id"]
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    assert len(assistants_named(client, "idempotent-once")) == 2  # the repeat did no work


def test_a_repeated_stream_is_replayed_whole(sandbox: Sandbox) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}], "stream": True}
    first = post(sandbox, "/chat/completions", body, "stream-key")
    again = post(sandbox, "/chat/completions", body, "stream-key")
    assert first.content.endswith(b"data: [DONE]\n\n") and again.content == first.content


def test_an_error_answer_is_not_stored(sandbox: Sandbox, faults: Any) -> None:
    faults(path="/v1/assistants", method="POST", status=503)
    body = {"model": "gpt-4o-mini", "name": "idempotent-after-error"}
    assert post(sandbox, "/assistants", body, "error-key").status_code == 503
    assert post(sandbox, "/assistants", body, "error-key").status_code == 200


def test_a_post_that_timed_out_is_retried_and_done_once(sandbox: Sandbox, faults: Any) -> None:
    """The first attempt is held past the client's read timeout; the retry gets its answer.

    Two attempts are armed with the delay: without the key, the first is done by the time a third
    attempt goes out, so the listing would show two assistants.
    """
    faults(path="/v1/assistants", method="POST", delay=0.8, count=2)
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, timeout=(5.0, 0.5), max_retries=4,
                    honours_idempotency_key=True)
    client._requester.sleep = lambda seconds: None
    records: list[RequestRecord] = []
    client.listeners.append(records.append)
    created = client.assistants.create(model="gpt-4o-mini", name="idempotent-retry")
    assert records[0].attempts >= 2  # it was retried ...
    assert [a["id"] for a in assistants_named(client, "idempotent-retry")] == [created["id"]]  # ... and made once
