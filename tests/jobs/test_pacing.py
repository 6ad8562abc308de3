"""The pacer of a job of many requests: a 429 pauses the whole job, the rate-limit headers hold
requests back until their window resets."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from oai_magics.jobs.pacing import Pacer


def test_a_429_pauses_the_whole_job_for_its_retry_after() -> None:
    now = [100.0]
    pacer = Pacer(clock=lambda: now[0])
    assert pacer.ready_at(10) == 100.0
    pacer.observe(429, {"retry-after-ms": "750"})  # seen by one batch ...
    assert pacer.ready_at(10) == 100.75 and pacer.rate_limited == 1  # ... holds back every other
    now[0] = 100.8
    assert pacer.ready_at(10) == 100.8


@pytest.mark.parametrize("asked", ["3600", "inf", "nan", "-5"])
def test_a_retry_after_the_client_will_not_wait_for_holds_nothing_back(asked: str) -> None:
    """The client fails such a call at once, saying when to try again: the job is not held for an hour."""
    now = [100.0]
    pacer = Pacer(clock=lambda: now[0])
    pacer.observe(429, {"retry-after": asked})
    assert pacer.ready_at(10) == 100.0 and pacer.rate_limited == 1


def test_the_limits_in_the_headers_hold_requests_back_until_the_window_resets() -> None:
    now = [0.0]
    pacer = Pacer(clock=lambda: now[0])
    pacer.observe(200, {"x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "2s",
                        "x-ratelimit-remaining-tokens": "500", "x-ratelimit-reset-tokens": "1m0s"})
    pacer.acquire(100)  # the one request left in this window
    assert pacer.ready_at(100) == pytest.approx(2.0, abs=0.1)  # the next waits for the request window
    pacer.release(100)
    pacer.observe(200, {"x-ratelimit-remaining-requests": "9", "x-ratelimit-reset-requests": "2s",
                        "x-ratelimit-remaining-tokens": "50", "x-ratelimit-reset-tokens": "1m0s"})
    assert pacer.ready_at(100) == pytest.approx(60.0, abs=0.1)  # now the tokens are short
    now[0] = 61.0
    assert pacer.ready_at(100) == 61.0  # both windows reset: unknown again, so it goes


@pytest.mark.parametrize("ahead", [30, -30])
def test_a_retry_after_given_as_an_http_date_pauses_the_job_until_then(ahead: int) -> None:
    now = [100.0]
    pacer = Pacer(clock=lambda: now[0])
    pacer.observe(429, {"retry-after": formatdate(time.time() + ahead, usegmt=True)})
    # The date is in whole seconds: the pause is up to one second short of `ahead` (none for a past date).
    expected = 100.0 + max(ahead, 0)
    assert expected - 2 < pacer.ready_at(10) <= expected and pacer.rate_limited == 1


def test_a_request_larger_than_the_whole_token_window_goes_alone_once_the_window_is_full() -> None:
    now = [0.0]
    pacer = Pacer(clock=lambda: now[0])
    pacer.observe(200, {"x-ratelimit-limit-tokens": "50", "x-ratelimit-remaining-tokens": "40",
                        "x-ratelimit-reset-tokens": "1s"})
    assert pacer.ready_at(120) == pytest.approx(1.0, abs=0.1)  # no room now: it waits for the window ...
    now[0] = 1.5
    assert pacer.ready_at(120) == 1.5  # ... and goes in a full one, though it asks for more than 50
    pacer.acquire(10)  # another request in flight: the large one waits for it to end
    assert pacer.ready_at(120) > 1.5
    pacer.release(10)
    assert pacer.ready_at(120) == 1.5
    pacer.acquire(120)
    assert pacer.ready_at(5) > 1.5  # and while it is out, nothing else goes
