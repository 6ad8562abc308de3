"""The sandbox's Batch API: its life cycle, output and error files, and every answer checked against
the 2026 spec. Batches advance when read, `job_delay` (0.2 s here) a stage."""

from __future__ import annotations

import json
import threading

import pytest

from oai_magics.client import Client
from oai_magics.client.errors import BadRequestError
from tests.helpers.openapi import spec

from .conftest import Answer

TERMINAL = ("completed", "failed", "cancelled", "expired")


def line(custom_id: str, body: dict, url: str = "/v1/embeddings") -> bytes:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode() + b"\n"


def until_ended(api: Client, batch_id: str) -> tuple[dict, list[str]]:
    """Poll on the sandbox's own clock (each stage ends after job_delay); the states seen in order."""
    seen: list[str] = []
    ended = threading.Event()
    for _ in range(400):  # bounded: 400 x 0.05 s
        batch = api.batches.retrieve(batch_id)
        if not seen or seen[-1] != batch["status"]:
            seen.append(batch["status"])
        if batch["status"] in TERMINAL:
            return batch, seen
        ended.wait(0.05)
    raise AssertionError(f"batch never ended: {seen}")


def test_a_batch_runs_every_line_and_files_its_answers_and_errors(api: Client, answers: list[Answer]) -> None:
    content = (line("a", {"model": "text-embedding-3-small", "input": ["one", "two"], "dimensions": 4})
               + line("b", {"model": "no-such-model", "input": "three"})
               + line("c", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                      "/v1/chat/completions"))
    upload = api.files.create(("in.jsonl", content), purpose="batch")
    batch = api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings", metadata={"k": "v"})
    assert batch["status"] == "validating" and batch["metadata"] == {"k": "v"}
    ended, seen = until_ended(api, batch["id"])
    # The chat line names another endpoint: the whole file is refused at validation.
    assert ended["status"] == "failed" and ended["errors"]["data"][0]["code"] == "mismatched_endpoint"
    assert ended["errors"]["data"][0]["line"] == 3

    upload = api.files.create(("in.jsonl", content.rsplit(b"\n", 2)[0] + b"\n"), purpose="batch")
    batch = api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings")
    ended, seen = until_ended(api, batch["id"])
    assert seen[0] == "validating" and seen[-1] == "completed" and set(seen) <= {"validating", "in_progress",
                                                                                "finalizing", "completed"}
    assert ended["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    outputs = [json.loads(x) for x in api.files.content(ended["output_file_id"]).splitlines()]
    errors = [json.loads(x) for x in api.files.content(ended["error_file_id"]).splitlines()]
    assert [o["custom_id"] for o in outputs] == ["a"] and len(outputs[0]["response"]["body"]["data"]) == 2
    assert errors[0]["custom_id"] == "b" and errors[0]["response"]["status_code"] == 404
    assert [b["id"] for b in api.batches.list(limit=100)][:1] == [batch["id"]]
    for answer in answers:
        if answer.path.startswith("/batches"):
            assert spec("2026").response_errors(answer.method, answer.path, answer.status, answer.body) == []


def test_a_malformed_file_fails_and_a_cancelled_batch_ends_cancelled(api: Client) -> None:
    upload = api.files.create(("bad.jsonl", b'{"custom_id": "x", "method": "POST"\nnot json\n'), purpose="batch")
    failed, _ = until_ended(api, api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings")["id"])
    assert failed["status"] == "failed" and failed["errors"]["data"][0]["code"] == "invalid_json_line"

    good = api.files.create(("ok.jsonl", line("a", {"model": "text-embedding-3-small", "input": "x"})), purpose="batch")
    batch = api.batches.create(input_file_id=good["id"], endpoint="/v1/embeddings")
    assert api.batches.cancel(batch["id"])["status"] == "cancelling"
    ended, seen = until_ended(api, batch["id"])
    assert seen[-2:] == ["cancelling", "cancelled"] and ended["cancelled_at"] and "output_file_id" not in ended
    with pytest.raises(BadRequestError, match="Cannot cancel a batch with status 'cancelled'"):
        api.batches.cancel(batch["id"])


def test_a_batch_needs_a_batch_file_a_known_endpoint_and_the_24h_window(api: Client) -> None:
    upload = api.files.create(("ok.jsonl", line("a", {"model": "text-embedding-3-small", "input": "x"})), purpose="batch")
    other = api.files.create(("a.txt", b"hello"), purpose="assistants")
    with pytest.raises(BadRequestError, match="purpose 'batch'"):
        api.batches.create(input_file_id=other["id"], endpoint="/v1/embeddings")
    with pytest.raises(BadRequestError, match="Supported values are"):
        api.batches.create(input_file_id=upload["id"], endpoint="/v1/images/generations")
    with pytest.raises(BadRequestError, match="'24h'"):
        api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings", completion_window="1h")
