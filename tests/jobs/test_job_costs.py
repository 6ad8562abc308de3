"""Money before and during a job of many requests: the estimate against what the sandbox then
reports, the question above `confirm_over` (asked, answered, skipped with --yes, refused by a kernel
that cannot ask), and `--budget` stopping a job with its finished rows kept."""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from IPython.core.error import UsageError

from oai_magics.demo import execute

from .conftest import run

# English prose of the kind a person sends row by row: reviews, notes, short descriptions.
ENGLISH = [
    "The coffee at the corner café was rich and smooth, although the croissant had gone a little stale by noon.",
    "Our delivery arrived two days late, and the box was crushed, but every glass inside was still intact.",
    "I booked the harbour tour for the whole family; the guide knew the history of every lighthouse we passed.",
    "The new library opens at eight on weekdays, closes early on Sundays, and lends laptops to students for free.",
    "After three weeks of rain the river finally dropped, and the farmers along the valley began to plant again.",
    "She wrote the report in a single afternoon, checked each figure twice, and sent it before the meeting started.",
    "The hotel room was quiet and clean, yet the breakfast buffet ran out of fresh fruit well before nine o'clock.",
    "Please remember to water the tomatoes on Thursday, since the forecast promises a hot and windy weekend.",
    "The museum's new wing shows paintings from the northern coast, including several that have never been lent.",
    "Train services between the two cities will be replaced by buses next month while the bridge is repaired.",
    "His grandmother's recipe calls for slow-roasted onions, a spoonful of honey, and a generous pinch of salt.",
    "Customers praised the support team for answering quickly, but several asked for clearer instructions online.",
]


def _estimated_input(out: Any) -> int:
    found = re.search(r"estimate: .*?, ≈([\d,]+) input tokens \(approximated", out.stdout)
    assert found, out.stdout
    return int(found.group(1).replace(",", ""))


def _sent(shell: Any, endpoint: str) -> pd.DataFrame:
    log, _ = run(shell, "oai", "usage")
    return log[log["endpoint"] == endpoint]


def test_the_chat_estimate_is_within_a_tenth_of_the_tokens_the_server_counts(shell: Any) -> None:
    shell.user_ns["notes"] = ENGLISH
    _, out = run(shell, "chat", "--each notes --max-tokens 40 -s 'You summarise notes in one line.'",
                 "Summarise this note for a busy reader: {{row}}")
    estimated = _estimated_input(out)
    reported = _sent(shell, "/chat/completions")["prompt_tokens"].sum()
    assert abs(estimated - reported) <= 0.1 * reported, (estimated, reported)
    line = out.stdout.splitlines()[0]
    assert line.startswith(f"estimate: {len(ENGLISH)} requests to gpt-5.4-mini, ≈")
    assert f"{40 * len(ENGLISH):,} output tokens (at most 40 a reply, by --max-tokens)" in line
    assert re.search(r"about \$0\.\d+", line)


def test_the_embedding_estimate_is_within_a_tenth_too_and_only_over_estimate_over(shell: Any) -> None:
    shell.user_ns["notes"] = ENGLISH
    _, quiet = run(shell, "embed", "-i notes --no-cache")  # 12 texts: under the default 1000, nothing said
    assert "estimate:" not in quiet.stdout
    shell.run_line_magic("config", "OAIMagics.estimate_over = 10")
    _, out = run(shell, "embed", "-i notes --no-cache")
    sent = _sent(shell, "/embeddings")["prompt_tokens"]
    assert abs(_estimated_input(out) - sent.iloc[-1]) <= 0.1 * sent.iloc[-1]
    assert "1 request to text-embedding-3-small" in out.stdout and "output tokens" not in out.stdout


