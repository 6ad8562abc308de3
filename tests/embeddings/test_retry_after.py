"""A direct embedding job told by the server to wait longer than the client will: the client fails the
call at once, saying when to come back, and the job fails with it instead of sitting out the wait."""

from __future__ import annotations

import threading
from typing import Any

from oai_magics.client import Client
from oai_magics.embeddings import EmbeddingJobError, embed_texts
from oai_magics.jobs.pacing import Pacer
from tests.helpers.rawserver import SERVER_KEY, answer

TIMEOUT = 60
HANG = 10  # seconds after which a call that should have ended is taken to hang


# -- a Retry-After above the cap: the client fails at once, the embedding job sits it out ----------
# The client does not retry a 429 whose Retry-After is longer than it will wait, and says when to come
# back; the job's pacer pauses every batch for the whole of it (an hour here, for ever with `inf`), so
# its retry of the failed batch waits in silence: `%embed` hangs.

def test_an_embedding_job_told_to_wait_an_hour_fails_at_once_saying_when(serve: Any) -> None:
    server = serve(answer(b'{"error": {"message": "slow down"}}', "429 Too Many Requests",
                          b"Content-Type: application/json\r\nRetry-After: 3600\r\n"))
    client = Client(api_key=SERVER_KEY, base_url=server.url, timeout=(5, 5))
    pacer, outcome = Pacer(), []

    def job() -> None:
        try:
            embed_texts(client, ["alpha", "beta"], model="text-embedding-3-small", progress=False, pacer=pacer)
        except EmbeddingJobError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=job, daemon=True)
    worker.start()
    worker.join(HANG)  # a bound, not a measure: the answer is one loopback exchange away
    hung = worker.is_alive()
    pacer.stop()  # frees a job that still waits, so nothing outlives the test
    worker.join(TIMEOUT)
    assert not hung, f"the job still waited {HANG} s after the server asked for an hour"
    assert "try again" in outcome[0]
