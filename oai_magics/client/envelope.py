"""The OpenAI error envelope, `{"error": {"message", "type", "code", "param"}}`, read into an error's fields.

A status error's body, an error event in a stream and a 200 answer that is only an error all carry
this envelope; each is read here, so every error says the server's message the same way: on one
line, tags and runs of blank space gone, cut at `MAX_MESSAGE` characters (an HTML error page must not
flood a notebook cell).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["error_fields", "short_text", "is_error_envelope", "MAX_MESSAGE"]

MAX_MESSAGE = 300
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def short_text(text: str) -> str:
    """One readable line out of an arbitrary (possibly HTML) body."""
    flat = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 1] + "…"


def error_fields(payload: Any) -> dict[str, Any]:
    """The message/type/code/param of an OpenAI error envelope (or of a bare error object)."""
    err = payload.get("error", payload) if isinstance(payload, dict) else None
    if not isinstance(err, dict):
        return {}
    fields = {key: err.get(key) for key in ("type", "code", "param")}
    fields = {key: (str(val) if val is not None else None) for key, val in fields.items()}
    message = err.get("message")
    if message:
        fields["message"] = short_text(str(message))
    return fields


def is_error_envelope(answer: dict) -> bool:
    """`{"error": {...}}` and nothing else: objects that merely have an `error` field (a failed
    Response, a batch) carry other fields beside it."""
    return set(answer) == {"error"} and isinstance(answer["error"], dict)
