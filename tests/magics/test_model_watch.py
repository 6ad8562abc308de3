"""The notes the models listing gives, on a fixed day: past, today, soon and far shutdown dates,
the replacements they suggest, and the model_not_found line."""

from __future__ import annotations

import datetime as dt

from oai_magics.magics.model_watch import ModelWatch, not_found_note, shutdown_note

TODAY = dt.date(2026, 12, 7)
LISTED = {m["id"]: m for m in [
    {"id": "gpt-5.4-mini", "shutdown_date": None},
    {"id": "gpt-5.4-nano", "shutdown_date": "2026-12-20"},  # near its end too: never the suggestion
    {"id": "gpt-5.4"},  # no field at all: no date announced
    {"id": "gpt-4o", "shutdown_date": "2026-12-07"},
    {"id": "gpt-4o-mini", "shutdown_date": "2027-06-01"},
    {"id": "o1-preview", "shutdown_date": "2025-08-01"},
    {"id": "odd", "shutdown_date": "someday"},
    {"id": "dall-e-3", "shutdown_date": "2026-05-12"},
    {"id": "gpt-image-1-mini"},
    {"id": "gpt-4o-realtime-preview"},
]}


def test_past_today_soon_and_far() -> None:
    assert shutdown_note("chat", "o1-preview", LISTED, TODAY) == (
        "note: o1-preview was shut down on 2025-08-01 (the server's models list says so); choose another chat model "
        "with -m gpt-5.4-mini, or for the session %config OAIMagics.chat_model = 'gpt-5.4-mini'")
    assert "gpt-4o shuts down today" in shutdown_note("chat", "gpt-4o", LISTED, TODAY)
    assert "gpt-5.4-nano shuts down on 2026-12-20, in 13 days" in shutdown_note("chat", "gpt-5.4-nano", LISTED, TODAY)
    for quiet in ("gpt-4o-mini", "gpt-5.4", "gpt-5.4-mini", "odd", "not-listed"):
        assert shutdown_note("chat", quiet, LISTED, TODAY) is None, quiet
    assert "choose another image model with -m gpt-image-1-mini" in shutdown_note("image", "dall-e-3", LISTED, TODAY)


def test_model_not_found_names_the_usable_models_of_its_kind() -> None:
    line = not_found_note("chat", "gpt-9", LISTED, TODAY)
    assert line.startswith("the server's chat models: gpt-5.4-mini, gpt-5.4, gpt-4o-mini, odd; pick one with -m gpt-5.4-mini")
    assert "realtime" not in line and "o1-preview" not in line and "nano" not in line
    assert not_found_note("speech", "tts-9", LISTED, TODAY) == "the server lists no other speech model (%oai models shows what it has)"
    assert "%oai models lists them" in not_found_note("chat", "gpt-9", None, TODAY)


def test_each_model_is_noted_once_and_only_after_its_listing_came() -> None:
    watch = ModelWatch()
    assert watch.used("p", "chat", "o1-preview") == []  # no listing was asked for: nothing to say, nothing kept
    watch.store("p", LISTED.values())
    assert len(watch.used("p", "chat", "o1-preview")) == 1
    assert watch.used("p", "chat", "o1-preview") == []
    assert watch.used("q", "chat", "o1-preview") == []  # another profile, with no listing


def test_a_listed_id_no_one_could_type_is_never_suggested() -> None:
    """A server's listing may hold any text as an id: a line break would split the one-line note, a
    quote would break the %config it suggests."""
    odd = {"gpt-x\nrm -rf": {}, "gpt-'y'": {}, "gpt z": {}, "": {}, "gpt-5.4-mini": {}}
    line = not_found_note("chat", "gpt-9", odd, TODAY)
    assert line == ("the server's chat models: gpt-5.4-mini; pick one with -m gpt-5.4-mini "
                    "or %config OAIMagics.chat_model = 'gpt-5.4-mini'")
    assert "\n" not in shutdown_note("chat", "o1-preview", {**odd, "o1-preview": {"shutdown_date": "2025-08-01"}}, TODAY)
