"""Embedding jobs handed to the Batch API (the job layer keeps them across kernel restarts).

`submit()` writes the JSONL of embedding requests (each line one request of up to 2,048 inputs,
its `custom_id` naming the rows it holds) and sends it through `jobs.batch_files`, which splits it
over the API's per-batch limits (the inputs of each line counted, for the limit on an embeddings
batch's inputs). `collect()` reads the output files and assembles the matrix in
input order, filling the cache; rows whose requests failed are reported and `resend()` sends them
again as a new batch of the same job. The index the texts came with is kept as `%%chat --each`
jobs keep their frames (`jobs.job_frames`), so it comes back exactly: a DatetimeIndex, a MultiIndex.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np

from ..client import APIError, Client
from ..client.resources.embeddings import decode_matrix
from ..jobs.batch_files import BatchLimits, jsonl_line, output_records, send_lines
from ..jobs.batch_status import until_finished
from ..jobs.job_frames import decode_index, encode_index
from ..jobs.store import ENDPOINTS, Job, JobStore, new_job_id
from .cache import EmbeddingCache
from .direct import RowMatrix, row_spans
from .planning import MAX_ITEMS, plan_batches

__all__ = ["submit", "collect", "resend", "describe_failure", "job_index"]

ENDPOINT = ENDPOINTS["embeddings"]


def request_lines(texts: Sequence[str], rows: Sequence[int], model: str, dimensions: int | None,
                  batch_size: int = MAX_ITEMS) -> tuple[list[bytes], list[int]]:
    """(one JSONL line per request, how many inputs each holds); `custom_id` "rows-<first>-<last>"
    when rows run on, else the list."""
    lines, inputs = [], []
    extra = {"dimensions": dimensions} if dimensions else {}
    chosen = [texts[r] for r in rows]
    for part in plan_batches(chosen, max_items=max(1, min(batch_size, MAX_ITEMS))):
        span = list(rows[part.start:part.stop])
        custom_id = (f"rows-{span[0]}-{span[-1]}" if span[-1] - span[0] + 1 == len(span)
                     else "rows:" + ",".join(map(str, span)))
        body = {"model": model, "input": chosen[part.start:part.stop], "encoding_format": "base64", **extra}
        lines.append(jsonl_line({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}))
        inputs.append(part.size)
    return lines, inputs


def rows_of(custom_id: str) -> list[int]:
    if custom_id.startswith("rows-"):
        first, last = custom_id[5:].split("-")
        return list(range(int(first), int(last) + 1))
    if custom_id.startswith("rows:"):
        return [int(r) for r in custom_id[5:].split(",")]
    raise ValueError(f"not a row id: {custom_id!r}")


def _send(client: Client, job: Job, rows: Sequence[int], batch_size: int, limits: BatchLimits) -> None:
    """Upload and create the batches carrying `rows` of the job."""
    lines, inputs = request_lines(job.texts, rows, job.model, job.dimensions, batch_size)
    send_lines(client, job, lines, limits, inputs)


def submit(client: Client, store: JobStore, texts: Sequence[str], model: str, *, dimensions: int | None = None,
           index: Sequence | None = None, cache: EmbeddingCache | None = None, batch_size: int = MAX_ITEMS,
           limits: BatchLimits = BatchLimits()) -> Job:
    """Send the texts the cache does not hold as Batch API jobs; returns at once."""
    texts = list(texts)
    job = Job(id=new_job_id(), server=client.base_url, model=model, dimensions=dimensions, texts=texts,
              index=encode_index(index) if index is not None else None)
    todo = cache.missing(client.base_url, model, dimensions, texts) if cache else list(range(len(texts)))
    if todo:
        _send(client, job, todo, batch_size, limits)
    store.save(job)
    return job


def collect(client: Client, store: JobStore, job: Job, *, cache: EmbeddingCache | None = None, wait: bool = False,
            poll: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> tuple[np.ndarray, list[int]]:
    """(the matrix in input order, NaN rows where requests failed; the failed rows). Fills the cache."""
    until_finished(client, store, job, wait=wait, poll=poll, sleep=sleep)
    matrix = RowMatrix(len(job.texts))
    if cache is not None:  # rows served from the cache when the job was sent
        cache.fill(job.server, job.model, job.dimensions, job.texts, matrix.put)
    for record in output_records(client, job):
        body = (record.get("response") or {}).get("body") or {}
        rows = rows_of(record["custom_id"])
        try:  # a record whose vectors do not fit its rows leaves them failed, to be sent again
            block = decode_matrix(body.get("data") or [], f"batch record {record['custom_id']}")
        except APIError:
            continue
        if block.shape[0] != len(rows):
            continue
        matrix.put(rows, block)
        if cache is not None:
            cache.store(job.server, job.model, job.dimensions, [job.texts[r] for r in rows], block)
    failed = [int(r) for r in np.flatnonzero(~matrix.filled)]
    return matrix.result(), failed


def resend(client: Client, store: JobStore, job: Job, rows: Sequence[int], batch_size: int = MAX_ITEMS,
           limits: BatchLimits = BatchLimits()) -> Job:
    """Send the failed rows again, as a new batch of the same job."""
    _send(client, job, list(rows), batch_size, limits)
    store.save(job)
    return job


def describe_failure(job: Job, failed: list[int], reasons: list[str]) -> str:
    return (f"job {job.id}: {len(failed)} of {len(job.texts)} rows failed ({row_spans(failed)})"
            + (f": {'; '.join(reasons)}" if reasons else "")
            + f"; send them again with %embed --collect {job.id} --resend")


def job_index(job: Job) -> Any:
    """The index the job's texts came with, as it was given; None for the default one. A job stored
    by an earlier version holds a plain list of labels, read as it was written."""
    if isinstance(job.index, dict):
        return decode_index(job.index)
    return job.index if job.index is not None and len(job.index) == len(job.texts) else None
