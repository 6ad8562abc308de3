"""Token estimates, input checks and batch planning."""

from __future__ import annotations

import pytest

from oai_magics.embeddings import check_texts, plan_batches
from oai_magics.jobs.estimates import estimate_tokens


def test_the_token_budget_decides_where_batches_split() -> None:
    # The item limit (100) never binds: only the budget can make these splits.
    texts = ["short"] * 3 + ["x" * 3000] * 5  # 2 and 1,000 estimated tokens
    batches = plan_batches(texts, max_items=100, token_budget=2500)
    assert [(b.start, b.stop) for b in batches] == [(0, 5), (5, 7), (7, 8)]


def test_the_item_limit_splits_when_the_budget_does_not() -> None:
    batches = plan_batches(["short"] * 10, max_items=4, token_budget=10_000)
    assert [(b.start, b.stop) for b in batches] == [(0, 4), (4, 8), (8, 10)]
    assert plan_batches([]) == []


def test_cjk_text_counts_about_a_token_per_character() -> None:
    assert estimate_tokens("今日は良い天気ですね") >= 10
    assert estimate_tokens("한국어 문장입니다") >= 8
    assert estimate_tokens("plain english words here") == 8  # (24 + 2) // 3: unchanged for Latin text
    # 3,000 Han characters are about 3,000 tokens: a budget of 5,000 fits one, not two.
    batches = plan_batches(["漢" * 3000] * 3, max_items=100, token_budget=5000)
    assert [(b.start, b.stop) for b in batches] == [(0, 1), (1, 2), (2, 3)]


def test_an_over_long_cjk_text_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match=r"too long to embed .* row\(s\) b"):
        check_texts(["fine", "字" * 9000], ["a", "b"])
