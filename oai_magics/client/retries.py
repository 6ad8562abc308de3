"""When to retry a failed request, and how long to wait first.

Retried: connection errors, timeouts, 408, 409, 429 and 5xx, unless the server says
`x-should-retry: false` (and anything it marks `x-should-retry: true`). The wait is exponential
backoff with jitter, or what the server asks for in `retry-after-ms` / `Retry-After` (seconds or an
HTTP date) when that is a sane number of seconds.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Mapping

__all__ = ["RetryPolicy"]

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries, and the bounds of the waits between them (seconds)."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a server asking for longer than this is not waited for

    def should_retry(self, attempt: int, status: int | None, headers: Mapping[str, str] | None = None) -> bool:
        """Whether attempt number `attempt` (0-based) may be followed by another.

        `status` is None for a connection error or timeout.
        """
        if attempt >= self.max_retries:
            return False
        verdict = (headers or {}).get("x-should-retry", "").lower()
        if verdict == "true":
            return True
        if verdict == "false":
            return False
        return status is None or status in RETRYABLE_STATUS

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1`."""
        asked = self.retry_after(headers or {})
        if asked is not None and 0 <= asked <= self.max_retry_after:
            return asked
        backoff = min(self.initial_delay * 2**attempt, self.max_delay)
        return backoff * (1 - 0.25 * random.random())

    @staticmethod
    def retry_after(headers: Mapping[str, str]) -> float | None:
        """The wait the server asked for, in seconds, or None."""
        millis = headers.get("retry-after-ms")
        if millis:
            try:
                return float(millis) / 1000
            except ValueError:
                pass
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
