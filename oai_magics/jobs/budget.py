"""`--budget DOLLARS`: a job stops sending when what it has spent, plus what its requests in flight
may cost, plus the next request's estimate, would pass the budget.

Each request reserves its estimate before it goes (`spend`) and is charged, when it ends, what the
answers it got cost: the budget listens to the request records of the job's client (`watching`),
and charges each to the reservation open in the thread that made it. A request that succeeded with
no usage told is charged its estimate. Once one request is refused, every later one is too: the job
stops as Ctrl-C stops it, each finished row kept, each row not sent marked so a re-run sends only those.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

from ..prices import money
from .pacing import Stopped

__all__ = ["Budget", "OverBudget", "spending"]


class OverBudget(Stopped):
    """Not sent: the job's budget would be passed."""


class Budget:
    """What one job may spend, and what it has spent; thread-safe, one per job."""

    def __init__(self, limit: float, cost_of: Callable[[str | None, dict], float | None]) -> None:
        self.limit = limit
        self._cost_of = cost_of  # (model, an answer's usage) -> dollars, None when unpriced
        self._lock = threading.Lock()
        self._open = threading.local()  # the reservation of the request this thread is making
        self.spent = 0.0
        self.in_flight = 0.0
        self.refused = False

    @contextlib.contextmanager
    def watching(self, client: Any) -> Iterator["Budget"]:
        """Hear the request records of `client` (and of the job's clients made from it) while the job runs."""
        client.listeners.append(self._hear)
        try:
            yield self
        finally:
            client.listeners.remove(self._hear)

    @contextlib.contextmanager
    def spend(self, estimate: float) -> Iterator[None]:
        """Reserve `estimate` for one request, its retries included (OverBudget if that would pass
        the budget); charged what its answers cost when the body ends."""
        with self._lock:
            if self.refused or self.spent + self.in_flight + estimate > self.limit:
                self.refused = True
                raise OverBudget(f"not sent: the budget of {money(self.limit)} would be passed")
            self.in_flight += estimate
        self._open.active, self._open.charged, self._open.heard = True, 0.0, False
        succeeded = False
        try:
            yield
            succeeded = True
        finally:
            self._open.active = False
            charged = self._open.charged
            if succeeded and not self._open.heard:
                charged = estimate  # an answer that told no usage: its estimate is the best figure
            with self._lock:
                self.in_flight -= estimate
                self.spent += charged

    def _hear(self, record: Any) -> None:
        """A request ended: charge it to the reservation open in this thread, if any."""
        if not getattr(self._open, "active", False):
            return  # a request of another thread, outside the job's
        cost = self._cost_of(record.model, record.usage) if record.usage else None
        if cost is not None:
            self._open.charged += cost
            self._open.heard = True

    def cost(self, model: str, usage: dict) -> float:
        """Dollars for a usage of `model` (an estimate's), 0 where it has no price."""
        return self._cost_of(model, usage) or 0.0

    def summary(self, done: int, total: int, unit: str = "rows") -> str:
        """How far the job got: "budget $0.50 reached: 40 of 100 rows done ($0.49 spent); the rest were not sent"."""
        return (f"budget {money(self.limit)} reached: {done} of {total} {unit} done ({money(self.spent)} spent); "
                "the rest were not sent")


def spending(budget: Budget | None, estimate: float) -> contextlib.AbstractContextManager:
    """`budget.spend(estimate)`, or nothing to do for a job without a budget."""
    return contextlib.nullcontext() if budget is None else budget.spend(estimate)
