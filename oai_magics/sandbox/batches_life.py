"""The life cycle of a batch, as a guarded state machine:

    validating -> in_progress -> finalizing -> completed
    validating -> failed                              a malformed input file
    validating | in_progress -> cancelling -> cancelled
    validating | in_progress -> expired               the window closed first

Handlers hold copies of the stored batch, and answering the lines takes a while with the event loop
free, so a copy can be stale by the time it is written back. Every change therefore goes through
this module: under one lock it reads the batch as stored now, checks that the transition is allowed
from that status, and writes it. A cancel that arrives while the lines are being answered wins:
`finish()` files what was answered and leaves the batch cancelling instead of finalizing it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .state import State, find

__all__ = ["MOVES", "TERMINAL", "move", "claim", "release", "finish", "current"]

MOVES: dict[str, tuple[str, ...]] = {
    "validating": ("in_progress", "failed", "cancelling", "expired"),
    "in_progress": ("finalizing", "cancelling", "expired"),
    "finalizing": ("completed",),
    "cancelling": ("cancelled",),
}
TERMINAL = ("completed", "failed", "cancelled", "expired")
_LOCK = threading.Lock()  # the store's own lock covers one read or write, not a read-check-write


def current(app: State, batch_id: str) -> dict:
    """The batch as stored now."""
    return find(app, "batch", batch_id, what="batch")


def move(app: State, batch_id: str, status: str, **fields: Any) -> dict | None:
    """Go to `status` (stamping `<status>_at`) if the stored status allows it; None if it does not."""
    with _LOCK:
        batch = current(app, batch_id)
        if status not in MOVES.get(batch["status"], ()):
            return None
        batch.update(fields, status=status, **{f"{status}_at": int(time.time())})
        return app.store.save("batch", batch)


def claim(app: State, batch_id: str) -> dict | None:
    """Take the batch's lines to answer: only one reader does, and only while it is in progress."""
    with _LOCK:
        batch = current(app, batch_id)
        if batch["status"] != "in_progress" or batch.get("_busy"):
            return None
        batch["_busy"] = True  # a concurrent read sees it in progress and returns at once
        return app.store.save("batch", batch)


def release(app: State, batch_id: str) -> None:
    """Give the claim back without results (answering broke off)."""
    with _LOCK:
        batch = current(app, batch_id)
        batch.pop("_busy", None)
        app.store.save("batch", batch)


def finish(app: State, batch_id: str, results: dict) -> dict:
    """File what the lines gave (output and error files, counts, usage) and release the claim; an
    in-progress batch moves on to finalizing, a cancelled one stays cancelled with its partial results."""
    with _LOCK:
        batch = current(app, batch_id)
        batch.update(results)
        batch.pop("_busy", None)
        if batch["status"] == "in_progress":
            batch.update(status="finalizing", finalizing_at=int(time.time()))
        return app.store.save("batch", batch)
