"""The worker threads of one job of many requests (an embedding job, `%%chat --each`), and how
Ctrl-C stops them.

The job's requests go over connections of its own (`Client.with_own_connections()`), told to the
job's pacer. Ctrl-C stops the pacer (no new request goes), aborts the job's connections (a request
waiting for its answer fails at once instead of holding its socket and its thread until the server
answers or the timeout ends), and gives the workers a moment to end: an answer that had already
arrived is still put in place, and no thread is left blocked.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from typing import Callable, Generic, Iterable, TypeVar

from ..client import Client, OpenAIError
from .pacing import Pacer, Stopped

__all__ = ["Workers", "STOP_WAIT"]

T = TypeVar("T")
STOP_WAIT = 2.0  # seconds Ctrl-C waits for the workers, whose sockets are already cut, to end


class Workers(Generic[T]):
    """Runs `work(item)` for many items on at most `count` threads; use it as a context manager."""

    def __init__(self, client: Client, pacer: Pacer, count: int, items: int, name: str) -> None:
        if count < 1:
            raise ValueError(f"workers must be at least 1, not {count}")
        self.client = client.with_own_connections()
        self.pacer = pacer
        self.stop = threading.Event()  # set by Ctrl-C: retries give up their wait
        self.client.response_observers.append(pacer.observe)
        # Never more threads than pooled connections (the extra ones would only queue for one),
        # nor than there are items.
        size = min(count, self.client.max_connections, max(items, 1))
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"oai-{name}")
        self.interrupted = False

    def run(self, work: Callable[[T], None], items: Iterable[T],
            done: Callable[[T, OpenAIError | Stopped | None], None]) -> bool:
        """`done(item, error)` as each item ends, in the order they end; False if Ctrl-C stopped the job.

        Errors other than the API's and Stopped are bugs and propagate.
        """
        futures: dict[Future, T] = {}
        try:
            # Submitting is inside: the first submit waits for its thread to start, and by then
            # the first answer (and a Ctrl-C after it) may have come.
            for item in items:
                futures[self._pool.submit(work, item)] = item
            for future in as_completed(futures):
                try:
                    future.result()
                except (OpenAIError, Stopped) as exc:
                    done(futures[future], exc)
                else:
                    done(futures[future], None)
        except KeyboardInterrupt:
            self._interrupt(futures)
            return False
        return True

    def _interrupt(self, futures: dict[Future, T]) -> None:
        self.interrupted = True
        self.stop.set()
        self.pacer.stop()
        self.client.abort()
        self._pool.shutdown(wait=False, cancel_futures=True)
        wait([f for f in futures if not f.done()], timeout=STOP_WAIT)

    def __enter__(self) -> "Workers[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None or self.interrupted:
            # A failure stops the other requests too. The threads are not waited for: after Ctrl-C
            # they have had their moment already, and one still connecting fails once connected.
            self.client.abort()
            self._pool.shutdown(wait=False, cancel_futures=True)
        else:
            self._pool.shutdown()
        self.client.close()
