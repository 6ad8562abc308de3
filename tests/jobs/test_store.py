"""The Batch API job store: records that two kernels share safely."""

from __future__ import annotations

from pathlib import Path

from oai_magics.jobs.store import Job, JobStore, merge_batches
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
