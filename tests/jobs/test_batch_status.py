"""How often a job's batches are asked about while a collection waits for them."""

from __future__ import annotations

from itertools import islice

from oai_magics.jobs.batch_status import wait_schedule


def test_polls_start_at_the_given_interval_and_slow_down_to_thirty_seconds() -> None:
    intervals = list(islice(wait_schedule(0.5), 14))
    assert intervals[:3] == [0.5, 0.75, 1.125]
    assert all(later > earlier for earlier, later in zip(intervals, intervals[1:11]))
    assert intervals[11:] == [30.0, 30.0, 30.0]
