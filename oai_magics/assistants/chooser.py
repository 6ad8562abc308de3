"""Which assistants back end a server gets, decided in one place for `%assistant` and the form.

The back end asked for (`--api`, the form's `api=`), else the profile's setting, else what the
server answered when it was asked which API it speaks: asked once per server and remembered, so
the magic and the form agree and neither asks again.
"""

from __future__ import annotations

from typing import Any

from .base import RUN_TIMEOUT, Backend, Unsupported

__all__ = ["BACKENDS", "PROBED", "backend_for", "backend_name", "choose_backend", "probe"]

BACKENDS = ("responses", "assistants")
PROBED: dict[str, str] = {}  # base URL -> the back end its server wants (what `probe` found)


def choose_backend(client: Any, requested: str | None = None, configured: str | None = None, *,
                   store: Any = None, run_timeout: float = RUN_TIMEOUT) -> Backend:
    """The back end for `client`: `requested`, else `configured` (the profile's), else the probe's."""
    return backend_for(client, backend_name(client, requested, configured), store, run_timeout)


def backend_name(client: Any, requested: str | None = None, configured: str | None = None) -> str:
    """`requested` when given, else `configured`, else the (remembered) answer of `probe`."""
    if requested or configured:
        return str(requested or configured)
    server = str(client.base_url)
    if server not in PROBED:
        PROBED[server] = probe(client)
    return PROBED[server]


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
    raise Unsupported(f"unknown assistants back end {name!r}; choose one of: {', '.join(BACKENDS)}")


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
