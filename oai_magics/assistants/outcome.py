"""How a run ended, or where it stopped: the one record `%assistant run` leaves in `_` and a job of
the thread-run builder returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import UNSUCCESSFUL, MessageRecord, RunHandle, RunRecord, ToolCall

__all__ = ["RunOutcome"]


@dataclass
class RunOutcome:
    """A run's end (or its wait for tool outputs), with what it said and what went wrong."""

    status: str  # a run status ("completed", "requires_action" ...); "starting" if it was never made; "error"
    text: str = ""  # the reply text that arrived (kept when a stream broke or was interrupted)
    thread_id: str | None = None
    run_id: str | None = None
    run: RunRecord | None = None  # the run as last seen
    messages: list[MessageRecord] = field(default_factory=list)  # what the run added, without `raw`
    pending_calls: list[ToolCall] = field(default_factory=list)  # the calls it waits for
    error: str | None = None  # one line: why following it failed, or why the run failed, expired or stopped early
    value: Any = None  # the answer parsed, when the assistant answers in a schema (a Pydantic instance or a dict)

    @classmethod
    def of(cls, handle: RunHandle, *, status: str | None = None, run: RunRecord | None = None,
           error: str | None = None) -> "RunOutcome":
        """The outcome as `handle` knows it; `run` when the caller has a newer state than the handle,
        `status` and `error` when following the run failed."""
        run = run or handle.run
        error = error or (run["error"] if run and run["status"] in UNSUCCESSFUL else None)
        messages = [{k: v for k, v in m.items() if k != "raw"} for m in handle.messages]
        calls = [dict(c) for c in run["required_calls"]] if run and run["status"] == "requires_action" else []
        return cls(status or (run["status"] if run else handle.status), handle.text, handle.thread_id,
                   run["id"] if run else None, run, messages, calls, error)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        value = "" if self.value is None else f", value={self.value!r}"
        return (f"RunOutcome(thread_id={self.thread_id!r}, run_id={self.run_id!r}, status={self.status!r}, "
                f"{len(self.text)} characters{value})")
