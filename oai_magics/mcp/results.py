"""A tool call's result (`CallToolResult`) as the text a model reads.

Text blocks are joined; a result that carries only structured content is its JSON; other blocks
(images, audio, resources) are named, since a function tool's output is text. A result marked
`isError` is the tool's error text, and the caller is told it is one.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["result_text"]


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return block.text
    if kind == "resource":
        resource = block.resource
        return getattr(resource, "text", None) or f"[resource {resource.uri}]"
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    return f"[{kind} content: {getattr(block, 'mime_type', '') or 'binary'}]"


def result_text(result: Any) -> tuple[str, bool]:
    """(text for the model, whether the tool reported an error)."""
    parts = [_block_text(block) for block in getattr(result, "content", None) or []]
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts = [json.dumps(structured, ensure_ascii=False, default=str)]
    return "\n".join(parts), bool(getattr(result, "is_error", False))
