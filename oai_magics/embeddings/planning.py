"""Splitting many texts into requests: input checks, and consecutive batches that respect both the
item limit and the token budget of one request (by the job layer's token estimate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..jobs.estimates import estimate_tokens

__all__ = ["Batch", "plan_batches", "check_texts", "MAX_ITEMS", "TOKEN_BUDGET"]

MAX_ITEMS = 2048  # the API's limit per request
TOKEN_BUDGET = 250_000  # below the API's 300k tokens per request, as estimates can be low
MAX_TOKENS_PER_TEXT = 8191


@dataclass(frozen=True)
class Batch:
    start: int
    stop: int  # exclusive

    @property
    def size(self) -> int:
        return self.stop - self.start


def check_texts(texts: Sequence[str], labels: Sequence[object]) -> None:
    """Empty and over-long texts are refused up front, naming their rows."""
    empty = [str(labels[i]) for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if empty:
        raise ValueError(f"empty or non-text input in row(s) {', '.join(empty[:10])}{' ...' if len(empty) > 10 else ''}")
    long = [str(labels[i]) for i, t in enumerate(texts) if estimate_tokens(t) > MAX_TOKENS_PER_TEXT]
    if long:
        raise ValueError(f"text too long to embed (over ~{MAX_TOKENS_PER_TEXT} tokens) in row(s) {', '.join(long[:10])}")


def plan_batches(texts: Sequence[str], max_items: int = MAX_ITEMS, token_budget: int = TOKEN_BUDGET) -> list[Batch]:
    """Consecutive batches within both the item limit and the token budget."""
    batches, start, tokens = [], 0, 0
    for index, text in enumerate(texts):
        cost = estimate_tokens(text)
        if index > start and (index - start >= max_items or tokens + cost > token_budget):
            batches.append(Batch(start, index))
            start, tokens = index, 0
        tokens += cost
    if start < len(texts):
        batches.append(Batch(start, len(texts)))
    return batches
