"""Which assistants back end `%assistant` uses in a session: the chooser of `assistants` (the same
one the form uses) given `--api` and the active profile's setting; and the line `%oai use` prints."""

from __future__ import annotations

import textwrap
from typing import Any

from IPython.core.error import UsageError

__all__ = ["backend_of", "describe_backend"]


def backend_of(session: Any, requested: str | None = None) -> Any:
    """`--api` when given, else the profile's setting, else what the server said when asked (once).
    When the server's answer could not tell, the chat back end is taken and that is said once."""
    from ..assistants import choose_backend
    from ..assistants.chooser import fallback_note

    backend = choose_backend(session.client, requested, _configured(session), run_timeout=session.settings.run_timeout)
    note = None if requested or _configured(session) else fallback_note(session.client)
    if note:
        print(f"%assistant uses the chat API: {note}")
    return backend


def _configured(session: Any) -> str | None:
    return getattr(session.profile, "assistants_api", None)


def describe_backend(session: Any) -> str:
    """One line for `%oai use`: which API %assistant will use here, and how that was decided."""
    from ..client import NotRecordedError, OpenAIError
    from .common import key_advice, key_refused

    configured = _configured(session)
    if configured:
        return f"%assistant uses the {configured} API (profile setting)"
    from ..client.urls import host_of

    if host_of(session.server(session.profile)) == "api.openai.com":
        return "%assistant uses the responses API (api.openai.com retired the Assistants API)"
    try:
        from ..assistants.chooser import probed

        found = probed(session.client)
    except UsageError:  # no key yet: the line above says so
        return "%assistant back end: found on first use"
    except NotRecordedError:  # the recording began after the server was asked: its answer is not in it
        return "%assistant back end: found on first use (from the recording)"
    except OpenAIError as exc:  # the server is away or refused: say so, decide later
        reason = textwrap.shorten(str(exc).splitlines()[0], 160, placeholder=" …")
        if key_refused(exc):  # its own line: a wrong key must not hide inside the back end's
            return (f"the server refused the key ({reason}): {key_advice(session)}\n"
                    "%assistant back end: found on first use")
        return f"%assistant back end: not known yet ({reason}); it is found on first use"
    found.told = found.told or found.fallback  # said here: the first run need not say it again
    return f"%assistant uses the {found.name} API (asked the server: {found.why})"
