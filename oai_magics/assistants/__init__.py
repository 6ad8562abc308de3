"""Assistants, threads and runs behind one interface, on three APIs.

`backend_for(client, "assistants" | "responses" | "chat", store=...)` gives a `Backend` (see `base` for the
interface, the record shapes and the run events a UI consumes; `driver.drive` for the tool loop).
`choose_backend(client, requested, configured)` picks one the way `%assistant` and the form both do
(`chooser`); `probe(client)` finds which APIs a server speaks.

The names below load with the module that holds them, on first use: `%load_ext` needs only the back
ends' names (`names.BACKENDS`, for the `--api` choices), not the records and run machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

from .names import BACKENDS

# name -> the submodule that holds it
_HOMES = {
    **dict.fromkeys(["ACTIVE", "APPROVE", "DENY", "RUN_TIMEOUT", "TERMINAL", "UNSUCCESSFUL", "ActionRequired", "AssistantRecord", "Backend",
                     "BackendName", "MessageRecord", "RunEnded", "RunEvent", "RunHandle", "RunRecord", "RunTimeout",
                     "StatusChanged", "StepChanged", "StepRecord", "TextDelta", "ThreadRecord", "ToolCall", "ToolOutput",
                     "Unsupported", "why_ended"], "base"),
    **dict.fromkeys(["backend_for", "backend_name", "choose_backend", "probe"], "chooser"),
    "RunOutcome": "outcome",
}

__all__ = ["BACKENDS", *_HOMES]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value
