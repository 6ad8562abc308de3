"""Pacing a job by the server's rate limits, shared by every request of the job.

Every answer may carry `x-ratelimit-remaining-requests/tokens` and `x-ratelimit-reset-requests/tokens`
(durations such as "1s", "6m0s", "120ms"). The pacer keeps what they say, minus what is already in
flight, and holds a request back until the window it needs has reset. A 429 pauses the whole job for
the wait the server asked for (Retry-After), not only the request that got it, so a busy job backs
off as one instead of sending a storm of retries. Until the first answer has told the limits, only
one request is in flight, so even the opening burst cannot overshoot them.

A request estimated at more tokens than the server's whole window allows would wait for room that
never comes. It waits instead for a full window with nothing else in flight, and then goes alone:
the estimate may be high, and the server decides (it answers, or refuses it as "Request too large",
which the job does not send again: no wait mends it).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, TypeVar

from ..client import APIUserAbortError, OpenAIError, RetryPolicy
from ..client.retries import retry_after_seconds
from ..client.calls import idempotency_key
from ..local_errors import LocalError

__all__ = ["Pacer", "parse_duration", "Stopped", "paced_call", "too_large", "PERMANENT_STATUS"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
T = TypeVar("T")
# Statuses a retry cannot change: the request itself, the key or the model is wrong.
PERMANENT_STATUS = frozenset({400, 401, 403, 404, 422})
RETRY_WAIT = 0.5  # seconds before the next attempt after a server or connection error (doubling)
DEFAULT_PAUSE = 1.0  # seconds a 429 without Retry-After pauses the job
RESET_GUESS = 1.0  # seconds a refilled window is trusted for when no answer has said otherwise
MARGIN = 0.02  # seconds added to a reset time: the server's clock and rounding may lag ours
SAME_WINDOW = 0.1  # answers whose reset times differ by less than this speak of one window
LONGEST_PAUSE = RetryPolicy.max_retry_after  # a longer Retry-After fails the call (the client's own cap)


class Stopped(LocalError):
    """The job was stopped (Ctrl-C) while a request waited for its turn."""


def parse_duration(value: str | None) -> float | None:
    """Seconds in an OpenAI reset duration ("1m30s", "250ms", "2.5s", or a bare number)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


@dataclass
class _Window:
    """One limit (requests or tokens): what the server said is left, and until when."""

    limit: float | None = None
    remaining: float | None = None
    resets_at: float = 0.0
    in_flight: float = 0.0
    refilled_at: float = float("-inf")

    def refresh(self, now: float) -> None:
        if self.remaining is not None and now >= self.resets_at:
            # The window has reset: the whole limit again (not "unknown", which would let every
            # worker go at once and overshoot), until the next answer says more.
            self.remaining = self.limit
            self.resets_at = now + RESET_GUESS
            self.refilled_at = now

    def room(self) -> float:
        return float("inf") if self.remaining is None else self.remaining - self.in_flight

    def needed(self, amount: float) -> float:
        """The room a request of `amount` waits for: all of it, or the whole window when it asks for
        more than the limit (then it goes alone, once the window is full and nothing is in flight)."""
        return amount if self.limit is None else min(amount, self.limit)


