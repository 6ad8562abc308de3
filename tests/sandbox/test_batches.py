"""The sandbox's Batch API: its life cycle, output and error files, and every answer checked against
the 2026 spec. Batches advance when read, `job_delay` (0.2 s here) a stage."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests

from oai_magics.client import Client
from oai_magics.client.errors import BadRequestError
from oai_magics.sandbox import start
from oai_magics.sandbox.batch_limits import BatchLimits
from tests.helpers.openapi import spec

from .conftest import Answer, recording_client

TERMINAL = ("completed", "failed", "cancelled", "expired")


def line(custom_id: str, body: dict, url: str = "/v1/embeddings") -> bytes:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode() + b"\n"


def embedding_batch(api: Client, lines: int) -> str:
    """A batch of `lines` embedding requests ("r0", "r1", ...); its id."""
    content = b"".join(line(f"r{i}", {"model": "text-embedding-3-small", "input": f"text {i}", "dimensions": 4})
                       for i in range(lines))
    upload = api.files.create(("in.jsonl", content), purpose="batch")
    return api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings")["id"]


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


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_line_separator_inside_a_text_stays_in_its_line(api: Client, end: str) -> None:
    # JSON writes these raw inside a string; str.splitlines() would take each for a line end.
    texts = {"ls": "before\u2028after", "ps": "before\u2029after", "nel": "before\u0085after"}
    body = {"model": "text-embedding-3-small", "dimensions": 4, "encoding_format": "float"}
    content = "".join(json.dumps({"custom_id": key, "method": "POST", "url": "/v1/embeddings",
                                  "body": {**body, "input": text}}, ensure_ascii=False) + end
                      for key, text in texts.items()).encode()
    assert all(separator.encode() in content for separator in ("\u2028", "\u2029", "\u0085"))
    upload = api.files.create(("in.jsonl", content), purpose="batch")
    ended, _ = until_ended(api, api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings")["id"])
    assert ended["status"] == "completed", ended.get("errors")
    assert ended["request_counts"] == {"total": 3, "completed": 3, "failed": 0}
    records = [json.loads(raw) for raw in api.files.content(ended["output_file_id"]).split(b"\n") if raw]
    outputs = {record["custom_id"]: record for record in records}
    direct = api.embeddings.create(input=list(texts.values()), **body)["data"]
    # Each text arrived whole: its vector is the one the endpoint gives that very text.
    batched = [outputs[key]["response"]["body"]["data"][0]["embedding"] for key in texts]
    assert batched == [item["embedding"] for item in direct]


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


def test_the_sandbox_holds_a_batch_to_the_limits_the_spec_states() -> None:
    create = spec("2026").components["schemas"]["CreateBatchRequest"]["properties"]
    assert "up to 50,000 requests, and can be up to 200 MB in size" in create["input_file_id"]["description"]
    assert "maximum of 50,000 embedding inputs across all requests" in create["endpoint"]["description"]
    # 200 MB are binary: the API's own error names the limit as 209715200 bytes.
    assert BatchLimits() == BatchLimits(requests=50_000, embedding_inputs=50_000, file_bytes=209_715_200)


def test_a_batch_over_a_limit_fails_at_validation_naming_the_limit(tmp_path: Any) -> None:
    limits = BatchLimits(requests=4, embedding_inputs=5, file_bytes=1000)
    embedding = {"model": "text-embedding-3-small", "dimensions": 4}
    files = {  # each file exactly at its limit, then one over it
        "requests": [line(f"r{i}", {**embedding, "input": "x"}) for i in range(4)],
        "inputs": [line("a", {**embedding, "input": ["x", "y"]}), line("b", {**embedding, "input": [1, 2, 3]}),
                   line("c", {**embedding, "input": [[1], [2]]})],
        "bytes": [line("big", {**embedding, "input": "x" * (1000 - len(line("big", {**embedding, "input": ""})))})],
    }
    over = {"requests": line("r4", {**embedding, "input": "x"}), "inputs": line("d", {**embedding, "input": "w"}),
            "bytes": b"\n"}
    expected = {"requests": ("too_many_requests", "at most 4 requests; this file has 5"),
                "inputs": ("too_many_embedding_inputs", "at most 5 embedding inputs across all its requests; "
                                                        "this file has 6"),
                "bytes": ("file_too_large", "The batch input file is larger than the 1000 maximum for the "
                                            "text-embedding-3-small model. Please try again with a smaller batch.")}
    answers: list[Answer] = []
    with start(data_dir=tmp_path, job_delay=0.05, batch_limits=limits) as sandbox:
        api = recording_client(sandbox, answers)
        for name, lines in files.items():
            at_limit = b"".join(lines)
            for content, fits in ((at_limit, True), (at_limit + over[name], False)):
                upload = api.files.create(("in.jsonl", content), purpose="batch")
                batch = api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings")
                ended, _ = until_ended(api, batch["id"])
                if fits:
                    assert ended["status"] == "completed", (name, ended.get("errors"))
                else:
                    (error,) = ended["errors"]["data"]
                    assert ended["status"] == "failed" and error["code"] == expected[name][0], (name, error)
                    assert expected[name][1] in error["message"] and error["line"] is None
        api.close()
    for answer in answers:  # a file-wide error names no line, as the spec allows
        if answer.path.startswith("/batches"):
            assert spec("2026").response_errors(answer.method, answer.path, answer.status, answer.body) == []


def test_a_batch_still_running_when_its_window_closes_expires_with_its_lines_in_the_error_file(tmp_path: Any) -> None:
    answers: list[Answer] = []
    # The window (0.05 s) closes before the first stage ends (0.5 s): no line is ever answered.
    with start(data_dir=tmp_path, job_delay=0.5, batch_window=0.05) as sandbox:
        api = recording_client(sandbox, answers)
        content = b"".join(line(f"r{i}", {"model": "text-embedding-3-small", "input": f"text {i}"}) for i in range(3))
        upload = api.files.create(("in.jsonl", content), purpose="batch")
        ended, seen = until_ended(api, api.batches.create(input_file_id=upload["id"], endpoint="/v1/embeddings")["id"])
        assert ended["status"] == "expired" and ended["expired_at"] and "output_file_id" not in ended
        assert ended["request_counts"] == {"total": 3, "completed": 0, "failed": 3}
        errors = [json.loads(x) for x in api.files.content(ended["error_file_id"]).splitlines()]
        assert [e["custom_id"] for e in errors] == ["r0", "r1", "r2"]
        assert {e["error"]["code"] for e in errors} == {"batch_expired"} and errors[0]["response"] is None
        api.close()
    for answer in answers:
        if answer.path.startswith("/batches"):
            assert spec("2026").response_errors(answer.method, answer.path, answer.status, answer.body) == []


def test_other_requests_are_answered_while_a_large_batch_runs(tmp_path: Any) -> None:
    # With no stage delay the first read runs every line, so a read that sees "in_progress" was
    # answered while another request's handler was still answering the batch's lines.
    with start(data_dir=tmp_path, job_delay=0.0) as sandbox:
        clients = [Client(api_key=sandbox.api_key, base_url=sandbox.base_url, timeout=120) for _ in range(2)]
        batch_id = embedding_batch(clients[0], 3000)
        together = threading.Barrier(2, timeout=60)
        seen: list[list[str]] = [[], []]

        def read_until_ended(which: int) -> None:
            together.wait()
            for _ in range(10_000):  # bounded; each read either answers at once or runs the batch
                status = clients[which].batches.retrieve(batch_id)["status"]
                seen[which].append(status)
                if status in TERMINAL:
                    return

        readers = [threading.Thread(target=read_until_ended, args=(i,)) for i in range(2)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(timeout=120)
        assert not any(reader.is_alive() for reader in readers)
        assert seen[0][-1] == seen[1][-1] == "completed"
        assert "in_progress" in seen[0] + seen[1]
        for client in clients:
            client.close()


def test_a_cancel_that_arrives_while_the_lines_are_answered_wins_and_keeps_what_was_answered(tmp_path: Any) -> None:
    # No stage delay: the first read answers the lines. The first line is held (a sandbox fault)
    # until the test releases it, so the cancel lands while the batch is being processed.
    with start(data_dir=tmp_path, job_delay=0.0) as sandbox:
        clients = [Client(api_key=sandbox.api_key, base_url=sandbox.base_url, timeout=60) for _ in range(2)]
        batch_id = embedding_batch(clients[0], 3)
        armed = requests.post(sandbox.url + "/sandbox/faults", json={"path": "/v1/embeddings", "hold": 60}, timeout=10)
        assert armed.status_code == 200
        read: list[dict] = []
        reader = threading.Thread(target=lambda: read.append(clients[0].batches.retrieve(batch_id)))
        reader.start()
        try:
            assert requests.get(sandbox.url + "/sandbox/faults/held?wait=30", timeout=40).json()["held"] == 1
            assert clients[1].batches.cancel(batch_id)["status"] == "cancelling"
        finally:
            requests.post(sandbox.url + "/sandbox/faults/release", timeout=10)
            reader.join(timeout=60)
        assert not reader.is_alive() and read[0]["status"] == "cancelling"
        ended, seen = until_ended(clients[1], batch_id)
        assert ended["status"] == "cancelled" and ended["cancelled_at"] and "completed_at" not in ended
        # The held line was answered before the processing saw the cancel; the other two never were.
        assert ended["request_counts"] == {"total": 3, "completed": 1, "failed": 0}
        outputs = [json.loads(x) for x in clients[1].files.content(ended["output_file_id"]).splitlines()]
        assert [o["custom_id"] for o in outputs] == ["r0"]
        with pytest.raises(BadRequestError, match="Cannot cancel a batch with status 'cancelled'"):
            clients[1].batches.cancel(batch_id)
        for client in clients:
            client.close()
