"""The Batch API job store: records that two kernels share safely, and no secret in them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from oai_magics.jobs.store import EXPIRY, Job, JobStore, merge_batches
from tests.helpers.together import run_together

# A kernel that read the job before the other changed it: kernel "a" sends rows again (a new batch
# each round), kernel "b" sees the first batch end and saves its copy each round. Each saves the
# job as it holds it, as `resend` and `refresh` do.
KERNEL = """
import sys
from oai_magics.jobs.store import JobStore
path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = JobStore(path)
job = store.get("job-shared")
print("ready", flush=True)
sys.stdin.readline()
for i in range(rounds):
    if name == "a":
        job.batches.append({"id": f"batch_a_{i}", "status": "validating"})
    else:
        job.batches[0] = {"id": "batch_0", "status": "completed", "round": i}
    store.save(job)
store.close()
"""
ROUNDS = 25


def test_two_kernels_saving_one_job_keep_every_batch_and_every_status(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    store.save(Job(id="job-shared", server="http://one/v1", model="m", dimensions=None, texts=["t"],
                   batches=[{"id": "batch_0", "status": "in_progress"}]))
    run_together(KERNEL, [[str(tmp_path / "jobs.sqlite"), name, str(ROUNDS)] for name in "ab"])
    job = store.get("job-shared")
    store.close()
    assert job is not None
    assert [b["id"] for b in job.batches] == ["batch_0"] + [f"batch_a_{i}" for i in range(ROUNDS)]
    # Kernel a's stale copy says batch_0 is still running: an ended batch never goes back.
    assert job.batches[0]["status"] == "completed" and job.batches[0]["round"] == ROUNDS - 1


def test_a_saved_job_holds_the_batches_another_kernel_added() -> None:
    stored = [{"id": "b1", "status": "completed"}, {"id": "b2", "status": "validating"}]
    mine = [{"id": "b1", "status": "in_progress"}, {"id": "b3", "status": "validating"}]
    assert merge_batches(stored, mine) == [stored[0], stored[1], mine[1]]
    assert merge_batches(stored, [{"id": "b2", "status": "failed"}])[1] == {"id": "b2", "status": "failed"}


def test_jobs_an_earlier_version_stored_with_a_token_in_the_url_are_rewritten_without_it(tmp_path: Path) -> None:
    path, token = tmp_path / "jobs.sqlite", "gw-token-31c"
    old = sqlite3.connect(path)  # as an earlier version wrote it: the URL as typed
    old.execute("CREATE TABLE batch_jobs (id TEXT PRIMARY KEY, created REAL NOT NULL, server TEXT NOT NULL, "
                "record TEXT NOT NULL)")
    record = {"model": "m", "dimensions": None, "texts": ["t"], "batches": [{"id": "b1", "status": "completed"}]}
    old.execute("INSERT INTO batch_jobs VALUES (?, ?, ?, ?)",
                ("job-old", 1.0, f"https://{token}@gateway.example/v1", json.dumps(record)))
    old.commit()
    old.close()
    store = JobStore(path)
    job = store.get("job-old")
    assert job is not None and job.server == "https://***@gateway.example/v1" and job.batches == record["batches"]
    store.close()
    assert [p.name for p in tmp_path.iterdir() if token.encode() in p.read_bytes()] == []
    assert JobStore(path).get("job-old") == job  # opened again: nothing left to rewrite


def test_a_job_never_holds_the_user_info_of_its_url() -> None:
    job = Job(id="job-1", server="https://user:secret@gateway.example/v1", model="m", dimensions=None, texts=[])
    assert job.server == "https://***@gateway.example/v1" and "secret" not in repr(job) + str(job.row())


def test_finished_jobs_leave_the_listing_once_their_files_are_gone_at_the_server(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    for job_id, status in (("job-done", "completed"), ("job-running", "in_progress")):
        store.save(Job(id=job_id, server="http://one/v1", model="m", dimensions=None, texts=["t"], created=1000.0,
                       batches=[{"id": f"b-{job_id}", "status": status}]))
    assert [job.id for job in store.current(now=1000.0 + EXPIRY - 1)] == ["job-done", "job-running"]
    assert [job.id for job in store.current(now=1000.0 + EXPIRY + 1)] == ["job-running"]  # still running: kept
    assert store.get("job-done") is None
    store.close()
