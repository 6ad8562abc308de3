"""A job of many requests (`%%chat --each`, `%embed`) never sends one call twice under two keys: a
call whose answer was lost is not sent again, and a batch the job tries again after a burst of 5xx
keeps its Idempotency-Key, so the server can tell a repeat.
"""

from __future__ import annotations

import contextlib
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from oai_magics.sandbox import Sandbox
from tests.helpers.sandboxes import forget_requests, sent_requests

from .conftest import run


# -- a POST sent again under a new Idempotency-Key ----------------------------------------------
# The client never re-sends a chat whose answer was lost (or re-sends it under the same key); the
# job layer (`jobs.pacing.paced_call`) calls the endpoint again from the top, which makes a new
# call with a new key: the server cannot tell it is a repeat, and the work is done (and billed) twice.

def test_a_chat_row_whose_answer_was_lost_is_never_sent_again_under_a_new_key(shell: InteractiveShell, sandbox: Sandbox,
                                                                               faults: Any) -> None:
    shell.user_ns["cities"] = ["Paris"]
    forget_requests(sandbox)
    faults(path="/v1/chat/completions", method="POST", lose_response=True, count=1)
    frame, shown = run(shell, "chat", "--each cities", "Tell me about {{row}}")
    keys = [entry["idempotency_key"] for entry in sent_requests(sandbox, "/v1/chat/completions")]
    assert len(set(keys)) == 1, f"one chat went out as {len(set(keys))} different calls: {keys}"
    assert len(keys) == 1, "a call whose answer was lost is not sent again: it may have done its work"
    assert "not re-sent" in str(frame["error"][0]), frame.to_dict()


def test_an_embedding_batch_whose_answer_was_lost_is_never_sent_again_under_a_new_key(
        shell: InteractiveShell, sandbox: Sandbox, faults: Any) -> None:
    forget_requests(sandbox)
    faults(path="/v1/embeddings", method="POST", lose_response=True, count=1)
    with contextlib.suppress(UsageError):  # the lost batch may be reported in one line
        run(shell, "embed", "--no-cache", "alpha\nbeta\n")
    keys = [entry["idempotency_key"] for entry in sent_requests(sandbox, "/v1/embeddings")]
    assert len(set(keys)) == 1, f"one batch went out as {len(set(keys))} different calls: {keys}"
    assert len(keys) == 2, "an embedding changes nothing at the server: the job tries it once more, as one call"


def test_a_batch_the_job_tries_again_after_a_5xx_burst_keeps_its_idempotency_key(
        shell: InteractiveShell, sandbox: Sandbox, faults: Any) -> None:
    forget_requests(sandbox)
    faults(path="/v1/embeddings", method="POST", status=500, count=3)  # every attempt of the client's first call
    frame, _ = run(shell, "embed", "--no-cache", "alpha\nbeta\n")
    keys = [entry["idempotency_key"] for entry in sent_requests(sandbox, "/v1/embeddings")]
    assert len(keys) == 4 and len(set(keys)) == 1, keys  # the job's second try is the same call to the server
    assert len(frame) == 2
