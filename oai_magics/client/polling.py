"""The one poll schedule: how long to wait between looks at work the server is still doing.

A run, a background response or a batch job is asked about soon after it starts (short work is
often done within a second, and its result should not wait on a long first pause), then less and
less often, the wait doubling up to a cap, so long work is not asked about several times a second.
Every poll loop takes its waits from `poll_delays()`; each loop ends on its own terms (a terminal
status, a deadline) and only chooses the cap.
"""

from __future__ import annotations

from typing import Iterator

__all__ = ["poll_delays", "FIRST_POLL", "POLL_CAP"]

FIRST_POLL = 0.2  # seconds before the first look
POLL_CAP = 2.0  # the longest wait, unless the caller's work is slower still (a batch job)


def poll_delays(cap: float = POLL_CAP, first: float = FIRST_POLL) -> Iterator[float]:
    """Endless waits in seconds: `first`, then doubling, never over `cap`."""
    wait = min(first, cap)
    while True:
        yield wait
        wait = min(cap, wait * 2)
