"""Assistants, threads and runs behind one interface, on two APIs.

`backend_for(client, "assistants" | "responses", store=...)` gives a `Backend` (see `base` for the
interface, the record shapes and the run events a UI consumes; `driver.drive` for the tool loop).
`probe(client)` finds which API a server speaks.
"""

from __future__ import annotations

from typing import Any

from .base import (ACTIVE, RUN_TIMEOUT, TERMINAL, ActionRequired, AssistantRecord, Backend, BackendName, MessageRecord,
                   RunEnded, RunEvent, RunHandle, RunRecord, RunTimeout, StatusChanged, StepChanged, StepRecord,
                   TextDelta, ThreadRecord, ToolCall, ToolOutput, Unsupported, why_ended)

__all__ = ["backend_for", "probe", "BACKENDS", "ACTIVE", "TERMINAL", "RUN_TIMEOUT", "ActionRequired", "AssistantRecord",
           "Backend", "BackendName", "MessageRecord", "RunEnded", "RunEvent", "RunHandle", "RunRecord", "RunTimeout",
           "StatusChanged", "StepChanged", "StepRecord", "TextDelta", "ThreadRecord", "ToolCall", "ToolOutput",
           "Unsupported", "why_ended"]

BACKENDS = ("responses", "assistants")


def backend_for(client: Any, name: str, store: Any = None, run_timeout: float = RUN_TIMEOUT) -> Backend:
    """The back end `name` over `client`; `store` (an `AssistantStore`) holds local records;
    `run_timeout` bounds the polling of a run (seconds)."""
    if name == "assistants":
        from .assistants_api import AssistantsBackend

        return AssistantsBackend(client, run_timeout)
    if name == "responses":
        from .responses_api import ResponsesBackend
        from .store import AssistantStore

        return ResponsesBackend(client, store or AssistantStore.default(), run_timeout)
    raise ValueError(f"unknown assistants back end {name!r}; choose one of: {', '.join(BACKENDS)}")


def probe(client: Any) -> str:
    """Which back end a server wants. api.openai.com retired the Assistants API, so it gets
    `responses`; another server gets `assistants` when GET /assistants answers, `responses` when
    that route is missing (404/405). Any other failure is raised: it says nothing either way."""
    from ..client import APIStatusError
    from ..client.urls import host_of

    if host_of(client.base_url) == "api.openai.com":
        return "responses"
    try:
        client.assistants.list(limit=1)
    except APIStatusError as exc:
        if exc.status_code in (404, 405):
            return "responses"
        raise
    return "assistants"
