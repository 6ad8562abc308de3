"""The chat view fed from two threads: its HTML is written under the lock its entries change under,
so a render built from older entries never lands after a newer one."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from oai_magics.widgets.chat_view import ChatView

pytestmark = pytest.mark.timeout(30)  # a view that locked its observers out would hang here, not fail


def held_elsewhere(lock: Any) -> bool:
    """Whether another thread holds `lock` now (asked from a thread of its own, without waiting)."""
    free: list[bool] = []

    def probe() -> None:
        free.append(lock.acquire(blocking=False))
        if free[-1]:
            lock.release()

    prober = threading.Thread(target=probe)
    prober.start()
    prober.join()
    return not free[0]


def test_the_widget_is_written_while_the_view_is_locked() -> None:
    view = ChatView(min_interval=0)
    writes: list[bool] = []
    view.widget.observe(lambda _change: writes.append(held_elsewhere(view.lock)), names="value")
    worker = threading.Thread(target=lambda: [view.start_reply(), view.append("Hello"), view.end_reply()])
    worker.start()
    worker.join()
    view.show_messages([("user", "Hi")])
    assert len(writes) >= 3 and all(writes), writes


def test_an_observer_of_the_view_may_read_it() -> None:
    """The write happens under the lock: an observer reading the view in the same thread goes on."""
    view = ChatView(min_interval=0)
    read: list[str] = []
    view.widget.observe(lambda _change: read.append(view.reply_text), names="value")
    view.start_reply()
    view.append("Hello")
    assert read[-1] == "Hello"
