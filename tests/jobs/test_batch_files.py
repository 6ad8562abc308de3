"""The Batch API side of a job against a live sandbox: its input files split by every per-batch limit
(checked by a sandbox holding the same limits), its output files read back record by record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oai_magics.client import Client
from oai_magics.embeddings.batch_jobs import collect, submit
from oai_magics.jobs.batch_files import BatchLimits, LineTooLarge, jsonl_line, output_records, split_files
from oai_magics.jobs.store import Job, JobStore
from oai_magics.sandbox import start
from oai_magics.sandbox.batch_limits import BatchLimits as SandboxLimits


def test_a_batch_record_whose_text_holds_a_line_separator_is_read_whole(client: Client) -> None:
    # A text's U+2028, U+2029 and U+0085 stand raw inside its record's JSON; only "\n" ends a record.
    records = [{"custom_id": name, "response": {"body": {"text": f"before{separator}after"}}}
               for name, separator in (("ls", "\u2028"), ("ps", "\u2029"), ("nel", "\u0085"))]
    content = "".join(json.dumps(record, ensure_ascii=False) + "\r\n" for record in records).encode()
    upload = client.files.create(("out.jsonl", content), purpose="batch")
    job = Job(id="job-1", server=client.base_url, model="m", dimensions=None, texts=[],
              batches=[{"output_file_id": upload["id"]}])
    assert output_records(client, job) == records


def test_lines_are_split_by_every_batch_limit_and_each_batch_passes_a_server_holding_those_limits(tmp_path: Any) -> None:
    # Small limits, so each one is reached: 6 requests, 20 embedding inputs, 1,500 bytes per batch.
    limits = BatchLimits(requests=6, embedding_inputs=20, file_bytes=1500)
    texts = [f"text {i} " + "word " * (i % 9) for i in range(70)]
    with start(data_dir=tmp_path / "server", job_delay=0.01, batch_limits=SandboxLimits(6, 20, 1500)) as sandbox:
        client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
        store = JobStore(tmp_path / "jobs.sqlite")
        try:
            job = submit(client, store, texts, "text-embedding-3-small", dimensions=4, batch_size=8, limits=limits)
            matrix, failed = collect(client, store, job, wait=True, poll=0.02)
            inputs = [list(map(json.loads, batch_files(client, batch))) for batch in job.batches]
        finally:
            store.close()
            client.close()
    assert failed == [] and matrix.shape == (70, 4)
    assert {batch["status"] for batch in job.batches} == {"completed"}
    held = [sum(len(line["body"]["input"]) for line in lines) for lines in inputs]
    assert max(held) <= 20 and sum(held) == 70
    assert max(len(lines) for lines in inputs) <= 6


def test_chat_rows_are_split_by_request_count_and_bytes() -> None:
    lines = [jsonl_line({"custom_id": f"row-{i}", "body": {"x": "y" * (i % 50)}}) for i in range(40)]
    files = split_files(lines, BatchLimits(requests=7, file_bytes=400))
    assert b"".join(files) == b"".join(lines)
    assert all(len(f) <= 400 and f.count(b"\n") <= 7 for f in files)


def test_a_request_over_a_limit_by_itself_is_refused_in_one_line() -> None:
    with pytest.raises(LineTooLarge) as caught:
        split_files([b"x" * 50 + b"\n"], BatchLimits(file_bytes=40))
    assert "request 1 alone (51 bytes" in caught.value.line() and "--batch-size" in caught.value.line()


def batch_files(client: Client, batch: dict) -> list[str]:
    return client.files.content(batch["input_file_id"]).decode().splitlines()
