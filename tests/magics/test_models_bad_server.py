"""The models listing and the notes it feeds, from a server that answers badly: shutdown dates that
are no dates, a listing that does not come. Each case ends in a result or one clear line, at once."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import requests
from IPython.core.error import UsageError

from oai_magics.magics import session_of
from oai_magics.sandbox import Sandbox
from tests.helpers.rawserver import json_answer, serve  # noqa: F401 (serve is a fixture)

from .conftest import listing_done, run

ODD_DATES = [("gpt-5.4-mini", "2026-12-10T00:00:00Z"), ("gpt-5.4-nano", 1767225600), ("gpt-5.4", "soon"),
             ("gpt-5-mini", "2026-02-30"), ("gpt-image-1-mini", ["2026-01-01"]), ("tts-1", ""),
             ("whisper-1", None), ("gpt-4o-mini", "2027-01-31")]


def models_listing(listed: list[tuple[str, Any]]) -> dict:
    """A models listing whose models carry these shutdown_date values."""
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "someone",
                                        "shutdown_date": date} for name, date in listed]}


def test_shutdown_dates_that_are_no_dates_leave_the_cell_empty(serve: Any, shell_at: Any) -> None:
    ip = shell_at(serve(json_answer(models_listing(ODD_DATES))).url)
    frame, _ = run(ip, "oai", "models")
    assert str(frame["shutdown_date"].dtype).startswith("datetime64")
    dates = frame.set_index("id")["shutdown_date"]
    assert dates["gpt-5.4-mini"] == pd.Timestamp("2026-12-10") and dates["gpt-4o-mini"] == pd.Timestamp("2027-01-31")
    assert dates.drop(["gpt-5.4-mini", "gpt-4o-mini"]).isna().all()


def test_a_model_not_found_line_never_waits_for_a_slow_listing(shell: Any, sandbox: Sandbox, faults: Any) -> None:
    run(shell, "oai", f"profile add slow --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
    listing_done(shell)  # the first profile's listing: not the one the fault is for
    faults(path="/v1/models", method="GET", hold=20, count=2)  # every listing is held until released
    try:
        run(shell, "oai", "use slow")  # its client is made: the background listing starts, and is held
        assert requests.get(sandbox.url + "/sandbox/faults/held?wait=30", timeout=40).json()["held"] == 1
        with pytest.raises(UsageError) as info:
            run(shell, "chat", "-m o1-preview --no-memory", "hello")
        # Answered while the listing is still held: the line says where to look instead of naming models.
        assert str(info.value).endswith("; pick another chat model with -m MODEL or %config OAIMagics.chat_model "
                                        "(%oai models lists them)")
        assert not session_of(shell).watch.ready("slow").is_set()
    finally:
        requests.post(sandbox.url + "/sandbox/faults/release", timeout=10)


def test_a_refused_listing_is_asked_for_again_when_the_profile_gets_a_new_client(
        shell: Any, sandbox: Sandbox, faults: Any) -> None:
    run(shell, "oai", f"profile add again --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
    listing_done(shell)  # the first profile's listing: not the one the fault is for
    faults(path="/v1/models", method="GET", status=401, count=1, message="Incorrect API key provided.")
    run(shell, "oai", "use again")  # its client is made: the listing starts, and is refused
    listing_done(shell)
    assert session_of(shell).watch.models("again") is None
    run(shell, "oai", "use again")  # the key is read again (a user who fixed it): a new client, the listing once more
    listing_done(shell)
    _, out = run(shell, "chat", "-m gpt-4o-2024-05-13 --no-memory", "hello")
    assert out.stdout.startswith("note: gpt-4o-2024-05-13 shuts down on ")
