"""What a reply looks like under the magics: JSON indented, a note when cut at the token limit,
the tokens line of %oai complete, and the conversation history as a clean table."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from .conftest import run

LENGTH_NOTE = "cut at the token limit (finish reason `length`)"


@pytest.mark.parametrize("flags", ["", "--no-stream"])
def test_a_json_reply_is_shown_indented_and_kept_as_the_string(shell: Any, flags: str) -> None:
    _, out = run(shell, "chat", f"--json {flags} -o answer", "Give me json about cats")
    text = shell.user_ns["answer"]
    assert text == shell.user_ns["_"] and "\n" not in text  # the string exactly as the model sent it
    assert json.dumps(json.loads(text), indent=2) in out.stdout
    assert text not in out.stdout  # the one long line is not shown as well


@pytest.mark.parametrize("magic, line", [("chat", "--max-tokens 3 Describe the sea at length"),
                                         ("oai", "complete --max-tokens 3 Once upon a time"),
                                         ("oai", "complete --no-stream --max-tokens 3 Once upon a time")])
def test_a_reply_cut_at_max_tokens_says_so(shell: Any, magic: str, line: str) -> None:
    _, out = run(shell, magic, line)
    assert LENGTH_NOTE in out.stdout
    _, out = run(shell, magic, line.replace("--max-tokens 3", "--max-tokens 400"))
    assert LENGTH_NOTE not in out.stdout


@pytest.mark.parametrize("flags", ["", "--no-stream"])
def test_complete_shows_its_tokens_line(shell: Any, flags: str) -> None:
    _, out = run(shell, "oai", f"complete {flags} --max-tokens 5 Once upon a time")
    assert " prompt + " in out.stdout and " completion tokens" in out.stdout


def test_history_has_no_trailing_newline_nan_or_nat(shell: Any) -> None:
    shell.run_cell("%%chat -s 'Be brief'\nTell me about owls\n")
    history, _ = run(shell, "oai", "history")
    assert list(history["role"]) == ["system", "user", "assistant"]
    assert history.loc[1, "content"] == "Tell me about owls"
    assert str(history["turn"].dtype) == "int64" and str(history["interrupted"].dtype) == "bool"
    assert isinstance(history["at"].dtype, pd.DatetimeTZDtype) and not history["at"].isna().any()
    assert history.loc[0, "model"] is None and history.loc[2, "model"] == "gpt-5.4-mini"
    assert not history.drop(columns="model").isna().any().any()
