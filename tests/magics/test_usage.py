"""%oai usage: one row per request, the same seconds as the reply line, integer statuses, totals."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from .conftest import listing_done, run


def test_one_row_per_request_with_its_model_status_tokens_and_request_id(shell: Any, faults: Any) -> None:
    run(shell, "chat", "", "Tell me about Lisbon trams")  # streamed
    run(shell, "chat", "--no-stream", "And about Porto?")
    faults(path="/v1/embeddings", status=503, count=1)
    run(shell, "embed", "a text")  # retried once, then answered
    listing_done(shell)  # the session's own listing (for shutdown dates) is not the request to fail
    faults(path="/v1/models", status=404, count=1)
    with pytest.raises(UsageError, match="NotFoundError"):
        run(shell, "oai", "models")
    full, out = run(shell, "oai", "usage")
    assert list(full.index) == list(range(1, len(full) + 1))
    log = full[full["endpoint"] != "/assistants"]  # the profile's back end, looked up once
    assert list(log["endpoint"]) == ["/chat/completions", "/chat/completions", "/embeddings", "/models"]
    assert list(log["model"]) == ["gpt-5.4-mini", "gpt-5.4-mini", "text-embedding-3-small", None]
    assert str(log["status"].dtype) == "Int64" and list(log["status"]) == [200, 200, 200, 404]
    assert list(log["retries"]) == [0, 0, 1, 0]
    assert all(log["request_id"].str.startswith("req_"))
    streamed = log.iloc[0]
    assert streamed["completion_tokens"] > 0 and streamed["total_tokens"] > streamed["completion_tokens"]
    assert log.iloc[2]["prompt_tokens"] > 0 and log.iloc[3]["total_tokens"] == 0
    totals = out.stdout.strip().splitlines()[0]
    assert totals.startswith(f"total: {len(full)} requests (1 failed, 1 retries), ")
    assert totals.endswith(f"{full['total_tokens'].sum()} tokens")


def test_a_stream_counts_until_its_last_byte_like_the_reply_line(shell: Any) -> None:
    delay = 0.05
    shell.run_line_magic("config", f"OAIMagics.sandbox_token_delay = {delay}")
    run(shell, "oai", "use sandbox")  # the embedded one, pacing its chunks
    _, out = run(shell, "chat", "--max-tokens 8", "Tell me about Lisbon trams")
    shown = float(re.search(r"· ([\d.]+) s ·", out.stdout).group(1))
    chunks = int(re.search(r"(\d+) completion tokens", out.stdout).group(1))
    log, _ = run(shell, "oai", "usage")
    streamed = log.iloc[-1]
    # Each of its chunks after the first came `delay` seconds after the one before; the reply
    # line's clock started before the request and stopped after the stream ended.
    assert chunks * delay <= streamed["seconds"] <= shown + 0.005
    assert streamed["completion_tokens"] == chunks


def test_a_request_that_got_no_answer_has_no_status_not_nan(shell: Any, faults: Any) -> None:
    faults(path="/v1/moderations", drop=True, count=1)  # a POST that went out is not sent twice
    with pytest.raises(UsageError, match="closed the connection without answering; not re-sent"):
        run(shell, "oai", "moderate hello")
    log, _ = run(shell, "oai", "usage")
    assert log["status"].isna().all() and str(log["status"].dtype) == "Int64"
    assert log["status"].astype(object).tolist() == [pd.NA]
