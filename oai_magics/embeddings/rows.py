"""One request per row: sent concurrently at the pace the rate limits allow, each failure kept on
its own row so a re-run can send only those. `%%chat --each` is built on it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..client import Client, OpenAIError
from .pacing import Pacer, Stopped, paced_call
from .planning import estimate_tokens

__all__ = ["RowResult", "run_rows"]


@dataclass
class RowResult:
    """What one row's request gave: its value, or the one-line error that stopped it."""

    value: Any = None
    error: str | None = None


def run_rows(client: Client, prompts: Sequence[str | None], send: Callable[[str], Any], *, workers: int = 4,
             attempts: int = 2, pacer: Pacer | None = None, progress: bool = True) -> list[RowResult]:
    """`send(prompt)` for every prompt that is not None (None: the row is already done), in order.

    Ctrl-C stops sending; the rows not answered by then are marked "interrupted".
    """
    pacer = pacer or Pacer()
    stop = threading.Event()
    results = [RowResult() for _ in prompts]
    todo = [row for row, prompt in enumerate(prompts) if prompt is not None]
    bar = _progress(len(todo)) if progress and len(todo) > 1 else None

    def one(row: int) -> None:
        prompt = prompts[row]
        assert prompt is not None
        results[row].value = paced_call(lambda: send(prompt), pacer, estimate_tokens(prompt), attempts, stop)

    client.response_observers.append(pacer.observe)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, client.max_connections, len(todo) or 1))) as pool:
            futures = {pool.submit(one, row): row for row in todo}
            try:
                for future in as_completed(futures):
                    try:
                        future.result()
                    except (OpenAIError, Stopped) as exc:
                        results[futures[future]].error = "interrupted" if isinstance(exc, Stopped) else str(exc)
                    if bar is not None:
                        bar.update(1)
            except KeyboardInterrupt:
                stop.set()
                pacer.stop()
                for future in futures:
                    future.cancel()
            finally:
                if bar is not None:
                    bar.close()
    finally:
        client.response_observers.remove(pacer.observe)
    for row in todo:
        if results[row].value is None and results[row].error is None:
            results[row].error = "interrupted"
    return results


def _progress(total: int) -> Any:
    from .progress import progress_bar

    return progress_bar(total, "rows", "row")
