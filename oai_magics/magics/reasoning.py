"""Options for reasoning models: `--reasoning EFFORT`, and the parameter `--max-tokens` is sent as.

Today's OpenAI API bounds a chat reply with `max_completion_tokens` (its reasoning models refuse
`max_tokens`), while most OpenAI-compatible servers know only `max_tokens`. So the `openai` profile
sends the first, every other profile the second (a profile's `token_limit` says which); a server
that refuses the one it got ("Unsupported parameter: 'max_tokens' is not supported with this model.
Use 'max_completion_tokens' instead.") gets the request once more with the other, and the profile
keeps that name for the session.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ..model_defaults import REASONING_EFFORTS as EFFORTS

__all__ = ["EFFORTS", "REASONING_HELP", "limit_name", "with_limit_fallback"]
REASONING_HELP = ("how hard a reasoning model thinks before it answers: " + ", ".join(EFFORTS) +
                  " (default: the model's own; other models refuse it)")
LIMIT_NAMES = ("max_tokens", "max_completion_tokens")

T = TypeVar("T")


def limit_name(session: Any) -> str:
    """The name the active profile's server takes for a chat reply's token limit."""
    return session.token_limit_names.get(session.profile_name) or session.profile.token_limit


def refused_limit(exc: Exception, params: dict) -> str | None:
    """The token-limit parameter of `params` that `exc` says the server does not take, if that is what it says."""
    message = str(getattr(exc, "message", "") or "")
    for name in LIMIT_NAMES:
        if name in params and (getattr(exc, "param", None) == name or message.startswith(f"Unsupported parameter: '{name}'")):
            if getattr(exc, "code", None) == "unsupported_parameter" or "not supported" in message:
                return name
    return None


def _as_remembered(session: Any, params: dict) -> dict:
    """`params` with its token limit under the name the profile's server took last (requests
    built before it was learnt, such as the other rows of a `--each`, go out right)."""
    name = session.token_limit_names.get(session.profile_name)
    other = LIMIT_NAMES[1 - LIMIT_NAMES.index(name)] if name else None
    if other is None or other not in params or name in params:
        return params
    renamed = {key: value for key, value in params.items() if key != other}
    renamed[name] = params[other]
    return renamed


def with_limit_fallback(session: Any, params: dict, send: Callable[[dict], T]) -> T:
    """`send(params)`; when the server refuses the token-limit name, once more with the other one, remembered."""
    from ..client import BadRequestError

    params = _as_remembered(session, params)
    try:
        return send(params)
    except BadRequestError as exc:
        refused = refused_limit(exc, params)
        if refused is None:
            raise
    other = LIMIT_NAMES[1 - LIMIT_NAMES.index(refused)]
    session.token_limit_names[session.profile_name] = other
    return send(_as_remembered(session, params))
