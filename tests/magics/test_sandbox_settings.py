"""%config OAIMagics.sandbox_*: documented, used at start, and applied to a running sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from traitlets import TraitError

from oai_magics.magics import session_of

from .conftest import run

SETTINGS = ("sandbox_token_delay", "sandbox_run_delay", "sandbox_job_delay", "sandbox_run_expiry")


def test_every_sandbox_setting_is_documented(shell: Any) -> None:
    _, out = run(shell, "config", "OAIMagics")
    for name in SETTINGS:
        assert f"OAIMagics.{name}=" in out.stdout
    settings = session_of(shell).settings
    for name in SETTINGS:
        assert "embedded sandbox" in settings.trait_metadata(name, "help")


def test_settings_reach_the_sandbox_at_start_and_while_it_runs(shell: Any) -> None:
    shell.run_line_magic("config", "OAIMagics.sandbox_job_delay = 0.25")
    _, out = run(shell, "oai", "use sandbox")
    sandbox = session_of(shell).sandbox
    assert sandbox.settings.job_delay == 0.25 and sandbox.settings.run_delay == 0.5
    _, out = run(shell, "config", "OAIMagics.sandbox_token_delay = 0")
    assert out.stdout == "the running sandbox now uses token_delay = 0 s\n"
    assert sandbox.settings.token_delay == 0
    run(shell, "config", "OAIMagics.sandbox_run_expiry = 30")
    assert sandbox.settings.run_expiry == 30
    _, out = run(shell, "chat", "", "Still streaming?")
    assert "oai_magics sandbox" in shell.user_ns["_"]


def test_a_negative_delay_is_refused(shell: Any) -> None:
    with pytest.raises(TraitError):
        session_of(shell).settings.sandbox_token_delay = -1
