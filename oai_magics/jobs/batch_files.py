"""The Batch API side of a job: its request lines grouped into input files within the per-batch
limits (requests per batch, file size), uploaded (purpose `batch`) with a batch created for each,
and the records of its output and error files read back."""

from __future__ import annotations

import json
from typing import Sequence

from ..client import Client
from .store import Job

__all__ = ["jsonl_line", "split_files", "send_lines", "output_records", "batch_records", "failure_reasons",
           "MAX_REQUESTS", "MAX_FILE_BYTES"]

MAX_REQUESTS = 50_000  # requests per batch
MAX_FILE_BYTES = 200 * 1024 * 1024  # bytes per batch input file


def jsonl_line(request: dict) -> bytes:
    """One request of a batch input file: its JSON on one line (text as it is, not \\u-escaped)."""
    return json.dumps(request, ensure_ascii=False).encode() + b"\n"


def split_files(lines: Sequence[bytes], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_FILE_BYTES) -> list[bytes]:
    """The lines grouped into input files within the per-batch limits."""
    files, current, size = [], [], 0
    for line in lines:
        if current and (len(current) >= max_requests or size + len(line) > max_bytes):
            files.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        files.append(b"".join(current))
    return files


def send_lines(client: Client, job: Job, lines: Sequence[bytes], limits: tuple[int, int]) -> None:
    """Upload the request lines as files within the per-batch limits and create a batch for each."""
    for content in split_files(lines, *limits):
        upload = client.files.create((f"{job.id}-{len(job.batches) + 1}.jsonl", content), purpose="batch")
        batch = client.batches.create(input_file_id=upload["id"], endpoint=job.endpoint, completion_window="24h",
                                      metadata={"oai_magics_job": job.id})
        job.batches.append(batch)


def output_records(client: Client, job: Job, field: str = "output_file_id") -> list[dict]:
    """Every record of the job's output files (or, with "error_file_id", of its error files)."""
    return [record for batch in job.batches for record in batch_records(client, batch, field)]


def batch_records(client: Client, batch: dict, field: str = "output_file_id") -> list[dict]:
    """The records of one batch's output file (or, with "error_file_id", of its error file); none if it has none."""
    return _records(client.files.content(batch[field])) if batch.get(field) else []


def failure_reasons(client: Client, job: Job, limit: int = 3) -> list[str]:
    """A few of the errors the server gave for failed requests, as one-line texts."""
    reasons = []
    for batch in job.batches:
        if batch.get("status") != "completed":
            reasons.append(f"batch {batch['id']} {batch.get('status')}")
        if len(reasons) < limit:
            for record in batch_records(client, batch, "error_file_id"):
                error = ((record.get("response") or {}).get("body") or {}).get("error") or record.get("error") or {}
                reasons.append(f"{record.get('custom_id')}: {error.get('message', 'failed')}")
                if len(reasons) >= limit:
                    break
    return reasons[:limit]


def _records(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode("utf-8").split("\n") if line.strip()]  # not at U+2028
