"""What each finished API call cost, told to whoever listens (`%oai usage`, the job layer's counters).

`RequestRecord` is one call's record; `tell()` builds it from the `Call` and what its answer said and
hands it to every listener. A call that failed after going out is told too: it may be billed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .calls import Call

__all__ = ["RequestRecord", "Listener", "tell"]


@dataclass
class RequestRecord:
    """What one finished API call cost, for `%oai usage` and similar listeners."""

    method: str
    path: str
    status: int | None
    seconds: float  # from sending to the last byte (for a stream: until it ended)
    request_id: str | None = None
    usage: dict = field(default_factory=dict)
    attempts: int = 1  # how many times the request went out; more than one means it was retried
    model: str | None = None  # the one the answer names, else the one asked for

    @property
    def retries(self) -> int:
        return self.attempts - 1


Listener = Callable[[RequestRecord], None]


def tell(listeners: Sequence[Listener], call: Call, status: int | None, request_id: str | None, usage: dict,
         model: str | None = None) -> None:
    """Hand every listener the record of `call`, which ended now; the model is the one the answer
    named, else the one the call asked for."""
    if not listeners:
        return
    seconds = time.monotonic() - call.started
    asked = (call.body or {}).get("model")
    model = model or (asked if isinstance(asked, str) else None)
    record = RequestRecord(call.method, call.path, status, seconds, request_id, dict(usage), call.attempts, model)
    for listener in list(listeners):
        listener(record)