class Pacer:
    """Decides when each request of a job may go; thread-safe, one per job."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._requests = _Window()
        self._tokens = _Window()
        self._paused_until = 0.0
        self._stopped = False
        self._answered = False  # until the first answer tells the limits, one request at a time
        self.rate_limited = 0  # 429 answers seen
        self.waited = 0.0  # seconds requests spent held back

    # -- the job's side ------------------------------------------------------------------------
    def ready_at(self, tokens: int) -> float:
        """The clock time at which a request of about `tokens` tokens may go (now or later)."""
        with self._cond:
            return self._ready_at(self._clock(), tokens)

    def _ready_at(self, now: float, tokens: int) -> float:
        self._requests.refresh(now)
        self._tokens.refresh(now)
        ready = max(now, self._paused_until)
        if not self._answered and self._requests.in_flight >= 1:
            ready = max(ready, now + RESET_GUESS)  # woken by the first answer, long before that
        if self._requests.room() < 1:
            ready = max(ready, self._requests.resets_at)
        if self._tokens.room() < self._tokens.needed(tokens):
            ready = max(ready, self._tokens.resets_at)
        return ready

    def acquire(self, tokens: int) -> None:
        """Wait until one request of about `tokens` tokens fits the limits, then count it in flight."""
        began = self._clock()
        with self._cond:
            while True:
                if self._stopped:
                    raise Stopped()
                now = self._clock()
                ready = self._ready_at(now, tokens)
                if ready <= now:
                    self._requests.in_flight += 1
                    self._tokens.in_flight += tokens
                    self.waited += now - began
                    return
                # Woken early by answers that change the picture; otherwise at the reset.
                self._cond.wait(min(ready - now, 5.0))

    def release(self, tokens: int) -> None:
        with self._cond:
            self._requests.in_flight = max(0.0, self._requests.in_flight - 1)
            self._tokens.in_flight = max(0.0, self._tokens.in_flight - tokens)
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """Hold every request of the job back for `seconds` from now."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._cond.notify_all()

    def stop(self) -> None:
        """Wake every waiting request with Stopped (the job is being cancelled)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- the network's side --------------------------------------------------------------------
    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from one answer's headers (every answer, retried ones included)."""
        lowered = {k.lower(): v for k, v in headers.items() if k.lower().startswith(("x-ratelimit-", "retry-after"))}
        now = self._clock()
        with self._cond:
            self._answered = True
            for window, name in ((self._requests, "requests"), (self._tokens, "tokens")):
                remaining = _number(lowered.get(f"x-ratelimit-remaining-{name}"))
                reset = parse_duration(lowered.get(f"x-ratelimit-reset-{name}"))
                window.limit = _number(lowered.get(f"x-ratelimit-limit-{name}")) or window.limit
                resets_at = now + (reset if reset is not None else RESET_GUESS) + MARGIN
                # An answer made in the window before the last refill arrives late: it says nothing
                # about the new one. Otherwise it is counted against what is in flight, some of which
                # the server had already counted: cautious by at most the number of workers.
                if remaining is None or resets_at <= window.refilled_at + 2 * MARGIN:
                    continue
                if window.remaining is not None and resets_at <= window.resets_at + SAME_WINDOW:
                    # Answers overtake each other: within one window the lowest count is the latest.
                    window.remaining = min(window.remaining, remaining)
                    window.resets_at = max(window.resets_at, resets_at)
                else:
                    window.remaining = remaining
                    window.resets_at = resets_at
            if status == 429:
                self.rate_limited += 1
                asked = retry_after_seconds(lowered)  # the client's parser: seconds, milliseconds or an HTTP date
                if asked is None or not 0 <= asked <= LONGEST_PAUSE:
                    # No wait said, or one longer than the client sits through: the client fails
                    # such a call at once, saying when to try again, and the job is not held for it.
                    asked = DEFAULT_PAUSE if asked is None else 0.0
                self._paused_until = max(self._paused_until, now + asked)
            self._cond.notify_all()


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def too_large(error: OpenAIError) -> bool:
    """The API's 429 for a request asking more tokens than the whole per-minute limit ("Request too
    large for MODEL ... on tokens per min (TPM): Limit L, Requested R"): no wait mends it."""
    return error.status == 429 and error.type == "tokens" and error.message.startswith("Request too large")


def paced_call(call: Callable[[Mapping[str, str]], T], pacer: Pacer, tokens: int, attempts: int,
               stop: threading.Event, *, resend_unanswered: bool = False) -> T:
    """`call(headers)` when the pacer lets it go, tried again (on top of the client's own retries) only
    when a retry can mend the failure. A 429 has already paused the whole job through the pacer.

    Every attempt carries the same `Idempotency-Key` (in `headers`, for `extra_headers`): to the
    server it is one call, as the client's own retries are. A call whose answer was lost is not
    tried again (the client did not re-send it because it may have done its work) unless
    `resend_unanswered` says the call changes nothing at the server (an embedding); nor is one the
    server asked to come back to later than the client waits.
    """
    headers = {"Idempotency-Key": idempotency_key()}
    for attempt in range(attempts):
        pacer.acquire(tokens)
        try:
            return call(headers)
        except APIUserAbortError:  # the job's connections were cut: it is being stopped
            raise Stopped() from None
        except OpenAIError as exc:
            status = getattr(exc, "status", None)
            lost = bool(getattr(exc, "unanswered", None)) and not resend_unanswered
            if (status in PERMANENT_STATUS or attempt + 1 == attempts or lost or getattr(exc, "retry_after", None)
                    or too_large(exc)):
                raise
            if status != 429 and stop.wait(RETRY_WAIT * 2**attempt):
                raise Stopped() from None
        finally:
            pacer.release(tokens)
    raise AssertionError("attempts must be at least 1")
