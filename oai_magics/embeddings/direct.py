"""Many texts to one embedding matrix by direct requests: the texts the cache does not know are
batched, sent concurrently at the pace the rate limits allow, retried when a retry can help, and
shown on a progress bar; what failed is reported with what succeeded.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..client import Client
from ..jobs.budget import Budget, spending
from ..jobs.estimates import estimate_tokens
from ..jobs.pacing import Pacer, paced_call
from ..jobs.workers import Workers
from ..local_errors import LocalError
from .cache import EmbeddingCache
from .planning import MAX_ITEMS, Batch, plan_batches

__all__ = ["embed_texts", "EmbeddingJobError", "RowMatrix", "row_spans"]

PROGRESS_FROM = 4  # batches: fewer finish too fast for a bar to help


class EmbeddingJobError(LocalError):
    """Some batches failed; `matrix` holds the rows that succeeded (NaN elsewhere), `failed_rows` the others."""

    def __init__(self, message: str, matrix: np.ndarray, failed: list[Batch], failed_rows: list[int] | None = None) -> None:
        super().__init__(message)
        self.matrix = matrix
        self.failed = failed
        self.failed_rows = failed_rows if failed_rows is not None else [r for b in failed for r in range(b.start, b.stop)]


@dataclass
class _Job:
    """What every batch of one job shares."""

    client: Client
    texts: list[str]  # the texts to send (those the cache did not have)
    model: str
    extra: dict
    attempts: int
    pacer: Pacer
    stop: threading.Event
    out: "RowMatrix"
    rows: list[int]  # the result row of each text sent
    keep: Callable[[Sequence[str], np.ndarray], None] | None = None  # the cache's store, if any
    budget: Budget | None = None  # --budget: each batch reserves its estimated cost before it goes
    closed: bool = False  # the job has returned: an answer landing now is dropped
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run_and_keep(self, batch: Batch) -> None:
        """Send one batch and put its rows in place at once (a Future holding every block until
        the job ends would double the job's peak memory)."""
        block = self.run(batch)
        # Under the lock, the cache's store too: once the job is closed, no batch is half kept and
        # the caller may close the cache (whose writes are one at a time anyway).
        with self.lock:
            if self.closed:
                return
            self.out.put(self.rows[batch.start:batch.stop], block)
            if self.keep is not None:
                self.keep(self.texts[batch.start:batch.stop], block)

    def run(self, batch: Batch) -> np.ndarray:
        """One batch, retried when the failure is one a retry can mend."""
        inputs = self.texts[batch.start:batch.stop]
        tokens = sum(estimate_tokens(t) for t in inputs)
        with spending(self.budget, self.budget.cost(self.model, {"prompt_tokens": tokens}) if self.budget else 0.0):
            return paced_call(lambda headers: self.client.embeddings.create(model=self.model, input=inputs,
                                                                            extra_headers=headers, **self.extra).matrix,
                              self.pacer, tokens, self.attempts, self.stop,
                              resend_unanswered=True)  # an embedding changes nothing at the server: only its cost repeats


def embed_texts(client: Client, texts: Sequence[str], model: str, *, dimensions: int | None = None,
                batch_size: int = MAX_ITEMS, workers: int = 4, attempts: int = 2, progress: bool = True,
                cache: EmbeddingCache | None = None, pacer: Pacer | None = None,
                budget: Budget | None = None) -> np.ndarray:
    """One float32 row per text, in order; raises EmbeddingJobError with the partial matrix.

    With a cache, only the texts it does not hold are sent, and what arrives is added to it as it
    arrives (so a re-run after a failure sends only the rows that failed). `batch_size` above the
    API's limit (2048) is that limit. With a `budget` (listening to `client`), the batches it refuses
    fail as batches do, the rows that arrived kept.
    """
    for name, value in (("batch_size", batch_size), ("attempts", attempts), ("dimensions", dimensions)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, not {value}")
    texts = list(texts)
    out = RowMatrix(len(texts))
    todo = cache.fill(client.base_url, model, dimensions, texts, out.put) if cache else list(range(len(texts)))
    pending = [texts[row] for row in todo]
    batches = plan_batches(pending, max_items=min(batch_size, MAX_ITEMS))
    keep = functools.partial(cache.store, client.base_url, model, dimensions) if cache else None
    pacer = pacer or Pacer()
    errors: dict[Batch, BaseException] = {}
    bar = _progress(len(texts), initial=len(texts) - len(todo)) if progress and len(batches) >= PROGRESS_FROM else None

    def done(batch: Batch, error: BaseException | None) -> None:
        if error is not None:
            errors[batch] = error
        if bar is not None:
            bar.update(batch.size)

    try:
        with Workers[Batch](client, pacer, workers, len(batches), "embed") as pool:
            job = _Job(pool.client, pending, model, {"dimensions": dimensions} if dimensions else {}, attempts, pacer,
                       pool.stop, out, todo, keep, budget)
            finished = pool.run(job.run_and_keep, batches, done)
            with job.lock:  # an answer landing from now on is dropped (after Ctrl-C, a batch still in flight)
                job.closed = True
    finally:
        if bar is not None:
            bar.close()
    interrupted = not finished
    if interrupted:
        errors = {b: KeyboardInterrupt("interrupted") for b in batches if not out.filled[todo[b.start]]}
    return _finish(out, batches, todo, errors, interrupted)


class RowMatrix:
    """The result, allocated once the width is known, filled row block by row block."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.matrix: np.ndarray | None = None
        self.filled = np.zeros(count, dtype=bool)
        self._lock = threading.Lock()

    def _ensure(self, width: int) -> np.ndarray:
        with self._lock:  # batches finish on several threads; the first one sizes the matrix
            if self.matrix is None:  # not np.full: every row is written once, by a vector or by NaN
                self.matrix = np.empty((self.count, width), dtype=np.float32)
        return self.matrix

    def put(self, rows: Sequence[int] | np.ndarray, block: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.intp)
        self._ensure(block.shape[1])[rows] = block
        self.filled[rows] = True

    def result(self) -> np.ndarray:
        """The matrix, NaN in the rows nothing arrived for."""
        if self.matrix is None:
            return np.full((self.count, 0), np.nan, dtype=np.float32)
        if not self.filled.all():
            self.matrix[~self.filled] = np.nan
        return self.matrix


def row_spans(rows: Sequence[int], limit: int = 5) -> str:
    """"rows 0-9, rows 30-39 ..." for sorted row numbers."""
    spans: list[tuple[int, int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    shown = ", ".join(f"rows {a}-{b}" if a != b else f"row {a}" for a, b in spans[:limit])
    return shown + (" ..." if len(spans) > limit else "")


def _finish(out: RowMatrix, batches: list[Batch], todo: list[int], errors: dict, interrupted: bool) -> np.ndarray:
    matrix = out.result()
    if not errors:
        return matrix
    failed = sorted(errors, key=lambda b: b.start)
    failed_rows = sorted(todo[r] for b in failed for r in range(b.start, b.stop))
    done = out.count - len(failed_rows)
    what = "interrupted" if interrupted else str(errors[failed[0]])
    raise EmbeddingJobError(f"{len(failed)} of {len(batches)} batches failed ({row_spans(failed_rows)}): {what}; "
                            f"{done} rows succeeded", matrix, failed, failed_rows) from errors[failed[0]]


def _progress(total: int, initial: int = 0) -> Any:
    from ..jobs.progress import progress_bar

    return progress_bar(total, "embedding", "text", initial)
