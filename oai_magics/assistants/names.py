"""The names of the assistants back ends, in the order `--api` lists them; imports nothing, so the
magics can offer them as choices at `%load_ext` without loading the back ends."""

from __future__ import annotations

__all__ = ["BACKENDS"]

BACKENDS = ("responses", "assistants", "chat")
