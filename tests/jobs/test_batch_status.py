"""How often a job's batches are asked about while a collection waits for them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from oai_magics.jobs.batch_status import JOB_POLL_CAP, until_finished
from oai_magics.jobs.store import Job, JobStore


def test_a_waiting_collection_polls_on_the_one_schedule_up_to_thirty_seconds(tmp_path: Path) -> None:
    """The job's loop takes its waits from the client's poll schedule: the given first wait, doubling,
    capped at half a minute (a batch runs for minutes to hours)."""
    looks = iter(["in_progress"] * 10 + ["completed"])
    batches = SimpleNamespace(retrieve=lambda batch_id: {"id": batch_id, "status": next(looks)})
    store = JobStore(tmp_path / "jobs.sqlite")
    job = Job(id="job_1", server="http://127.0.0.1:1/v1", model="m", dimensions=None, texts=["a"],
              batches=[{"id": "batch_1", "status": "in_progress"}])
    waits: list[float] = []
    client = SimpleNamespace(batches=batches, wait_time=lambda seconds: seconds)  # as live: each wait as long as asked
    until_finished(client, store, job, wait=True, poll=0.5, sleep=waits.append)
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert waits[-3:] == [JOB_POLL_CAP] * 3 and JOB_POLL_CAP == 30.0
    assert job.finished
    store.close()
