"""How a job's batches are doing: asked of the server, and waited for until every one has ended."""

from __future__ import annotations

import time
from typing import Callable

from ..client import Client
from ..client.polling import poll_delays
from ..local_errors import LocalError
from .store import TERMINAL, Job, JobStore

__all__ = ["refresh", "until_finished", "JobNotReady", "JOB_POLL_CAP"]

JOB_POLL_CAP = 30.0  # seconds: a batch takes minutes to hours, so at most two looks a minute


class JobNotReady(LocalError):
    """The job's batches are still running (collect with wait=True to block until they end)."""


def refresh(client: Client, store: JobStore, job: Job) -> Job:
    """Ask the server how each unfinished batch is doing."""
    job.batches = [b if b.get("status") in TERMINAL else client.batches.retrieve(b["id"]) for b in job.batches]
    store.save(job)
    return job


def until_finished(client: Client, store: JobStore, job: Job, *, wait: bool = False, poll: float = 0.5,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once every batch of the job has ended; without `wait`, raise JobNotReady if one has not."""
    intervals = poll_delays(cap=JOB_POLL_CAP, first=poll)
    while not refresh(client, store, job).finished:
        if not wait:
            counts = job.counts()
            raise JobNotReady(f"job {job.id} is {job.status} ({counts['completed']} of {counts['total']} requests done); "
                              f"collect it later, or add --wait to block until it ends")
        sleep(client.wait_time(next(intervals)))
