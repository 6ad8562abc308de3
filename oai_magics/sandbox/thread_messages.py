"""Threads and messages as stored objects: lookups and message construction."""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .files import get_file
from .shapes import check_metadata
from .state import State, find
from .store import new_id, now


def get_thread(app: State, thread_id: str) -> dict:
    return find(app, "thread", thread_id, what="thread", param="thread_id")


def get_message(app: State, thread_id: str, message_id: str) -> dict:
    return find(app, "message", message_id, what="message", param="message_id", parent=thread_id)


def text_block(value: str) -> dict:
    return {"type": "text", "text": {"value": value, "annotations": []}}


def content_blocks(content: Any) -> list[dict]:
    """A message's `content` parameter (a string or typed parts) as stored content blocks."""
    if isinstance(content, str):
        return [text_block(content)]
    if not isinstance(content, list) or not content:
        raise invalid("Invalid 'content': expected a string or a non-empty array of content parts.", param="content")
    blocks = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.append(text_block(str(part.get("text", ""))))
        elif kind in ("image_file", "image_url"):
            blocks.append({"type": kind, kind: {"detail": "auto", **(part.get(kind) or {})}})
        else:
            raise invalid(f"Invalid value: '{kind}'. Supported values are: 'text', 'image_file' and 'image_url'.",
                          param="content[].type")
    return blocks


def text_of(message: dict) -> str:
    return " ".join(b["text"]["value"] for b in message.get("content", []) if b.get("type") == "text")


def make_message(app: State, thread_id: str, body: dict, *, role: str | None = None, assistant_id: str | None = None,
                 run_id: str | None = None) -> dict:
    """Validate a message body and store the message in its thread."""
    role = role or body.get("role")
    if role not in ("user", "assistant"):
        raise invalid(f"Invalid value: '{role}'. Supported values are: 'user' and 'assistant'.", param="role")
    if "content" not in body:
        raise invalid("Missing required parameter: 'content'.", param="content", code="missing_required_parameter")
    file_ids = [get_file(app, f, "file_ids")["id"] for f in body.get("file_ids") or []]
    attachments = body.get("attachments") or []
    for attachment in attachments:
        get_file(app, attachment.get("file_id", ""), "attachments")
    created = now()
    message = {
        "id": new_id("msg_"), "object": "thread.message", "created_at": created, "thread_id": thread_id,
        "status": "completed", "incomplete_details": None, "completed_at": created, "incomplete_at": None,
        "role": role, "content": content_blocks(body["content"]), "assistant_id": assistant_id, "run_id": run_id,
        "attachments": attachments, "file_ids": file_ids, "metadata": check_metadata(body.get("metadata")),
    }
    return app.store.put("message", message, parent=thread_id)
