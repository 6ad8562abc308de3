"""The Batch API side of a job: its request lines grouped into input files within every per-batch
limit the API states, uploaded (purpose `batch`) with a batch created for each, and the records of
its output and error files read back.

The limits (the 2026 spec, `CreateBatchRequest.input_file_id`): a file "can contain up to 50,000
requests, and can be up to 200 MB in size", and "`/v1/embeddings` batches are also restricted to a
maximum of 50,000 embedding inputs across all requests in the batch". The 200 MB are binary: the
API's own error names the limit as "larger than the 209715200 maximum", which is 200 x 1024 x 1024.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from ..client import Client
from ..client.tape import JOB_TAG
from ..local_errors import LocalError
from .store import Job

__all__ = ["BatchLimits", "LineTooLarge", "jsonl_line", "split_files", "send_lines", "output_records",
           "batch_records", "failure_reasons", "batch_ended"]


@dataclass(frozen=True)
class BatchLimits:
    """What one batch may hold; the defaults are the API's (see the module docstring)."""

    requests: int = 50_000  # request lines per input file
    embedding_inputs: int = 50_000  # inputs over all the requests of an embeddings batch
    file_bytes: int = 200 * 1024 * 1024  # bytes per input file: 209,715,200


class LineTooLarge(LocalError, ValueError):
    """One request is over a per-batch limit by itself: no split can send it."""


def jsonl_line(request: dict) -> bytes:
    """One request of a batch input file: its JSON on one line (text as it is, not \\u-escaped)."""
    return json.dumps(request, ensure_ascii=False).encode() + b"\n"


def split_files(lines: Sequence[bytes], limits: BatchLimits = BatchLimits(),
                inputs: Sequence[int] | None = None) -> list[bytes]:
    """The lines grouped, in order, into input files within the per-batch limits. `inputs` is how many
    embedding inputs each line holds (an embeddings job's); without it no line counts any."""
    counts = inputs if inputs is not None else [0] * len(lines)
    files: list[bytes] = []
    current: list[bytes] = []
    size = held = 0
    for number, (line, count) in enumerate(zip(lines, counts, strict=True)):
        if len(line) > limits.file_bytes or count > limits.embedding_inputs:
            raise LineTooLarge(f"request {number + 1} alone ({len(line):,} bytes, {count:,} inputs) is over a batch's "
                               f"limit of {limits.file_bytes:,} bytes or {limits.embedding_inputs:,} inputs",
                               hint="send fewer or shorter texts in each request (--batch-size)")
        if current and (len(current) >= limits.requests or size + len(line) > limits.file_bytes
                        or held + count > limits.embedding_inputs):
            files.append(b"".join(current))
            current, size, held = [], 0, 0
        current.append(line)
        size += len(line)
        held += count
    if current:
        files.append(b"".join(current))
    return files


def send_lines(client: Client, job: Job, lines: Sequence[bytes], limits: BatchLimits,
               inputs: Sequence[int] | None = None) -> None:
    """Upload the request lines as files within the per-batch limits (`inputs`: see `split_files`)
    and create a batch for each."""
    for content in split_files(lines, limits, inputs):
        upload = client.files.create((f"{job.id}-{len(job.batches) + 1}.jsonl", content), purpose="batch")
        batch = client.batches.create(input_file_id=upload["id"], endpoint=job.endpoint, completion_window="24h",
                                      metadata={JOB_TAG: job.id})
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
            reasons.append(batch_ended(batch))
        if len(reasons) < limit:
            for record in batch_records(client, batch, "error_file_id"):
                error = ((record.get("response") or {}).get("body") or {}).get("error") or record.get("error") or {}
                reasons.append(f"{record.get('custom_id')}: {error.get('message', 'failed')}")
                if len(reasons) >= limit:
                    break
    return reasons[:limit]


def batch_ended(batch: dict) -> str:
    """Why a batch ended without completing, in one line: its status and the first of its errors
    (a batch over one of the server's limits says which), as the server gave them."""
    errors = (batch.get("errors") or {}).get("data") or []
    first = errors[0].get("message") or errors[0].get("code") if errors and isinstance(errors[0], dict) else None
    return f"batch {batch.get('id')} {batch.get('status')}" + (f" ({' '.join(str(first).split())})" if first else "")


def _records(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode("utf-8").split("\n") if line.strip()]  # not at U+2028
