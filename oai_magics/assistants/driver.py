"""The tool loop shared by `%assistant run` and the thread-run builder.

`drive()` iterates a run's events, runs the Python functions the user named when the run asks for
tool outputs, answers MCP approval requests by `approve` when given, submits, and goes on until the
run ends or waits for a call nothing here can answer (those are left for `RunHandle.submit`, i.e.
`%assistant submit`, or the builder's panel).
"""

from __future__ import annotations

from typing import Callable, Mapping

from ..tools import call_tool
from .base import ActionRequired, RunEvent, RunHandle, RunRecord, ToolCall, ToolOutput

__all__ = ["drive", "Confirm", "Approve"]

#: Asked before each automatic call when given; False leaves the call for the user to answer.
Confirm = Callable[[ToolCall], bool]
#: Decides an MCP approval request (a call with a `server`): APPROVE, DENY, or None to leave it waiting.
Approve = Callable[[ToolCall], "str | None"]


def drive(handle: RunHandle, functions: Mapping[str, Callable[..., object]], on_event: Callable[[RunEvent], None],
          confirm: Confirm | None = None, approve: Approve | None = None) -> RunRecord | None:
    """Run `handle` until it ends or waits for calls no function answers; returns the last run state."""
    while True:
        waiting: tuple[ToolCall, ...] = ()
        for event in handle.events():
            on_event(event)
            if isinstance(event, ActionRequired):
                waiting = event.calls
        if not waiting or handle.done or handle.cancel_requested.is_set():
            return handle.run
        decided = {c["id"]: approve(c) for c in waiting if "server" in c and approve is not None}
        outputs = {call_id: decision for call_id, decision in decided.items() if decision is not None}
        answerable = [c for c in waiting if "server" not in c and c["name"] in functions
                      and (confirm is None or confirm(c))]
        if len(answerable) + len(outputs) < len(waiting):
            return handle.run  # some call needs the user: leave the run waiting
        for call in waiting:
            if call["id"] in outputs:  # an approval decided: shown like an output
                on_event(ToolOutput(call, outputs[call["id"]]))
        for call in answerable:
            outputs[call["id"]] = call_tool(dict(functions), call["name"], call["arguments"])
            on_event(ToolOutput(call, outputs[call["id"]]))
        handle.submit(outputs)
