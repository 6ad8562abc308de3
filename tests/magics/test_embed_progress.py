"""The %embed progress bar is gone once the job ends: it shows progress, not a record."""

from __future__ import annotations

from typing import Any

from .conftest import run


def test_the_terminal_bar_is_cleared_when_the_job_ends(shell: Any) -> None:
    shell.user_ns["many"] = [f"sentence number {i}" for i in range(40)]
    frame, out = run(shell, "embed", "-i many --batch-size 5 -d 8")
    assert frame.shape == (40, 9)
    assert "embedding:" in out.stderr  # it was shown while the job ran
    assert out.stderr.split("\r")[-1].strip() == ""  # and its line was wiped at the end
