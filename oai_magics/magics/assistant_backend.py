"""Which assistants back end a profile uses: its setting, else a probe made once and remembered."""

from __future__ import annotations

import textwrap
from typing import Any

from IPython.core.error import UsageError

__all__ = ["backend_name", "backend_of", "describe_backend", "PROBED"]

PROBED: dict[tuple[str, str], str] = {}  # (profile, base URL) -> back end name


def backend_name(session: Any, requested: str | None = None) -> str:
    """`--api` when given, else the profile's setting, else the (cached) probe."""
    if requested:
        return requested
    configured = getattr(session.profile, "assistants_api", None)
    if configured:
        return configured
    key = (session.profile_name, session.client.base_url)
    if key not in PROBED:
        from ..assistants import probe

        PROBED[key] = probe(session.client)
    return PROBED[key]


def backend_of(session: Any, requested: str | None = None) -> Any:
    from ..assistants import backend_for

    name = backend_name(session, requested)
    try:
        return backend_for(session.client, name, run_timeout=session.settings.run_timeout)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def describe_backend(session: Any) -> str:
    """One line for `%oai use`: which API %assistant will use here, and how that was decided."""
    from ..client import OpenAIError

    configured = getattr(session.profile, "assistants_api", None)
    if configured:
        return f"%assistant uses the {configured} API (profile setting)"
    from ..client.urls import host_of

    if host_of(session.server(session.profile)) == "api.openai.com":
        return "%assistant uses the responses API (api.openai.com retired the Assistants API)"
    try:
        return f"%assistant uses the {backend_name(session)} API (asked the server)"
    except UsageError:  # no key yet: the line above says so
        return "%assistant back end: found on first use"
    except OpenAIError as exc:  # the server is away or refused: say so, decide later
        reason = textwrap.shorten(str(exc).splitlines()[0], 160, placeholder=" …")
        return f"%assistant back end: not known yet ({reason}); it is found on first use"
