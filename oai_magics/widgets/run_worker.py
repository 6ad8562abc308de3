"""What the builder's worker thread does with a run: start it (uploading attached files first),
follow its events into the form, submit tool outputs, cancel it while it waits.

The worker knows the form only through `RunForm`, a small protocol of public methods the builder
implements. Everything here runs off the kernel's main thread, so those methods change the form
only through widget traits (status, steps, chat, tool-call panel, buttons), never by printing
into an `Output`.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from ..assistants import (APPROVE, TERMINAL, UNSUCCESSFUL, ActionRequired, Backend, RunEnded, RunHandle, RunOutcome, RunRecord,
                          StatusChanged, StepChanged, TextDelta, ToolCall, ToolOutput, Unsupported, why_ended)
from ..assistants.steps import StepTally
from ..client.errors import APIConnectionError
from ..assistants.content import attached_parts, uploader
from ..local_errors import LocalError
from ..mcp.remote import error_text
from ..schema import Schema, SchemaMismatch
from .chat_view import ChatView

__all__ = ["RunForm", "RunFollower", "RunOutcome", "one_line"]

MAX_LINE = 300
STEP_MARK = {"completed": "✓", "in_progress": "…", "cancelled": "✗", "failed": "✗", "expired": "✗"}


def one_line(error: BaseException) -> str:
    """An error as the form shows it: its kind and first line (with its hint, for our own), never a traceback."""
    text = error.line() if isinstance(error, LocalError) else str(error).strip()
    text = text.splitlines()[0] if text else ""
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def answered_line(call: ToolCall, output: str) -> str:
    """A tool call's answer as the chat shows it; an MCP approval request's as approved or denied."""
    if "server" in call:
        return f"{call['server']}.{call['name']} → {'approved' if output == APPROVE else 'denied'}"
    return f"{call['name']} → {output}"


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
    steps: StepTally = field(default_factory=StepTally)
    results: set[str] = field(default_factory=set)  # the MCP calls whose result the chat already shows
    schema: Schema | None = None  # the shape the run answers in (the form's override), to parse its answer by


class RunForm(Protocol):
    """What the worker needs of the form it fills; `ThreadRunBuilder` implements it."""

    backend: Backend  # the back end runs go to
    chat: ChatView  # the thread's messages, and the reply streaming into them

    @property
    def functions(self) -> dict[str, Callable[..., Any]]:
        """The Python functions tool calls may run."""

    def show_status(self, html_line: str) -> None:
        """Show one line (HTML) on how the run goes."""

    def show_steps(self, html_list: str) -> None:
        """Show the run's steps (an HTML list)."""

    def show_error(self, text: str, notice: bool = False) -> None:
        """Show one line under the buttons: an error, or with `notice` something that was recovered."""

    def show_calls(self, calls: Sequence[ToolCall]) -> None:
        """Show the tool calls the run waits for, with their output fields; Cancel stays live."""

    def hide_calls(self) -> None:
        """Hide the tool-call panel."""

    def calls_not_taken(self, line: str) -> None:
        """The outputs (or approvals) did not reach the run, which still waits: show `line` and make
        the panel live again, its values kept, to send them again or cancel."""

    def keep_message(self, text: str) -> None:
        """A message that may not have been sent goes back into the message field, if it is empty."""

    def run_started(self, handle: RunHandle, files_sent: bool) -> bool:
        """The run exists (with `files_sent`, the attached files went with it); True when Cancel
        was clicked while it was being made."""

    def select_thread(self, thread_id: str) -> None:
        """List the thread (a new one) and keep it selected for the next message."""

    def idle(self, thread_id: str | None = None) -> None:
        """Nothing runs any more: the thread picker shows `thread_id` (the run's), then it and Run
        are live again and Cancel is not; in that order, so Run never sends to another thread."""


