"""Embedding jobs handed to the Batch API, remembered across kernel restarts.

`submit()` writes the JSONL of embedding requests (each line one request of up to 2,048 inputs,
its `custom_id` naming the rows it holds), splits it over the API's per-batch limits (requests per
batch, file size), uploads each file (purpose `batch`), creates the batches and records the job in
the cache database. `collect()` downloads the output and error files and assembles the matrix in
input order, filling the cache; rows whose requests failed are reported and `resend()` sends them
again as a new batch of the same job.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..client import APIError, Client
from ..client.resources.embeddings import decode_matrix
from .cache import EmbeddingCache
from .direct import RowMatrix, row_spans
from .planning import MAX_ITEMS, plan_batches

__all__ = ["JobStore", "Job", "submit", "refresh", "collect", "resend", "JobNotReady", "MAX_REQUESTS", "MAX_FILE_BYTES",
           "send_lines", "until_finished", "output_records", "JOB_COLUMNS"]

MAX_REQUESTS = 50_000  # requests per batch
MAX_FILE_BYTES = 200 * 1024 * 1024  # bytes per batch input file
ENDPOINT = "/v1/embeddings"
CHAT_ENDPOINT = "/v1/chat/completions"
TERMINAL = ("completed", "failed", "cancelled", "expired")
# What each kind of job is called, what its inputs are, and the magic that collects it.
KINDS = {"embeddings": ("embedding job", "texts", "%embed --collect"),
         "chat": ("%%chat --each job", "rows", "%chat --collect")}
# One listing for both kinds (`%embed --jobs`): `inputs` counts the texts or the rows.
JOB_COLUMNS = ["job", "kind", "status", "inputs", "model", "batches", "requests", "completed", "failed", "created",
               "server", "collect"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY, created REAL NOT NULL, server TEXT NOT NULL, record TEXT NOT NULL
)
"""


class JobNotReady(Exception):
    """The job's batches are still running (collect with wait=True to block until they end)."""


@dataclass
class Job:
    """One `%embed --batch` or `%%chat --each --batch`: the inputs, and the batches that carry them."""

    id: str
    server: str
    model: str
    dimensions: int | None
    texts: list  # the texts to embed, or one prompt per row (None: a row already answered)
    index: list | None = None
    batches: list[dict] = field(default_factory=list)  # {"id", "status", "request_counts", ...} as last seen
    created: float = field(default_factory=time.time)
    kind: str = "embeddings"  # or "chat"
    extra: dict = field(default_factory=dict)  # what a chat job needs to rebuild its frame

    @property
    def endpoint(self) -> str:
        return CHAT_ENDPOINT if self.kind == "chat" else ENDPOINT

    @property
    def status(self) -> str:
        states = {b.get("status") for b in self.batches}
        if not states:
            return "empty"
        if states <= set(TERMINAL):
            return "completed" if states == {"completed"} else "ended with " + ", ".join(sorted(states))
        return "in_progress" if "in_progress" in states or "finalizing" in states else sorted(states - set(TERMINAL))[0]

    @property
    def finished(self) -> bool:
        return all(b.get("status") in TERMINAL for b in self.batches)

    def counts(self) -> dict[str, int]:
        total = {"total": 0, "completed": 0, "failed": 0}
        for batch in self.batches:
            for key in total:
                total[key] += int((batch.get("request_counts") or {}).get(key) or 0)
        return total

    @property
    def collect_command(self) -> str:
        return f"{KINDS[self.kind][2]} {self.id}"

    def row(self) -> dict[str, Any]:
        """The job's line in the listing (JOB_COLUMNS)."""
        counts = self.counts()
        return {"job": self.id, "kind": self.kind, "status": self.status, "inputs": len(self.texts), "model": self.model,
                "batches": len(self.batches), "requests": counts["total"], "completed": counts["completed"],
                "failed": counts["failed"], "created": self.created, "server": self.server,
                "collect": self.collect_command}

    def __repr__(self) -> str:
        name, inputs, _ = KINDS[self.kind]
        return (f"<{name} {self.id}: {len(self.texts)} {inputs} in {len(self.batches)} batch(es), {self.status}; "
                f"collect with {self.collect_command}>")


class JobStore:
    """The jobs of every kernel, in the cache's SQLite file."""

    def __init__(self, path: Any) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def save(self, job: Job) -> None:
        record = json.dumps({k: v for k, v in job.__dict__.items() if k not in ("id", "created", "server")})
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO batch_jobs VALUES (?, ?, ?, ?)", (job.id, job.created, job.server, record))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            found = self._db.execute("SELECT id, created, server, record FROM batch_jobs WHERE id=?", (job_id,)).fetchone()
        return _job(*found) if found else None

    def all(self) -> list[Job]:
        with self._lock:
            rows = self._db.execute("SELECT id, created, server, record FROM batch_jobs ORDER BY created").fetchall()
        return [_job(*row) for row in rows]


def _job(job_id: str, created: float, server: str, record: str) -> Job:
    return Job(id=job_id, created=created, server=server, **json.loads(record))


