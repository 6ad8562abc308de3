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

`retry_after_seconds(headers)` is the one reader of the server's asked-for wait, for the client's
retries and for the job layer's pacing alike; `not_resent()` and `say_when_to_retry()` word the
errors of a call that is not sent again.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Mapping

from .errors import APIConnectionError, APIStatusError

__all__ = ["RetryPolicy", "IDEMPOTENT_METHODS", "RETRYABLE_STATUS", "retry_after_seconds", "not_resent",
           "say_when_to_retry"]

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait the server asked for, in seconds, or None: `retry-after-ms`, else `Retry-After` as
    seconds or as an HTTP date (a date gone by is no wait). `headers` has its names in lower case."""
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
    if when.tzinfo is None:  # the asctime form and "-0000" name no zone: HTTP dates are GMT, never local time
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


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
        asked = retry_after_seconds(headers)
        return asked is not None and asked > self.max_retry_after

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1`."""
        asked = retry_after_seconds(headers or {})
        if asked is not None and 0 <= asked <= self.max_retry_after:
            return asked
        backoff = min(self.initial_delay * 2**attempt, self.max_delay)
        return backoff * (1 - 0.25 * random.random())


def not_resent(what: str, error: APIConnectionError) -> APIConnectionError:
    """The error for a call (`what`: method and path) that went out, got no answer, and must not go out twice."""
    message = (f"{what} {error.message}; not re-sent because it might be billed twice. "
               "Run it again yourself if it did not take effect, or use Client(honours_idempotency_key=True) "
               "with a server that honours Idempotency-Key")
    return type(error)(message, sent=True, unanswered=f"{what} {error.message}", request_id=error.request_id)


def say_when_to_retry(error: APIStatusError, seconds: float) -> None:
    """A server asking for a longer wait than we sit through: the error tells the user when to come back."""
    error.retry_after = seconds
    error.message += f"; the server asks to wait {seconds:.0f} s, so not retried: try again {_after(seconds)}"


def _after(seconds: float) -> str:
    """When a wait of `seconds` ends, for a message: the time, with the date once it is not today."""
    try:
        when = time.localtime(time.time() + seconds)
    except (OverflowError, ValueError, OSError):  # `Retry-After: inf` or a year past the platform's time_t
        return "much later (the server gave no usable time)"
    same_day = time.localtime()[:3] == when[:3]
    return "after " + time.strftime("%H:%M:%S %Z" if same_day else "%Y-%m-%d %H:%M:%S %Z", when)
