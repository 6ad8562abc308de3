"""The builder's chat view: the thread's messages and the reply as it streams, in one HTML widget.

Only the widget's `value` trait changes, so the view may be fed from a worker thread (a trait set
is one comm message; `with output:` from a thread would print into whatever cell runs meanwhile).
The HTML is built and written under one lock: a render built from older entries can never land
after a newer one (the worker streams a reply while the main thread shows a thread's history).
Deltas are gathered and the HTML is rebuilt at most every `min_interval` seconds, not per token.
Replies are Markdown (rendered by mistune with raw HTML escaped); what the user typed is shown as typed.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass

import ipywidgets as widgets
import mistune

__all__ = ["ChatView"]

ROLE_STYLE = {
    "user": ("You", "#e8f0fe"),
    "assistant": ("Assistant", "#f1f3f4"),
    "tool": ("Tool", "#fef7e0"),
}


# escape=True: HTML inside a reply is shown as text, never run in the page.
_markdown = mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])


@dataclass
class Entry:
    role: str
    text: str
    note: str = ""  # a small line under the text: "stream broken: partial reply kept", say


class ChatView:
    """Messages in order; the last assistant entry grows while a reply streams."""

    def __init__(self, min_interval: float = 0.1) -> None:
        self.widget = widgets.HTML(value=self._empty()).add_class("oai-chat")
        self.min_interval = min_interval
        self._entries: list[Entry] = []
        # Held while the entries change and while their HTML is written. Reentrant: an observer of
        # the widget's value runs inside the write, and may read the view.
        self.lock = threading.RLock()
        self._rendered_at = 0.0

    # -- what the builder calls --------------------------------------------------------------
    def show_messages(self, messages: list[tuple[str, str]]) -> None:
        """Replace the view with a thread's history: (role, text) pairs, oldest first."""
        with self.lock:
            self._entries = [Entry(role, text) for role, text in messages]
        self.render()

    def add(self, role: str, text: str, note: str = "") -> None:
        with self.lock:
            self._entries.append(Entry(role, text, note))
        self.render()

    def start_reply(self) -> None:
        with self.lock:
            self._entries.append(Entry("assistant", ""))
        self.render()

    def append(self, text: str) -> None:
        """Add streamed text to the reply; rendered when `min_interval` has passed since the last time."""
        with self.lock:
            if not self._entries or self._entries[-1].role != "assistant":
                self._entries.append(Entry("assistant", ""))
            self._entries[-1].text += text
            due = time.monotonic() - self._rendered_at >= self.min_interval
        if due:
            self.render()

    def end_reply(self, note: str = "") -> None:
        """The reply is over: render what arrived, with an optional note under it."""
        with self.lock:
            if self._entries and self._entries[-1].role == "assistant":
                self._entries[-1].note = note
                if not self._entries[-1].text and not note:
                    self._entries.pop()  # a run that produced no text (it asked for tools) leaves no bubble
        self.render()

    @property
    def reply_text(self) -> str:
        """The text of the latest assistant entry (what has streamed so far)."""
        with self.lock:
            for entry in reversed(self._entries):
                if entry.role == "assistant":
                    return entry.text
        return ""

    @property
    def entries(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(entry.role, entry.text) for entry in self._entries]

    # -- rendering ---------------------------------------------------------------------------
    def render(self) -> None:
        with self.lock:
            self._rendered_at = time.monotonic()
            self.widget.value = "".join(self._bubble(entry) for entry in self._entries) or self._empty()

    @staticmethod
    def _empty() -> str:
        return '<div class="oai-chat-empty" style="color:#777">No messages yet.</div>'

    @staticmethod
    def _bubble(entry: Entry) -> str:
        label, colour = ROLE_STYLE.get(entry.role, (entry.role.title(), "#f1f3f4"))
        note = (f'<div class="oai-chat-note" style="color:#b00020;font-size:90%">{html.escape(entry.note)}</div>'
                if entry.note else "")
        if entry.role == "assistant":
            text = f'<div class="oai-chat-text">{_markdown(entry.text)}</div>'
        else:
            text = f'<div class="oai-chat-text" style="white-space:pre-wrap">{html.escape(entry.text)}</div>'
        return (f'<div class="oai-chat-message oai-chat-{html.escape(entry.role)}" '
                f'style="background:{colour};border-radius:6px;padding:4px 8px;margin:4px 0">'
                f'<b>{html.escape(label)}</b>{text}{note}</div>')