def test_above_confirm_over_it_asks_and_nothing_goes_out_before_a_yes(shell: Any, traffic: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shell.user_ns["notes"] = ENGLISH[:3]
    shell.run_line_magic("config", "OAIMagics.confirm_over = 0.0001")
    asked: list[str] = []

    def answer(reply: str) -> None:
        monkeypatch.setattr(builtins, "input", lambda question: asked.append(question) or reply)

    answer("n")
    with pytest.raises(UsageError, match="^not sent: nothing was paid$"):
        run(shell, "chat", "--each notes", "Summarise: {{row}}")
    assert traffic.seen("/v1/chat/completions") == 0
    assert re.fullmatch(r"about \$0\.\d+, over %config OAIMagics.confirm_over \(\$0\.00010\): send it\? \[y/N\] ", asked[0])
    answer("yes")
    answers, _ = run(shell, "chat", "--each notes", "Summarise: {{row}}")
    assert traffic.seen("/v1/chat/completions") == 3 and answers["error"].isna().all() and len(asked) == 2
    monkeypatch.setattr(builtins, "input", lambda question: pytest.fail("--yes asks nothing"))
    run(shell, "chat", "--each notes --yes", "Summarise: {{row}}")
    run(shell, "embed", "-i notes --no-cache --yes --batch-size 1")
    assert traffic.seen("/v1/chat/completions") == 6 and traffic.seen("/v1/embeddings") == 3


def test_a_kernel_that_cannot_ask_refuses_in_one_line_naming_yes(tmp_path: Path) -> None:
    cells = ["%load_ext oai_magics\n%oai use sandbox\n%config OAIMagics.confirm_over = 0.0001",
             f"notes = {ENGLISH[:2]!r}",
             "%%chat --each notes\nSummarise: {{row}}",
             "%%chat --each notes --yes -o answers\nSummarise: {{row}}",
             "%oai usage"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.cells[2].metadata["tags"] = ["raises-exception"]  # nbclient runs on past it
    path = tmp_path / "confirm.ipynb"
    nbformat.write(notebook, path)
    done = execute(path, timeout=120, workdir=tmp_path)
    # IPython shows a UsageError as one line on stderr, not as a traceback.
    [estimate, refused] = done.cells[2].outputs
    assert estimate.name == "stdout" and estimate.text.startswith("estimate: 2 requests to gpt-5.4-mini, ≈")
    assert refused.name == "stderr"
    assert re.fullmatch(r"UsageError: not sent: about \$0\.\d+, over %config OAIMagics.confirm_over \(\$0\.00010\), "
                        r"and this kernel cannot ask; add --yes to send it\n", refused.text)
    assert [o for o in done.cells[3].outputs if o.output_type == "error"] == []
    usage = "".join(o.get("text", "") for o in done.cells[4].outputs if o.output_type == "stream")
    assert usage.startswith("total: 3 requests")  # the back end's look-up, and the two rows sent with --yes


def test_a_budget_stops_the_job_keeps_the_finished_rows_and_a_rerun_sends_the_rest(shell: Any, traffic: Any) -> None:
    shell.user_ns["notes"] = ENGLISH
    # Each row is estimated at about $0.0002 (some 30 input tokens, 40 output at most, gpt-5.4-mini).
    answers, out = run(shell, "chat", "--each notes --max-tokens 40 --workers 1 --budget 0.0009 -o answers",
                       "Summarise: {{row}}")
    done = answers["error"].isna()
    assert 0 < done.sum() < len(ENGLISH)
    assert answers.loc[done, "reply"].str.len().gt(0).all()
    assert (answers.loc[~done, "error"] == "not sent: the budget of $0.00090 would be passed").all()
    sent = _sent(shell, "/chat/completions")
    answered = sent[sent["status"] == 200]  # beside the one request that found which max-tokens name the server takes
    assert len(answered) == done.sum()  # the rows refused never went out
    assert 0 < answered["cost"].sum() <= 0.0009
    assert f"budget $0.00090 reached: {done.sum()} of {len(ENGLISH)} rows done" in out.stdout
    again, _ = run(shell, "chat", "--each answers --max-tokens 40 --budget 1", "Summarise: {{row}}")
    sent = _sent(shell, "/chat/completions")
    assert again["error"].isna().all() and (sent["status"] == 200).sum() == len(ENGLISH)
    assert (again.loc[done, "reply"] == answers.loc[done, "reply"]).all()


def test_a_budget_over_embeddings_keeps_the_rows_that_arrived(shell: Any, traffic: Any) -> None:
    shell.user_ns["notes"] = ENGLISH * 50  # 600 texts of about 25 tokens: 3 batches of 200
    # A batch is estimated at about $0.00014 before it goes (an upper estimate), and costs about $0.0001.
    with pytest.raises(UsageError, match=r"^1 of 3 batches failed .*not sent: the budget of \$0\.00030 would be passed"):
        run(shell, "embed", "-i notes --no-cache --batch-size 200 --workers 1 --budget 0.0003")
    partial = shell.user_ns["_"]
    assert partial.iloc[:400].drop(columns="text").notna().all().all()
    assert partial.iloc[400:].drop(columns="text").isna().all().all()
    assert traffic.seen("/v1/embeddings") == 2


def test_budget_needs_a_price_and_a_job(shell: Any) -> None:
    shell.user_ns["notes"] = ENGLISH[:2]
    with pytest.raises(UsageError, match="^--budget: no price is known for my-model, so no spending can be counted"):
        run(shell, "chat", "--each notes -m my-model --budget 1", "Summarise: {{row}}")
    # A price for the input only cannot count what the replies cost: a budget on it would never stop.
    shell.run_line_magic("config", "OAIMagics.prices = {'my-model': {'input': 1.0}}")
    with pytest.raises(UsageError, match="^--budget: no output price is known for my-model, so the replies' "
                                         "spending cannot be counted"):
        run(shell, "chat", "--each notes -m my-model --budget 1", "Summarise: {{row}}")
    with pytest.raises(UsageError, match="^--budget and --yes go with --each VAR"):
        run(shell, "chat", "--budget 1", "Hello")
    with pytest.raises(UsageError, match="expected an amount of dollars above 0"):
        run(shell, "chat", "--each notes --budget -1", "Hello")
    with pytest.raises(UsageError, match="^not sent: the estimate passes --budget \\$0\\.0000010, and a Batch API job"):
        run(shell, "chat", "--each notes --batch --budget 0.000001", "Summarise: {{row}}")


def test_the_estimate_says_the_time_the_rate_limits_last_heard_allow(shell: Any, traffic: Any) -> None:
    shell.user_ns["notes"] = ENGLISH
    _, before = run(shell, "chat", "--each notes --max-tokens 20 --yes", "Summarise: {{row}}")
    assert "rate limits" not in before.stdout.splitlines()[0]  # none heard yet: no time rather than a guess
    traffic.limit(requests=100, tokens=100_000, window=60.0)  # per minute, as OpenAI's limits are
    run(shell, "chat", "--no-stream", "Hello")  # an answer that tells them
    _, out = run(shell, "chat", "--each notes --max-tokens 20", "Summarise: {{row}}")
    assert out.stdout.splitlines()[0].endswith(", at least 7 s at the rate limits last heard")  # 12 of 100 a minute


def test_the_embedding_estimate_counts_only_what_the_cache_does_not_hold(shell: Any) -> None:
    shell.run_line_magic("config", "OAIMagics.estimate_over = 5")
    shell.user_ns["notes"] = [f"{text} (copy {n})" for n in range(2) for text in ENGLISH]  # 24 texts
    shell.user_ns["half"] = shell.user_ns["notes"][:12]
    run(shell, "embed", "-i half --yes")
    _, out = run(shell, "embed", "-i notes")
    assert _estimated_input(out) < 0.6 * _estimated_input(run(shell, "embed", "-i notes --no-cache")[1])
    _, again = run(shell, "embed", "-i notes")  # everything held: nothing to pay, nothing said
    assert "estimate:" not in again.stdout
