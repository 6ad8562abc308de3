"""Assistants, threads and runs behind one interface, on three APIs.

`backend_for(client, "assistants" | "responses" | "chat", store=...)` gives a `Backend` (see `base` for the
interface, the record shapes and the run events a UI consumes; `driver.drive` for the tool loop).
`choose_backend(client, requested, configured)` picks one the way `%assistant` and the form both do
(`chooser`); `probe(client)` finds which APIs a server speaks.
"""

from __future__ import annotations

from .base import (ACTIVE, RUN_TIMEOUT, TERMINAL, UNSUCCESSFUL, ActionRequired, AssistantRecord, Backend, BackendName, MessageRecord,
                   RunEnded, RunEvent, RunHandle, RunRecord, RunTimeout, StatusChanged, StepChanged, StepRecord,
                   TextDelta, ThreadRecord, ToolCall, ToolOutput, Unsupported, why_ended)
from .chooser import BACKENDS, backend_for, backend_name, choose_backend, probe
from .outcome import RunOutcome

__all__ = ["backend_for", "backend_name", "choose_backend", "probe", "BACKENDS", "ACTIVE", "TERMINAL", "UNSUCCESSFUL", "RUN_TIMEOUT", "RunOutcome", "ActionRequired", "AssistantRecord",
           "Backend", "BackendName", "MessageRecord", "RunEnded", "RunEvent", "RunHandle", "RunRecord", "RunTimeout",
           "StatusChanged", "StepChanged", "StepRecord", "TextDelta", "ThreadRecord", "ToolCall", "ToolOutput",
           "Unsupported", "why_ended"]
