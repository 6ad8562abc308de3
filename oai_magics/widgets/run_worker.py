"""What the builder's worker thread does with a run: start it (uploading attached files first),
follow its events into the form, submit tool outputs, cancel it while it waits.

Everything here runs off the kernel's main thread, so the form is changed only through widget
traits (status, steps, chat, tool-call panel, buttons), never by printing into an `Output`.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from ..assistants import (ActionRequired, RunEnded, RunHandle, RunRecord, StatusChanged, StepChanged,
                          StepRecord, TextDelta, ToolCall, ToolOutput, why_ended)

from ..client.errors import APIConnectionError
from ..local_errors import LocalError

if TYPE_CHECKING:
    from .builder import ThreadRunBuilder

__all__ = ["RunFollower", "RunOutcome", "RunProgress", "one_line"]

MAX_LINE = 300
STEP_MARK = {"completed": "✓", "in_progress": "…", "cancelled": "✗", "failed": "✗", "expired": "✗"}


@dataclass
class RunOutcome:
    """How a job of the builder ended: a run that ended or waits for tool outputs, or an error."""

    status: str  # a run status ("completed", "requires_action", "cancelled" ...) or "error"
    text: str = ""  # the reply text that streamed (kept when the stream broke)
    thread_id: str | None = None
    run: RunRecord | None = None
    error: str | None = None  # the one line shown in the form
    pending_calls: list[ToolCall] = field(default_factory=list)


def one_line(error: BaseException) -> str:
    """An error as the form shows it: its kind and first line (with its hint, for our own), never a traceback."""
    text = error.line() if isinstance(error, LocalError) else str(error).strip()
    text = text.splitlines()[0] if text else ""
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def _maybe_received(error: APIConnectionError) -> APIConnectionError:
    """The error of a run start that went out unanswered: sending the message again could start a
    second run, so the line says so first, where a cut to `MAX_LINE` cannot take it away."""
    what = error.unanswered or error.message
    return type(error)(f"the server may have received the message: look at the thread before sending it again "
                       f"({what})", sent=True, unanswered=error.unanswered, request_id=error.request_id)


@dataclass
class RunProgress:
    """What the form shows about the current run across its phases (before and after tool outputs)."""

    started: float = field(default_factory=time.monotonic)
    steps: dict[str, StepRecord] = field(default_factory=dict)


class RunFollower:
    """One job of the worker on the builder's run; what outlives the job is in `form.progress`."""

    def __init__(self, builder: "ThreadRunBuilder") -> None:
        self.form = builder

    # -- the jobs ----------------------------------------------------------------------------
    def start(self, request: dict[str, Any], uploads: list[tuple[str, bytes]]) -> RunOutcome:
        form = self.form
        form.progress = RunProgress()
        form.status.value = "starting…"
        form.steps.value = ""
        try:
            file_ids = [self._upload(name, content) for name, content in uploads]
            handle = form.backend.start_run(request["assistant"], file_ids=file_ids, stream=True,
                                            **{k: v for k, v in request.items() if k != "assistant"})
        except Exception as error:
            if not form.message.value:  # kept to edit or send again, whether or not it reached the thread
                form.message.value = request["message"]
            if isinstance(error, APIConnectionError) and error.sent:
                raise _maybe_received(error) from error
            raise
        form.chat.add("user", request["message"] + "".join(f"\n📎 {name}" for name, _ in uploads))
        form.handle = handle
        if uploads:
            form.files.value = ()
        if form._cancel_wanted:  # Cancel was clicked while the run was being created
            handle.cancel()
        return self.follow(handle)

    def submit(self, handle: RunHandle, calls: list[ToolCall], outputs: Mapping[str, str]) -> RunOutcome:
        for call in calls:
            self.form.chat.add("tool", f"{call['name']} → {outputs.get(call['id'], '')}")
        handle.submit(dict(outputs))
        self.form.calls.hide()
        return self.follow(handle)

    def cancel_waiting(self, handle: RunHandle) -> RunOutcome:
        run = handle.cancel()
        if run["status"] in ("cancelled", "completed", "failed", "expired", "incomplete"):
            return self.ended(handle, run)
        return self.follow(handle)

    # -- following events --------------------------------------------------------------------
    def follow(self, handle: RunHandle) -> RunOutcome:
        """Show the run's events until it ends or waits; a broken stream keeps its text and says so."""
        form = self.form
        form.chat.start_reply()
        steps = form.progress.steps
        try:
            for event in handle.events():
                if isinstance(event, TextDelta):
                    form.chat.append(event.text)
                elif isinstance(event, StatusChanged):
                    self.show_status(event.run["status"], len(steps), handle)
                elif isinstance(event, StepChanged):
                    steps[event.step["id"]] = event.step
                    form.steps.value = self.steps_html(steps)
                    self.show_status(handle.status, len(steps), handle)
                elif isinstance(event, ToolOutput):
                    form.chat.add("tool", f"{event.call['name']} → {event.output}")
                elif isinstance(event, ActionRequired):
                    return self.waiting(handle, event)
                elif isinstance(event, RunEnded):
                    return self.ended(handle, event.run)
        except Exception as error:
            line = one_line(error)
            form.chat.end_reply(note="The stream broke: the partial reply is kept." if form.chat.reply_text else "")
            form.show_error(line)
            form.status.value = f"error · {self.elapsed()}"
            form._idle()
            return RunOutcome("error", handle.text, handle.thread_id, handle.run, line)
        if handle.run is not None and handle.done:  # a handle that ended without a RunEnded event
            return self.ended(handle, handle.run)
        form.chat.end_reply()
        form._idle()
        return RunOutcome(handle.status, handle.text, handle.thread_id, handle.run)

    def waiting(self, handle: RunHandle, event: ActionRequired) -> RunOutcome:
        form = self.form
        form.chat.end_reply()
        self.show_status("requires_action", len(form.progress.steps), handle, "waiting for tool outputs")
        form.calls.show(event.calls, form.functions)
        self.remember_thread(handle)
        form.cancel_button.disabled = False
        return RunOutcome("requires_action", handle.text, handle.thread_id, event.run, pending_calls=list(event.calls))

    def ended(self, handle: RunHandle, run: RunRecord) -> RunOutcome:
        form = self.form
        reason = why_ended(run)
        self.final_steps(handle, run)
        form.chat.end_reply(note="" if run["status"] == "completed" else f"Run {reason}")
        self.show_status(run["status"], len(form.progress.steps), handle)
        if run["status"] in ("failed", "expired", "incomplete"):
            form.show_error(f"Run {reason}")
        elif handle.stream_broken:
            form.show_error(f"The stream broke off ({handle.stream_broken}); the run was followed to its end by polling.",
                            notice=True)
        form.calls.hide()
        form._idle()
        self.remember_thread(handle)
        return RunOutcome(run["status"], handle.text, handle.thread_id, run,
                          None if run["status"] in ("completed", "cancelled") else reason)

    # -- pieces --------------------------------------------------------------------------------
    def _upload(self, name: str, content: bytes) -> str:
        client = self.form.client
        if client is None:
            raise ValueError("this back end has no client to upload files with")
        self.form.status.value = f"uploading {html.escape(name)}…"
        return str(client.files.create(file=(name, content), purpose="assistants")["id"])

    def final_steps(self, handle: RunHandle, run: RunRecord) -> None:
        """The steps as the server lists them once the run is over (a stream does not report every
        step's end); the streamed view stays when the listing fails, as the run itself is done."""
        try:
            listed = self.form.backend.list_steps(handle.thread_id, run["id"])
        except Exception:
            return
        self.form.progress.steps = {step["id"]: step for step in listed}
        self.form.steps.value = self.steps_html(self.form.progress.steps)

    def remember_thread(self, handle: RunHandle) -> None:
        """A run on a new thread: list that thread and keep it selected for the next message."""
        form = self.form
        if form.thread.value == handle.thread_id:
            return
        options = list(form.thread.options)
        if handle.thread_id not in [value for _, value in options]:
            options.append((handle.thread_id, handle.thread_id))
        form._quiet = True
        try:
            form.thread.options = options
            form.thread.value = handle.thread_id
        finally:
            form._quiet = False

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.form.progress.started:.1f} s"

    def show_status(self, status: str, steps: int | None, handle: RunHandle, extra: str = "") -> None:
        parts = [f"<b>{html.escape(status)}</b>", self.elapsed()]
        if steps:
            parts.append(f"{steps} step{'s' if steps != 1 else ''}")
        if handle.run_id:
            parts.append(f"<code>{html.escape(handle.run_id)}</code>")
        if extra:
            parts.append(html.escape(extra))
        self.form.status.value = " · ".join(parts)

    @staticmethod
    def steps_html(steps: Mapping[str, StepRecord]) -> str:
        rows = [f'<li class="oai-step">{STEP_MARK.get(step["status"], "·")} {html.escape(step["type"])}: '
                f'{html.escape(step["summary"])}</li>' for step in steps.values()]
        return f'<ul style="margin:2px 0">{"".join(rows)}</ul>'
