"""A Batch API job outlives the kernel that sent it: sent from one real kernel, shut down, and
collected from a new kernel that shares nothing with the first but the cache folder."""

from __future__ import annotations

import json
import os

import numpy as np
from jupyter_client.manager import start_new_kernel

from oai_magics.sandbox import Sandbox
from oai_magics.sandbox.embeddings import embed as sandbox_vector
from tests.helpers.kernels import TIMEOUT, execute


def printed(outputs: list[dict]) -> str:
    return "".join(o["content"]["text"] for o in outputs if o["msg_type"] == "stream").strip()


def in_a_kernel(sandbox: Sandbox, code: str) -> str:
    """Start a kernel, point the extension at the sandbox, run `code`, shut the kernel down; what it printed."""
    env = {**os.environ, "SANDBOX_TEST_KEY": sandbox.api_key}  # with this test's own cache folder
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=TIMEOUT, env=env)
    try:
        execute(client, f"%load_ext oai_magics\n%oai profile add test --base-url {sandbox.base_url} "
                        f"--key-env SANDBOX_TEST_KEY\n%oai use test")
        return printed(execute(client, code))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_batch_job_sent_from_one_kernel_is_collected_in_the_next(sandbox: Sandbox) -> None:
    docs = [f"restart document {i} about topic {i % 7}" for i in range(60)]
    shown = in_a_kernel(sandbox, f"docs = {docs!r}\njob = %embed -i docs -d 8 --batch --batch-size 16\nprint(job.id)")
    job_id = shown.strip().splitlines()[-1]  # after the line estimating what the job costs
    assert shown.startswith("estimate: 4 requests to text-embedding-3-small") and job_id.startswith("job-")
    shown = in_a_kernel(sandbox, f"""
import json
jobs = %embed --jobs
frame = %embed --collect {job_id} --wait
print(json.dumps({{"listed": {job_id!r} in set(jobs["job"]), "text": list(frame["text"]),
                   "vectors": frame.iloc[:, 1:].to_numpy().tolist()}}))
""")
    assert shown.startswith("{"), shown  # else the kernel's one-line error
    found = json.loads(shown)
    assert found["listed"] and found["text"] == docs
    expected = np.stack([sandbox_vector(text, 1536, 8) for text in docs])
    assert np.allclose(np.array(found["vectors"]), expected, atol=1e-6)
