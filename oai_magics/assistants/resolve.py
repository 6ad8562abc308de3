"""Finding an assistant by name or id among those a back end lists."""

from __future__ import annotations

from typing import Sequence

from ..local_errors import LocalError
from .base import AssistantRecord

__all__ = ["pick_assistant", "NotFound"]


class NotFound(LocalError, LookupError):
    """Not found: no assistant (or run) answers to that name or id."""


def pick_assistant(assistants: Sequence[AssistantRecord], wanted: str) -> AssistantRecord:
    """The assistant whose id or name is `wanted`; the newest one when several share the name."""
    for assistant in assistants:
        if assistant["id"] == wanted:
            return assistant
    named = [a for a in assistants if a["name"] == wanted]
    if not named:
        known = ", ".join(sorted({a["name"] or a["id"] for a in assistants})) or "none yet"
        raise NotFound(f"no assistant named {wanted!r} (known: {known})")
    # Listings come oldest first, so on a tie of creation seconds the later one is the newer.
    return max(enumerate(named), key=lambda pair: (pair[1]["created_at"], pair[0]))[1]
