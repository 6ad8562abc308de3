"""What every magic shares: argument parsing (from `arguments`), one-line errors, `--param key=value`,
listings, storing results."""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
from pathlib import Path
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics

from ..local_errors import LocalError
from .arguments import HelpShown, a_name, parse

# Seconds a model_not_found line waits for a models listing already on its way, to name the models it has.
HINT_WAIT = 2.0

__all__ = ["SessionMagics", "friendly", "parse", "parse_params", "listing", "publish", "store_in", "read_variable", "local_path",
           "error_line", "key_refused", "key_advice"]


class SessionMagics(Magics):
    """A family of magics that shares the extension's session (profile, client, history)."""

    shell: Any  # always set: these magics are only made for a running shell

    def __init__(self, shell: Any, session: Any) -> None:
        super().__init__(shell)
        self.session = session


def friendly(method: Callable[..., Any]) -> Callable[..., Any]:
    """API errors (unless short_errors is off), oai_magics' own errors (`LocalError`) and bad local
    input become one UsageError line."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from ..client import OpenAIError  # the client loads on first use, not at %load_ext

        try:
            return method(self, *args, **kwargs)
        except HelpShown:
            return None
        except LocalError as exc:  # before OSError: a RunTimeout is also a TimeoutError
            raise UsageError(exc.line()) from None
        except KeyboardInterrupt:  # magics that can keep part of a result say so themselves
            raise UsageError("interrupted before the magic finished: nothing was kept") from None
        except OpenAIError as exc:
            if self.session.settings.short_errors:
                raise UsageError(error_line(exc) + _route_hint(exc, self.session) + _model_hint(exc, self.session)
                               + _key_hint(exc, self.session)) from None
            raise
        except OSError as exc:  # a local file or folder: missing, a folder for a file, a file for a folder ...
            raise UsageError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
        finally:  # a shutdown date the models listing told while the magic ran
            self.session.model_notes()

    return wrapper


def error_line(exc: Exception) -> str:
    """A client error in one line a notebook user can act on."""
    unanswered = getattr(exc, "unanswered", None)
    if unanswered:  # the client's own advice names Client() options no magic has
        return f"{unanswered}; not re-sent: it may have run and been billed. Re-run if it had no effect"
    return f"{type(exc).__name__}: {exc}"


def key_refused(error: object) -> bool:
    """The server refused the key (401) or what it may do (403): sending again cannot help, another key can."""
    return getattr(error, "status", None) in (401, 403)


def key_advice(session: Any) -> str:
    """How to give the active profile another key."""
    variable = session.profile.key_env
    return "give another with %oai key" + (f", or set ${variable} and run %oai use {session.profile_name} again"
                                           if variable else "")


def _key_hint(exc: Exception, session: Any) -> str:
    return f" (the server refused the key: {key_advice(session)})" if key_refused(exc) else ""


def _route_hint(exc: Exception, session: Any) -> str:
    """A 404 for a route the server does not have, from a base URL without /v1: most
    OpenAI-compatible servers serve the API under /v1. A 404 the API itself explains (an unknown
    model, a missing file: it has an error code, or a message other than OpenAI's "Invalid URL")
    gets no such advice."""
    from ..client.urls import path_of

    if not missing_route(exc) or "/v1" in path_of(session.server(session.profile)):
        return ""
    return " (the base URL has no /v1: most servers serve the API under it)"


def missing_route(exc: Exception) -> bool:
    """A 404 for a path the server does not have, not one the API explains (an unknown model, a
    missing file: those have an error code, or a message other than OpenAI's "Invalid URL")."""
    if getattr(exc, "status", None) != 404:
        return False
    return not (getattr(exc, "code", None) or (getattr(exc, "type", None) and not exc.message.startswith("Invalid URL")))


def _model_hint(exc: Exception, session: Any) -> str:
    """After `model_not_found`: the models of that kind the server lists, and the setting that picks one."""
    if getattr(exc, "code", None) != "model_not_found":
        return ""
    from .. import model_defaults
    from ..client import OpenAIError
    from .model_watch import not_found_note

    named = re.search(r"model [`'\"]([^`'\"]+)[`'\"]", getattr(exc, "message", "") or "")
    kind, model = session.last_model or ("chat", "")
    if named and named.group(1) != model:  # a model given straight to a request (%image -m ...): told by its name
        model, kind = named.group(1), model_defaults.kind_of(named.group(1)) or kind
    in_flight = session.watch.ready(session.profile_name)
    if in_flight is not None and not in_flight.is_set():
        # The background listing is on its way: wait a moment for it, never for a slow server's whole
        # listing (the error line is a reply too); asking again would only wait beside it.
        in_flight.wait(HINT_WAIT)
    elif session.watch.models(session.profile_name) is None:  # none came: ask now, the answer has failed already
        try:
            session.watch.store(session.profile_name, session.client.models.list())
        except OpenAIError:  # no listing: the note says where to look
            pass
    return f"; {not_found_note(kind, model, session.watch.models(session.profile_name))}"


def parse_params(pairs: list[str] | None, reserved: tuple[str, ...] = ()) -> dict[str, Any]:
    """`--param key=value` pairs; values are JSON when they parse as finite JSON, text otherwise.
    `reserved` names what the magic sends itself (its prompt, its upload): a clear error, not a clash."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param expects key=value, got {pair!r}")
        if key in reserved:
            raise UsageError(f"--param {key}: this magic sets {key} itself")
        try:  # NaN, Infinity and 1e999 are no JSON a server accepts: they stay text
            params[key] = json.loads(raw, parse_constant=_not_finite, parse_float=_finite_float)
        except ValueError:
            params[key] = raw
    return params


def _not_finite(text: str) -> float:
    raise ValueError(f"{text} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _not_finite(text)


def listing(items: Any) -> Any:
    """API objects as a DataFrame (id first, times as datetimes); pandas loads on this first use."""
    from ..frames import listing_frame

    return listing_frame(items)


def publish(shell: Any, value: Any, name: str | None) -> None:
    """Store a result that was already displayed: in `name` (-o) and in `_`, without showing it again."""
    if name:
        store_in(shell, value, name)
    shell.displayhook.update_user_ns(value)


def store_in(shell: Any, value: Any, name: str) -> None:
    """A result in the variable `-o` names (a magic returning it leaves `_` to IPython)."""
    try:
        shell.user_ns[a_name(name)] = value
    except argparse.ArgumentTypeError as exc:
        raise UsageError(str(exc)) from None


def read_variable(shell: Any, name: str) -> Any:
    if name not in shell.user_ns:
        raise UsageError(f"There is no variable named {name!r}.")
    return shell.user_ns[name]


def local_path(text: str) -> Path:
    """A path as the user typed it, `~` expanded; a `~name` with no such user is a usage error."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # pathlib's way of saying it found no home folder for `~name`
        raise UsageError(f"{text}: no home folder is known for {text.split('/')[0]}") from None
