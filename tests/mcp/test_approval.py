"""The approval rule every MCP call goes through, and the question it asks."""

from __future__ import annotations

import pytest

from oai_magics.local_errors import LocalError
from oai_magics.mcp import APPROVE_CHOICES, ask, verdict


@pytest.mark.parametrize(("rule", "read_only", "expected"), [
    ("always", False, "approve"), ("always", True, "approve"), ("never", True, "deny"), ("never", False, "deny"),
    ("read-only", True, "approve"), ("read-only", False, "ask"), ("ask", True, "ask"), ("ask", False, "ask")])
def test_verdict(rule: str, read_only: bool, expected: str) -> None:
    assert verdict(rule, read_only) == expected


def test_the_rules_are_the_four_choices() -> None:
    assert APPROVE_CHOICES == ("ask", "always", "never", "read-only")
    with pytest.raises(ValueError, match="unknown approval rule"):
        verdict("sometimes", True)


@pytest.mark.parametrize(("answer", "approved"), [("y", True), ("YES ", True), ("n", False), ("", False)])
def test_ask_shows_server_tool_and_arguments(answer: str, approved: bool, capsys: pytest.CaptureFixture) -> None:
    asked = []
    assert ask("data", "query", '{"sql": "SELECT 1"}', prompt=lambda q: asked.append(q) or answer) is approved
    assert asked == ["Run data.query? [y/N] "]
    assert '"sql": "SELECT 1"' in capsys.readouterr().out


def test_a_kernel_without_stdin_names_the_rules_that_need_no_answer() -> None:
    class StdinNotImplementedError(NotImplementedError):  # what ipykernel raises under nbclient
        pass

    def no_stdin(prompt: str) -> str:
        raise StdinNotImplementedError("raw_input was called, but this frontend does not support input requests.")

    with pytest.raises(LocalError) as caught:
        ask("data", "query", {"sql": "SELECT 1"}, prompt=no_stdin)
    assert "data.query needs an answer" in caught.value.line() and "--approve always|never|read-only" in caught.value.line()