class RunFollower:
    """The worker's jobs on the form's runs; what outlives a job (the current run's clock and steps)
    is in `progress`."""

    def __init__(self, form: RunForm) -> None:
        self.form = form
        self.progress = RunProgress()

    # -- the jobs ----------------------------------------------------------------------------
    def start(self, request: dict[str, Any], uploads: list[tuple[str, bytes]]) -> RunOutcome:
        """Start a run of `request` (the form's fields; `schema` a `Schema` override) with the attached
        files: images and PDFs go in the message, any other file is uploaded for the assistant's tools."""
        form = self.form
        schema = request.pop("schema", None)
        self.progress = RunProgress(schema=schema)
        form.show_status("starting…")
        form.show_steps("")
        try:
            # A PDF larger than a request may carry is uploaded first, as `--file` does; the Assistants
            # API back end uploads every attached file itself.
            upload = None if form.backend.name == "assistants" else uploader(form.backend.client)
            attached = [(name, content, part, note)
                        for (name, content), (part, note) in zip(uploads, attached_parts(uploads, upload))]
            parts = [part for _, _, part, _ in attached if part]
            file_ids = [self._upload(name, content) for name, content, part, _ in attached if part is None]
            handle = form.backend.start_run(request.pop("assistant"), file_ids=file_ids, parts=parts, stream=True,
                                            response_format=schema.response_format() if schema else None, **request)
        except Exception as error:
            form.show_status(f"<b>failed to start</b> · {self.elapsed()}")  # the line below says why
            form.keep_message(request["message"])  # to edit or send again, whether or not it reached the thread
            if isinstance(error, APIConnectionError) and error.sent:
                raise _maybe_received(error) from error
            raise
        form.chat.add("user", request["message"] + "".join(f"\n📎 {name}" + (f" ({note})" if note else "")
                                                           for name, _, _, note in attached))
        if form.run_started(handle, files_sent=bool(uploads)):  # Cancel was clicked while the run was being created
            handle.cancel()
        return self.follow(handle)

    def submit(self, handle: RunHandle, calls: list[ToolCall], outputs: Mapping[str, str]) -> RunOutcome:
        try:
            handle.submit(dict(outputs))
        except Exception as error:
            if not handle.pending_calls:  # the run went on (or ended) all the same: the usual red line
                raise
            if not _taken_all_the_same(handle):
                self.form.calls_not_taken(one_line(error))  # still waiting: nothing is lost, Submit again or Cancel
                return RunOutcome(status="requires_action", thread_id=handle.thread_id, error=one_line(error),
                                  pending_calls=list(handle.pending_calls))
        self.answered(handle, [call["id"] for call in calls])  # the steps first: the chat never runs ahead of them
        for call in calls:
            self.form.chat.add("tool", answered_line(call, outputs.get(call["id"], "")))
        self.form.hide_calls()
        return self.follow(handle)

    def cancel_waiting(self, handle: RunHandle) -> RunOutcome:
        run = handle.cancel()
        if run["status"] in TERMINAL:
            return self.ended(handle, run)
        return self.follow(handle)

    # -- following events --------------------------------------------------------------------
    def follow(self, handle: RunHandle) -> RunOutcome:
        """Show the run's events until it ends or waits; a broken stream keeps its text and says so."""
        form = self.form
        form.chat.start_reply()
        steps = self.progress.steps
        try:
            for event in handle.events():
                if isinstance(event, TextDelta):
                    form.chat.append(event.text)
                elif isinstance(event, StatusChanged):
                    self.show_status(event.run["status"], handle)
                elif isinstance(event, StepChanged):
                    steps.update(event.step)
                    form.show_steps(self.steps_html(steps))
                    self.show_status(handle.status, handle)
                    self.show_result(event.step["raw"])
                elif isinstance(event, ToolOutput):
                    self.answered(handle, [event.call["id"]])
                    form.chat.add("tool", answered_line(event.call, event.output))
                elif isinstance(event, ActionRequired):
                    return self.waiting(handle, event)
                elif isinstance(event, RunEnded):
                    return self.ended(handle, event.run)
        except Exception as error:
            line = one_line(error)
            form.chat.end_reply(note="The stream broke: the partial reply is kept." if form.chat.reply_text else "")
            form.show_error(line)
            form.show_status(f"error · {self.elapsed()}")
            form.idle(handle.thread_id)
            return RunOutcome.of(handle, status="error", error=line)
        if handle.run is not None and handle.done:  # a handle that ended without a RunEnded event
            return self.ended(handle, handle.run)
        form.chat.end_reply()
        self.show_status(handle.status, handle)  # where the stream left it, not the last status it streamed
        form.idle(handle.thread_id)
        return RunOutcome.of(handle)

    def show_result(self, item: dict) -> None:
        """An MCP call the API made, once it ended: its result in the chat, once."""
        if item.get("type") != "mcp_call" or item.get("status") not in ("completed", "failed"):
            return
        if item.get("id") in self.progress.results:
            return
        self.progress.results.add(item.get("id"))
        result = str(item.get("output") or "") if not item.get("error") else f"error: {error_text(item['error'])}"
        self.form.chat.end_reply()  # the reply so far (none, before a call) ends; what follows is a new one
        self.form.chat.add("tool", f"{item.get('server_label')}.{item.get('name')} → {result[:MAX_LINE]}")

    def waiting(self, handle: RunHandle, event: ActionRequired) -> RunOutcome:
        form = self.form
        form.chat.end_reply()
        approvals = bool(event.calls) and all("server" in call for call in event.calls)
        self.show_status("requires_action", handle, "waiting for your approval" if approvals else "waiting for tool outputs")
        form.select_thread(handle.thread_id)  # before the calls: Submit answers the thread on show
        form.show_calls(event.calls)
        return RunOutcome.of(handle, run=event.run)

    def ended(self, handle: RunHandle, run: RunRecord) -> RunOutcome:
        form = self.form
        reason = why_ended(run)
        self.final_steps(handle, run)
        form.chat.end_reply(note="" if run["status"] == "completed" else f"Run {reason}")
        self.show_status(run["status"], handle)
        if run["status"] in UNSUCCESSFUL:
            form.show_error(f"Run {reason}")
        elif handle.stream_broken:
            form.show_error(f"The stream broke off ({handle.stream_broken}); the run was followed to its end by polling.",
                            notice=True)
        form.hide_calls()
        form.idle(handle.thread_id)
        return self.typed(RunOutcome.of(handle, run=run))

    def typed(self, outcome: RunOutcome) -> RunOutcome:
        """The outcome with the answer parsed into `value`, when the run answers in a schema; an
        answer off the schema is the form's error line (the raw text stays in `text`)."""
        schema = self.progress.schema
        if schema is not None and outcome.status == "completed":
            try:
                outcome.value = schema.parse(outcome.text)
            except SchemaMismatch as mismatch:
                self.form.show_error(str(mismatch))
        return outcome

    # -- pieces --------------------------------------------------------------------------------
    def _upload(self, name: str, content: bytes) -> str:
        client = getattr(self.form.backend, "client", None)
        if client is None:
            raise ValueError("this back end has no client to upload files with")
        refusal = getattr(self.form.backend, "no_files", None)  # a back end whose runs take no files says so
        if refusal:
            raise Unsupported(refusal)  # before the upload: nothing is left on the server for nothing
        self.form.show_status(f"uploading {html.escape(name)}…")
        return str(client.files.create(file=(name, content), purpose="assistants")["id"])

    def final_steps(self, handle: RunHandle, run: RunRecord) -> None:
        """The steps as the server lists them once the run is over (a stream does not report every
        step's end); the streamed view stays when the listing fails, as the run itself is done."""
        try:
            listed = self.form.backend.list_steps(handle.thread_id, run["id"])
        except Exception:
            return
        self.progress.steps.replace(listed)
        self.form.show_steps(self.steps_html(self.progress.steps))

    def answered(self, handle: RunHandle, call_ids: Sequence[str]) -> None:
        """Outputs were given: their tool-call steps show as done, and the counter counts them."""
        for call_id in call_ids:
            self.progress.steps.answer(call_id)
        self.form.show_steps(self.steps_html(self.progress.steps))
        self.show_status(handle.status, handle)

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.progress.started:.1f} s"

    def show_status(self, status: str, handle: RunHandle, extra: str = "") -> None:
        parts = [f"<b>{html.escape(status)}</b>", self.elapsed()]
        if self.progress.steps.steps:
            parts.append(self.progress.steps.counter())
        if handle.run_id:
            parts.append(f"<code>{html.escape(handle.run_id)}</code>")
        if extra:
            parts.append(html.escape(extra))
        self.form.show_status(" · ".join(parts))

    @staticmethod
    def steps_html(steps: StepTally) -> str:
        rows = [f'<li class="oai-step">{STEP_MARK.get(steps.status(step), "·")} {html.escape(step["type"])}: '
                f'{html.escape(step["summary"])}</li>' for step in steps.steps.values()]
        return f'<ul style="margin:2px 0">{"".join(rows)}</ul>'


def _taken_all_the_same(handle: RunHandle) -> bool:
    """Whether the run waits no more for the calls a failed submit answered, as the server says: an
    answer lost on the way back (the connection dropped after the server took the outputs), or a
    second Submit refused because the first was taken. Then the run is followed, not answered again
    and again. When the server cannot say, they were not taken: the panel stays live to send them."""
    waiting = {call["id"] for call in handle.pending_calls}
    try:
        handle.refresh()
    except Exception:
        return False
    return {call["id"] for call in handle.pending_calls} != waiting

