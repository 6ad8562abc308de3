"""A reply that grows in place: one display handle, re-rendered a few times a second.

In a notebook the text is shown as Markdown and updated at most every `interval` seconds (plus
once at the end), not per token; in a terminal it is printed as it arrives.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from IPython.display import Markdown, display

__all__ = ["StreamView", "rich_frontend"]


def rich_frontend() -> bool:
    """Whether a frontend that renders Markdown is attached (a kernel, not a terminal)."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class StreamView:
    """Collects text pieces and keeps one output showing them."""

    def __init__(self, interval: float = 0.15, rich: bool | None = None) -> None:
        self.interval = interval
        self.rich = rich_frontend() if rich is None else rich
        self.parts: list[str] = []
        self._handle: Any = None
        self._last = 0.0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if not piece:
            return
        self.parts.append(piece)
        if not self.rich:
            sys.stdout.write(piece)
            sys.stdout.flush()
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._render()
            self._last = now

    def finish(self, note: str = "") -> None:
        """The final render: the whole text (and a note such as 'interrupted')."""
        if not self.rich:
            sys.stdout.write((f"\n{note}" if note else "") + "\n")
            sys.stdout.flush()
            return
        self._render(suffix=f"\n\n*{note}*" if note else "")

    def _render(self, suffix: str = "") -> None:
        content = Markdown(self.text + suffix)
        if self._handle is None:
            self._handle = display(content, display_id=True)
        else:
            self._handle.update(content)
