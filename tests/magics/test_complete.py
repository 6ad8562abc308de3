"""%oai complete against the sandbox: the same accumulator as %%chat, so the same guarantees."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import run


def test_a_broken_stream_keeps_its_partial_text(shell: Any, faults: Any) -> None:
    faults(path="/v1/completions", truncate_after=3)
    _, out = run(shell, "oai", "complete --max-tokens 40 Once upon a time")
    partial = shell.user_ns["_"]
    assert partial and partial in out.stdout
    assert ("stream broken off: partial reply kept (the stream ended before the server finished it, "
                       "after 3 events") in out.stdout
    _, out = run(shell, "oai", "complete --max-tokens 40 Once upon a time")
    assert shell.user_ns["_"].startswith(partial) and len(shell.user_ns["_"]) > len(partial)


@pytest.mark.parametrize("flags", ["", "--no-stream"])
def test_several_choices_are_shown_apart(shell: Any, flags: str) -> None:
    _, out = run(shell, "oai", f"complete {flags} -p n=2 --max-tokens 40 -o both Tell me about herons")
    first, second = shell.user_ns["both"]
    assert "(choice 2)" in second and "(choice 2)" not in first
    shown = out.stdout
    assert shown.index("--- choice 1 ---") < shown.index(first) < shown.index("--- choice 2 ---") < shown.index(second)


def test_one_choice_streams_as_plain_text(shell: Any) -> None:
    _, out = run(shell, "oai", "complete --max-tokens 5 -t 0 Say hi")
    assert out.stdout.startswith(shell.user_ns["_"]) and "choice" not in out.stdout
