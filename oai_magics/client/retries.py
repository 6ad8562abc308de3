"""When to retry a failed request, and how long to wait first.

Retried: connection errors, timeouts, 408, 409, 429 and 5xx, unless the server says
`x-should-retry: false` (and anything it marks `x-should-retry: true`). The wait is exponential
backoff with jitter, or what the server asks for in `retry-after-ms` / `Retry-After` (seconds or an
HTTP date).

A server asking for a longer wait than `max_retry_after` is not retried at all: the call fails at
once, and its error says when the server will take it again (`retry_after` on the error). Waiting
the cap and retrying early would only earn another 429; a short backoff would ignore the server.

Whether a request may be sent again after a connection error depends on how far it got:
- it never left this machine (connection refused, connect timeout, TLS failure): always safe;
- it was sent and no answer came (read timeout, connection dropped while waiting): only GET, HEAD,
  OPTIONS, PUT and DELETE, which HTTP defines as idempotent. A POST (a chat, a run, an upload) may
  already be running and billed, so it is sent again only when `resend_unanswered` says the server
  honours the `Idempotency-Key` header that every non-GET call carries (the same key on each of its
  attempts), so that a repeat returns the first answer instead of doing the work twice.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Mapping

__all__ = ["RetryPolicy", "IDEMPOTENT_METHODS", "RETRYABLE_STATUS"]

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries, and the bounds of the waits between them (seconds)."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a server asking for longer than this is not waited for: fail at once
    resend_unanswered: bool = False  # the server honours Idempotency-Key: a sent POST may go again

    def should_retry(self, attempt: int, status: int | None, headers: Mapping[str, str] | None = None) -> bool:
        """Whether attempt number `attempt` (0-based) may be followed by another.

        `status` is None for a connection error or timeout.
        """
        if attempt >= self.max_retries:
            return False
        headers = headers or {}
        if self.waits_too_long(headers):
            return False
        verdict = headers.get("x-should-retry", "").lower()
        if verdict == "true":
            return True
        if verdict == "false":
            return False
        return status is None or status in RETRYABLE_STATUS

    def may_resend(self, method: str, sent: bool) -> bool:
        """Whether a request that got no answer may be sent again (see the module docstring)."""
        return not sent or method.upper() in IDEMPOTENT_METHODS or self.resend_unanswered

    def waits_too_long(self, headers: Mapping[str, str]) -> bool:
        """The server asks for a longer wait than this policy is willing to sit through."""
        asked = self.retry_after(headers)
        return asked is not None and asked > self.max_retry_after

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
