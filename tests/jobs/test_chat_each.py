"""%%chat --each: one prompt per row, paced and concurrent, failures marked and re-run alone."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from .conftest import run


def test_200_rows_with_some_failing_mark_them_and_a_rerun_sends_only_those(shell: Any, faults: Any, traffic: Any) -> None:
    shell.user_ns["reviews"] = pd.DataFrame({"text": [f"review {i}: the coffee was {'good' if i % 3 else 'cold'}"
                                                      for i in range(200)]}, index=[f"r{i}" for i in range(200)])
    faults(path="/v1/chat/completions", status=400, count=5, message="Injected bad row.")
    answers, out = run(shell, "chat", "--each reviews --into verdict -o answers", "Is this review happy? {{row.text}}")
    assert list(answers.columns) == ["text", "verdict", "error"] and list(answers.index) == list(shell.user_ns["reviews"].index)
    failed = answers[answers["error"].notna()]
    assert len(failed) == 5 and failed["verdict"].isna().all() and failed["error"].str.contains("Injected bad row").all()
    assert "5 of 200 rows failed" in out.stdout
    assert answers.loc[answers["error"].isna(), "verdict"].str.len().gt(0).all()
    sent = traffic.seen("/v1/chat/completions")
    again, _ = run(shell, "chat", "--each answers --into verdict", "Is this review happy? {{row.text}}")
    assert traffic.seen("/v1/chat/completions") == sent + 5  # only the failed rows went out
    assert again["error"].isna().all() and again["verdict"].str.len().gt(0).all()
    kept = answers["error"].isna()
    assert (again.loc[kept, "verdict"] == answers.loc[kept, "verdict"]).all()


def test_each_reply_answers_its_own_row(shell: Any) -> None:
    shell.user_ns["topics"] = ["rockets", "sourdough", "tax returns"]
    answers, _ = run(shell, "chat", "--each topics", "Tell me about {{row}}")
    for topic, reply in zip(shell.user_ns["topics"], answers["reply"]):
        direct, _ = run(shell, "chat", "--no-memory --no-stream -o one", f"Tell me about {topic}")
        assert shell.user_ns["one"] == reply


def test_json_replies_become_columns(shell: Any) -> None:
    shell.user_ns["names"] = pd.Series(["Ada", "Grace"])
    answers, _ = run(shell, "chat", "--each names --json", "Give a JSON object about {{row}}")
    parsed = [json.loads(r) for r in answers["reply"]]
    assert set(parsed[0]) <= set(answers.columns) and answers[list(parsed[0])[0]].notna().all()


def test_each_needs_rows_and_a_template(shell: Any) -> None:
    shell.user_ns["number"] = 7
    with pytest.raises(UsageError, match="give a DataFrame, a Series or a list"):
        shell.run_cell_magic("chat", "--each number", "Hello {{row}}")
    with pytest.raises(UsageError, match="needs a prompt template"):
        shell.run_cell_magic("chat", "--each number", "  ")
