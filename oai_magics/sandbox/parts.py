"""The content parts of chat messages, found by type: where each sits (for the API's error
messages, which name it) and what it holds."""

from __future__ import annotations

__all__ = ["content_parts"]


def content_parts(messages: list[dict], kind: str, field: str = "messages") -> list[tuple[str, dict]]:
    """(where, part) for every part of type `kind` of every message, in order; `where` is the
    part's place as the API names it (`messages[0].content[1]`; `input[0]...` on Responses)."""
    found = []
    for index, message in enumerate(messages):
        content = message.get("content")
        for number, part in enumerate(content if isinstance(content, list) else []):
            if isinstance(part, dict) and part.get("type") == kind:
                found.append((f"{field}[{index}].content[{number}]", part))
    return found
