"""`polling`: the one poll schedule, soon after the start and then backing off to a cap."""

from __future__ import annotations

import itertools
import json
from typing import Any

from werkzeug import Response

from oai_magics.client import Client
from oai_magics.client.polling import poll_delays


def first(count: int, **schedule: float) -> list[float]:
    return list(itertools.islice(poll_delays(**schedule), count))


def test_the_first_look_comes_soon_and_the_waits_double_up_to_the_cap() -> None:
    assert first(6) == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert first(4, cap=1.0) == [0.2, 0.4, 0.8, 1.0]


def test_a_slow_job_chooses_its_own_cap_and_the_schedule_never_ends() -> None:
    waits = first(1000, cap=30.0)
    assert max(waits) == 30.0 and waits[-1] == 30.0 and waits == sorted(waits)


def test_a_cap_below_the_first_wait_is_the_only_wait() -> None:
    assert first(3, cap=0.05) == [0.05] * 3


def test_waiting_for_a_response_follows_the_schedule(client: Client, recorder: Any) -> None:
    statuses = iter(["queued", "in_progress", "in_progress", "in_progress", "completed"])
    recorder.reply = lambda request: Response(json.dumps({"id": "resp_1", "object": "response", "output": [],
                                                          "status": next(statuses)}), content_type="application/json")
    pauses: list[float] = []
    assert client.responses.wait("resp_1", sleep=pauses.append)["status"] == "completed"
    assert pauses == first(4)