def request_lines(texts: Sequence[str], rows: Sequence[int], model: str, dimensions: int | None,
                  batch_size: int = MAX_ITEMS) -> list[bytes]:
    """One JSONL line per request; `custom_id` "rows-<first>-<last>" when rows run on, else the list."""
    lines = []
    extra = {"dimensions": dimensions} if dimensions else {}
    chosen = [texts[r] for r in rows]
    for part in plan_batches(chosen, max_items=max(1, min(batch_size, MAX_ITEMS))):
        span = list(rows[part.start:part.stop])
        custom_id = (f"rows-{span[0]}-{span[-1]}" if span[-1] - span[0] + 1 == len(span)
                     else "rows:" + ",".join(map(str, span)))
        body = {"model": model, "input": chosen[part.start:part.stop], "encoding_format": "base64", **extra}
        lines.append(json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body},
                                ensure_ascii=False).encode() + b"\n")
    return lines


def rows_of(custom_id: str) -> list[int]:
    if custom_id.startswith("rows-"):
        first, last = custom_id[5:].split("-")
        return list(range(int(first), int(last) + 1))
    if custom_id.startswith("rows:"):
        return [int(r) for r in custom_id[5:].split(",")]
    raise ValueError(f"not a row id: {custom_id!r}")


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


def _send(client: Client, job: Job, rows: Sequence[int], batch_size: int, limits: tuple[int, int]) -> None:
    """Upload and create the batches carrying `rows` of the job."""
    send_lines(client, job, request_lines(job.texts, rows, job.model, job.dimensions, batch_size), limits)


def send_lines(client: Client, job: Job, lines: Sequence[bytes], limits: tuple[int, int]) -> None:
    """Upload the request lines as files within the per-batch limits and create a batch for each."""
    for content in split_files(lines, *limits):
        upload = client.files.create((f"{job.id}-{len(job.batches) + 1}.jsonl", content), purpose="batch")
        batch = client.batches.create(input_file_id=upload["id"], endpoint=job.endpoint, completion_window="24h",
                                      metadata={"oai_magics_job": job.id})
        job.batches.append(batch)


def submit(client: Client, store: JobStore, texts: Sequence[str], model: str, *, dimensions: int | None = None,
           index: Sequence | None = None, cache: EmbeddingCache | None = None, batch_size: int = MAX_ITEMS,
           limits: tuple[int, int] = (MAX_REQUESTS, MAX_FILE_BYTES)) -> Job:
    """Send the texts the cache does not hold as Batch API jobs; returns at once."""
    texts = list(texts)
    job = Job(id="job-" + secrets.token_hex(4), server=client.base_url, model=model, dimensions=dimensions, texts=texts,
              index=_jsonable(index))
    todo = cache.missing(client.base_url, model, dimensions, texts) if cache else list(range(len(texts)))
    if todo:
        _send(client, job, todo, batch_size, limits)
    store.save(job)
    return job


def refresh(client: Client, store: JobStore, job: Job) -> Job:
    """Ask the server how each unfinished batch is doing."""
    job.batches = [b if b.get("status") in TERMINAL else client.batches.retrieve(b["id"]) for b in job.batches]
    store.save(job)
    return job


def until_finished(client: Client, store: JobStore, job: Job, *, wait: bool = False, poll: float = 0.5,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once every batch of the job has ended; without `wait`, raise JobNotReady if one has not."""
    interval = poll
    while not refresh(client, store, job).finished:
        if not wait:
            counts = job.counts()
            raise JobNotReady(f"job {job.id} is {job.status} ({counts['completed']} of {counts['total']} requests done); "
                              f"collect it later, or add --wait to block until it ends")
        sleep(interval)
        interval = min(interval * 1.5, 30.0)


def output_records(client: Client, job: Job, field: str = "output_file_id") -> list[dict]:
    """Every record of the job's output files (or, with "error_file_id", of its error files)."""
    return [record for batch in job.batches if batch.get(field) for record in _records(client.files.content(batch[field]))]


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


def failure_reasons(client: Client, job: Job, limit: int = 3) -> list[str]:
    """A few of the errors the server gave for failed requests, as one-line texts."""
    reasons = []
    for batch in job.batches:
        if batch.get("status") != "completed":
            reasons.append(f"batch {batch['id']} {batch.get('status')}")
        if batch.get("error_file_id") and len(reasons) < limit:
            for record in _records(client.files.content(batch["error_file_id"])):
                error = ((record.get("response") or {}).get("body") or {}).get("error") or record.get("error") or {}
                reasons.append(f"{record.get('custom_id')}: {error.get('message', 'failed')}")
                if len(reasons) >= limit:
                    break
    return reasons[:limit]


def resend(client: Client, store: JobStore, job: Job, rows: Sequence[int], batch_size: int = MAX_ITEMS) -> Job:
    """Send the failed rows again, as a new batch of the same job."""
    _send(client, job, list(rows), batch_size, (MAX_REQUESTS, MAX_FILE_BYTES))
    store.save(job)
    return job


def describe_failure(job: Job, failed: list[int], reasons: list[str]) -> str:
    return (f"job {job.id}: {len(failed)} of {len(job.texts)} rows failed ({row_spans(failed)})"
            + (f": {'; '.join(reasons)}" if reasons else "")
            + f"; send them again with %embed --collect {job.id} --resend")


def _records(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode("utf-8").split("\n") if line.strip()]  # not at U+2028


def _jsonable(index: Sequence | None) -> list | None:
    if index is None:
        return None
    values = index.tolist() if hasattr(index, "tolist") else list(index)
    try:
        json.dumps(values)
    except (TypeError, ValueError):
        return None
    return values
