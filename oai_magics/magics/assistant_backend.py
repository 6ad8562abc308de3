"""Which assistants back end a profile uses: its setting, else a probe made once and remembered.

api.openai.com retired the Assistants API, so it always gets `responses`; another server gets
`assistants` when GET /assistants answers, `responses` otherwise.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

__all__ = ["backend_name", "backend_of", "describe_backend", "PROBED"]

PROBED: dict[tuple[str, str], str] = {}  # (profile, base URL) -> back end name


def probe(client: Any) -> str:
    from ..client import APIStatusError

    if "api.openai.com" in client.base_url:
        return "responses"
    try:
        client.assistants.list(limit=1)
    except APIStatusError as exc:
        if exc.status_code in (404, 405):  # no such route: a server without the Assistants API
            return "responses"
        raise
    return "assistants"


def backend_name(session: Any, requested: str | None = None) -> str:
    """`--api` when given, else the profile's setting, else the (cached) probe."""
    if requested:
        return requested
    configured = getattr(session.profile, "assistants_api", None)
    if configured:
        return configured
    key = (session.profile_name, session.client.base_url)
    if key not in PROBED:
        PROBED[key] = probe(session.client)
    return PROBED[key]


def backend_of(session: Any, requested: str | None = None) -> Any:
    from ..assistants import backend_for

    name = backend_name(session, requested)
    try:
        return backend_for(session.client, name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def describe_backend(session: Any) -> str:
    """One line for `%oai use`: which API %assistant will use here, and how that was decided."""
    from ..client import OpenAIError

    configured = getattr(session.profile, "assistants_api", None)
    if configured:
        return f"%assistant uses the {configured} API (profile setting)"
    try:
        return f"%assistant uses the {backend_name(session)} API (asked the server)"
    except (OpenAIError, UsageError) as exc:  # no key yet, or the server is away: say so, decide later
        return f"%assistant back end: not known yet ({str(exc).splitlines()[0][:120]}); it is found on first use"
