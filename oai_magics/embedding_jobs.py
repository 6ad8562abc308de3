"""Many texts to one embedding matrix: batched by count and token budget, batches sent
concurrently, each retried, with a progress bar on long jobs and a clear report of what failed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .client import Client, OpenAIError

__all__ = ["Batch", "plan_batches", "embed_texts", "EmbeddingJobError", "check_texts", "estimate_tokens"]

MAX_ITEMS = 2048  # the API's limit per request
TOKEN_BUDGET = 250_000  # below the API's 300k tokens per request, as estimates can be low
MAX_TOKENS_PER_TEXT = 8191
PROGRESS_FROM = 4  # batches: fewer finish too fast for a bar to help


@dataclass(frozen=True)
class Batch:
    start: int
    stop: int  # exclusive


class EmbeddingJobError(Exception):
    """Some batches failed after their retries; `matrix` holds the rows that succeeded (NaN elsewhere)."""

    def __init__(self, message: str, matrix: np.ndarray, failed: list[Batch]) -> None:
        super().__init__(message)
        self.matrix = matrix
        self.failed = failed


def estimate_tokens(text: str) -> int:
    """A tokenizer-free upper estimate (about four characters a token, at least one per word)."""
    return max(len(text.split()), (len(text) + 2) // 3)


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


def embed_texts(client: Client, texts: Sequence[str], model: str, *, dimensions: int | None = None,
                batch_size: int = MAX_ITEMS, workers: int = 4, attempts: int = 2, progress: bool = True) -> np.ndarray:
    """One float32 row per text, in order; raises EmbeddingJobError with the partial matrix."""
    batches = plan_batches(texts, max_items=min(batch_size, MAX_ITEMS))
    extra = {"dimensions": dimensions} if dimensions else {}

    def run(batch: Batch) -> np.ndarray:
        last: OpenAIError | None = None
        for _ in range(attempts):  # on top of the client's own retries of each request
            try:
                return client.embeddings.create(model=model, input=list(texts[batch.start:batch.stop]), **extra).matrix
            except OpenAIError as exc:
                last = exc
        assert last is not None
        raise last

    results: dict[Batch, np.ndarray] = {}
    errors: dict[Batch, BaseException] = {}
    bar = _progress(len(texts)) if progress and len(batches) >= PROGRESS_FROM else None
    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(batches)))) as pool:
        futures = {pool.submit(run, batch): batch for batch in batches}
        try:
            for future in as_completed(futures):
                batch = futures[future]
                try:
                    results[batch] = future.result()
                except OpenAIError as exc:
                    errors[batch] = exc
                if bar is not None:
                    bar.update(batch.stop - batch.start)
        except KeyboardInterrupt:  # Ctrl-C: stop sending, keep what has arrived
            interrupted = True
            for future in futures:
                future.cancel()
        finally:
            if bar is not None:
                bar.close()
    if interrupted:  # batches in flight at Ctrl-C finished while the pool shut down: keep them too
        for future, batch in futures.items():
            if batch not in results and future.done() and not future.cancelled() and future.exception() is None:
                results[batch] = future.result()
        errors.update({b: KeyboardInterrupt("interrupted") for b in batches if b not in results and b not in errors})
    return _assemble(len(texts), batches, results, errors, interrupted)


def _assemble(count: int, batches: list[Batch], results: dict, errors: dict, interrupted: bool = False) -> np.ndarray:
    width = next(iter(results.values())).shape[1] if results else 0
    matrix = np.full((count, width), np.nan, dtype=np.float32)
    for batch, rows in results.items():
        matrix[batch.start:batch.stop] = rows
    if errors:
        failed = sorted(errors, key=lambda b: b.start)
        spans = ", ".join(f"rows {b.start}-{b.stop - 1}" for b in failed[:5]) + (" ..." if len(failed) > 5 else "")
        done = count - sum(b.stop - b.start for b in failed)
        what = "interrupted" if interrupted else str(errors[failed[0]])
        raise EmbeddingJobError(f"{len(failed)} of {len(batches)} batches failed ({spans}): {what}; "
                                f"{done} rows succeeded", matrix, failed)
    return matrix


def _progress(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="embedding", unit="text")
