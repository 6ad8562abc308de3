"""What the `mcp` SDK logs: kept as a note of the server whose task logged it, written as before otherwise."""

from __future__ import annotations

import contextvars
import logging

import pytest

from oai_magics.mcp import sdk_log


def test_a_record_of_a_hub_task_is_a_note_and_others_are_written_as_python_would(
        capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # no logging set up, as in a fresh kernel (pytest sets some)
    sdk_log.install()
    sdk_log.install()  # once only, however often the hub starts
    assert sum(isinstance(h, sdk_log._Keeper) for h in logging.getLogger("client").handlers) == 1
    notes = sdk_log.notes_of()

    def in_a_hub_task() -> None:
        sdk_log.NOTES.set(notes)
        logging.getLogger("mcp.client.streamable_http").error("Unexpected content type: text/html")

    contextvars.copy_context().run(in_a_hub_task)
    logging.getLogger("client.elsewhere").warning("a warning of another library")
    assert list(notes) == ["Unexpected content type: text/html"]
    assert capsys.readouterr().err == "a warning of another library\n"
