"""What a person sees while a run goes: the reply streaming as Markdown and one live status line
(status, elapsed seconds, steps), plus a line for each tool call and its output."""

from __future__ import annotations

import time
from typing import Any

from ..assistants.base import (ActionRequired, RunEnded, RunEvent, StatusChanged, StepChanged, TextDelta, ToolOutput,
                               why_ended)
from ..assistants.steps import StepTally
from ..display.stream import StreamView

__all__ = ["RunView"]


class RunView:
    """Consumes run events; `finish()` writes the closing line."""

    def __init__(self, interval: float) -> None:
        self.reply = StreamView(interval=interval)
        self.started = time.monotonic()
        self.status = "starting"
        self.steps = StepTally()
        self._line: Any = None
        self._drawn = 0.0  # when the status line was last drawn

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, TextDelta):
            self.reply.add(event.text)
            if time.monotonic() - self._drawn >= 1.0:  # keep the elapsed seconds moving while text streams
                self._status_line()
        elif isinstance(event, StatusChanged):
            self.status = event.run["status"]
            self._status_line()
        elif isinstance(event, StepChanged):
            self.steps.update(event.step)
            self._status_line()
        elif isinstance(event, ToolOutput):
            call = event.call
            self.reply.add(f"\n\n> tool call: `{call['name']}({call['arguments']})` → `{event.output[:200]}`\n\n")
            self.steps.answer(call["id"])
            self._status_line()
        elif isinstance(event, ActionRequired):
            self.status = "requires_action"
            self._status_line()
        elif isinstance(event, RunEnded):
            self.status = why_ended(event.run)
            self._status_line()

    def status_text(self) -> str:
        return f"{self.status} · {time.monotonic() - self.started:.1f} s · {self.steps.counter()}"

    def interrupted(self, status: str) -> None:
        """After Ctrl-C: the line says where the run was left (cancelled, or interrupted when the
        cancel did not end it), not the last status that streamed."""
        self.status = status

    def _status_line(self) -> None:
        if not self.reply.rich:
            return  # a terminal gets the closing line only; status lines would interleave with the text
        from IPython.display import HTML, display

        self._drawn = time.monotonic()
        content = HTML(f'<div class="oai-run-status" style="color:#888">{self.status_text()}</div>')
        if self._line is None:
            self._line = display(content, display_id=True)
        else:
            self._line.update(content)

    def finish(self, note: str = "") -> None:
        self.reply.finish(note)
        if self.reply.rich:
            self._status_line()
        else:
            print(f"[{self.status_text()}]")
