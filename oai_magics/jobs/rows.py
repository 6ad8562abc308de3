"""One request per row: sent concurrently at the pace the rate limits allow, each failure kept on
its own row so a re-run can send only those. `%%chat --each` is built on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..client import Client, OpenAIError
from .budget import Budget, OverBudget, spending
from .estimates import estimate_tokens
from .pacing import Pacer, Stopped, paced_call
from .workers import Workers

__all__ = ["RowResult", "run_rows"]


@dataclass
class RowResult:
    """What one row's request gave: its value, or the one-line error that stopped it."""

    value: Any = None
    error: str | None = None
    status: int | None = None  # the HTTP status of the error, when the server answered


def run_rows(client: Client, prompts: Sequence[str | None], send: Callable[[Client, str, Mapping[str, str]], Any], *,
             workers: int = 4, attempts: int = 2, pacer: Pacer | None = None, progress: bool = True,
             budget: Budget | None = None, row_cost: Callable[[str], float] | None = None) -> list[RowResult]:
    """`send(client, prompt, headers)` for every prompt that is not None (None: the row is already done),
    in order; `client` is the job's own (see the `workers` module), so Ctrl-C can cut the requests in
    flight, and `headers` go with the call (`extra_headers`): its Idempotency-Key, the same on every attempt.

    Ctrl-C stops sending; the rows not answered by then are marked "interrupted". With a `budget`,
    each row reserves `row_cost(prompt)` dollars before it goes, and the rows it refuses are marked so.
    """
    pacer = pacer or Pacer()
    results = [RowResult() for _ in prompts]
    todo = [row for row, prompt in enumerate(prompts) if prompt is not None]
    bar = _progress(len(todo)) if progress and len(todo) > 1 else None

    def done(row: int, error: OpenAIError | Stopped | None) -> None:
        if error is not None:
            stopped = isinstance(error, Stopped) and not isinstance(error, OverBudget)
            results[row].error = "interrupted" if stopped else str(error)
            results[row].status = getattr(error, "status", None)
        if bar is not None:
            bar.update(1)

    try:
        with Workers[int](client, pacer, workers, len(todo), "rows") as pool:
            def one(row: int) -> None:
                prompt = prompts[row]
                assert prompt is not None
                with spending(budget, row_cost(prompt) if budget is not None and row_cost else 0.0):
                    results[row].value = paced_call(lambda headers: send(pool.client, prompt, headers), pacer,
                                                    estimate_tokens(prompt), attempts, pool.stop)

            pool.run(one, todo, done)
    finally:
        if bar is not None:
            bar.close()
    for row in todo:
        if results[row].value is None and results[row].error is None:
            results[row].error = "interrupted"
    return results


def _progress(total: int) -> Any:
    from .progress import progress_bar

    return progress_bar(total, "rows", "row")
