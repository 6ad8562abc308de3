"""Batch API jobs of every kind (embeddings, `%%chat --each` rows), remembered across kernel restarts.

A `Job` is what was handed to the Batch API: its inputs, the batches that carry them as last seen,
and what its kind needs to rebuild the result. `JobStore` keeps them in one SQLite table (in the
embedding cache's file); `open_store()` is the one way the magics open it.

Two kernels may work on one job at once (one collects it while the other sends its failed rows
again). Each holds the job as it read it, so a save never writes that copy over the stored one: in
one transaction it reads the stored batches and merges its own into them, batch by batch (a batch
another kernel added is kept, a batch that has ended never goes back to running).

A finished job leaves the listing (`current()`) 30 days after it was sent: by then the API has
deleted its output files (`output_expires_after` is at most 2,592,000 s), so it cannot be collected.

A job's server is its base URL without user info (`https://***@host/v1`): a gateway's token
written into the URL is neither stored nor shown. Jobs an earlier version stored with it are
rewritten so when the file is first opened.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..client.urls import without_userinfo
from ..sqlite_store import connect, forget_userinfo, migrate, transaction

__all__ = ["Job", "JobStore", "open_store", "job_listing", "new_job_id", "TERMINAL", "KINDS", "JOB_COLUMNS", "ENDPOINTS",
           "EXPIRY"]

TERMINAL = ("completed", "failed", "cancelled", "expired")
EXPIRY = 30 * 24 * 3600.0  # seconds after which a finished job is forgotten: its files are gone at the server
# The endpoint each kind of job sends its requests to.
ENDPOINTS = {"embeddings": "/v1/embeddings", "chat": "/v1/chat/completions"}
# What each kind of job is called, what its inputs are, and the magic that collects it.
KINDS = {"embeddings": ("embedding job", "texts", "%embed --collect"),
         "chat": ("%%chat --each job", "rows", "%chat --collect")}
# One listing for every kind (`%oai jobs`): `inputs` counts the texts or the rows.
JOB_COLUMNS = ["job", "kind", "status", "inputs", "model", "batches", "requests", "completed", "failed", "created",
               "server", "collect"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY, created REAL NOT NULL, server TEXT NOT NULL, record TEXT NOT NULL
)
"""


def new_job_id() -> str:
    return "job-" + secrets.token_hex(4)


@dataclass
class Job:
    """One `%embed --batch` or `%%chat --each --batch`: the inputs, and the batches that carry them."""

    id: str
    server: str
    model: str
    dimensions: int | None
    texts: list  # the texts to embed, or one prompt per row (None: a row already answered)
    index: dict | list | None = None  # the texts' index (jobs.job_frames.encode_index; a list: older jobs)
    batches: list[dict] = field(default_factory=list)  # {"id", "status", "request_counts", ...} as last seen
    created: float = field(default_factory=time.time)
    kind: str = "embeddings"  # or "chat"
    extra: dict = field(default_factory=dict)  # what a chat job needs to rebuild its frame

    def __post_init__(self) -> None:
        self.server = without_userinfo(self.server)  # never a token, in memory, on disk or on screen

    @property
    def endpoint(self) -> str:
        return ENDPOINTS[self.kind]

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
        self._db = connect(path, _SCHEMA)
        migrate(self._db, {"batch_jobs: no user info in server URLs": forget_userinfo("batch_jobs")})

    def close(self) -> None:
        self._db.close()

    def save(self, job: Job) -> None:
        """Store the job, its batches merged with the stored ones (see the module docstring); `job`
        then holds the merged batches, those another kernel added included."""
        with self._lock, transaction(self._db) as db:
            found = db.execute("SELECT record FROM batch_jobs WHERE id=?", (job.id,)).fetchone()
            if found:
                job.batches = merge_batches(json.loads(found[0]).get("batches") or [], job.batches)
            record = json.dumps({k: v for k, v in job.__dict__.items() if k not in ("id", "created", "server")})
            db.execute("INSERT OR REPLACE INTO batch_jobs VALUES (?, ?, ?, ?)", (job.id, job.created, job.server, record))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            found = self._db.execute("SELECT id, created, server, record FROM batch_jobs WHERE id=?", (job_id,)).fetchone()
        return _job(*found) if found else None

    def all(self) -> list[Job]:
        with self._lock:
            rows = self._db.execute("SELECT id, created, server, record FROM batch_jobs ORDER BY created").fetchall()
        return [_job(*row) for row in rows]

    def current(self, now: float | None = None) -> list[Job]:
        """Every job but the finished ones sent more than EXPIRY ago, which are forgotten here."""
        jobs = self.all()
        cutoff = (time.time() if now is None else now) - EXPIRY
        expired = {job.id for job in jobs if job.finished and job.created < cutoff}
        if expired:
            with self._lock, transaction(self._db) as db:
                db.executemany("DELETE FROM batch_jobs WHERE id=?", [(job_id,) for job_id in expired])
        return [job for job in jobs if job.id not in expired]

    def forget(self, job_id: str) -> bool:
        """Remove the job from the store (its batches and files at the server are left as they are)."""
        with self._lock:
            return self._db.execute("DELETE FROM batch_jobs WHERE id=?", (job_id,)).rowcount > 0


def merge_batches(stored: list[dict], mine: list[dict]) -> list[dict]:
    """The stored batches in their order, each replaced by my copy of it unless mine is older (it
    is still running where the stored one has ended), then the batches only I hold."""
    by_id = {batch["id"]: batch for batch in mine}
    merged = []
    for batch in stored:
        newer = by_id.pop(batch["id"], batch)
        ended_here = batch.get("status") in TERMINAL and newer.get("status") not in TERMINAL
        merged.append(batch if ended_here else newer)
    return merged + list(by_id.values())


@contextlib.contextmanager
def open_store(path: Path) -> Iterator[JobStore]:
    """The Batch API jobs of every kernel (embedding and chat alike) in the file at `path`, its folder
    made if need be; closed afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = JobStore(path)
    try:
        yield store
    finally:
        store.close()


def job_listing(jobs: list[Job]) -> Any:
    """The jobs as one DataFrame (JOB_COLUMNS), `created` as UTC datetimes; pandas loads on first use."""
    import pandas as pd

    frame = pd.DataFrame([job.row() for job in jobs], columns=JOB_COLUMNS)
    frame["created"] = pd.to_datetime(frame["created"], unit="s", utc=True)
    return frame


def _job(job_id: str, created: float, server: str, record: str) -> Job:
    return Job(id=job_id, created=created, server=server, **json.loads(record))
