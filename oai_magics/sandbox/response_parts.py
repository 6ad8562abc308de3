"""Images and files in Responses input (`input_image`, `input_file` parts) and in Assistants thread
messages (`image_file`/`image_url` blocks, attachments), checked and named by the same rules as
chat's `image_url` and `file` parts (`vision`, `documents`): each message is read as the chat
message it corresponds to, so each rule has one home."""

from __future__ import annotations

from .documents import check_files, seen_files
from .vision import RESPONSES_DETAILS, check_images, seen_images

__all__ = ["check_parts", "seen_parts", "seen_in_message"]


def check_parts(items: list[dict], field: str) -> None:
    """Refuse an image or file of the input items that the API would refuse, with its message."""
    messages = chat_messages(items)
    check_images(messages, field, RESPONSES_DETAILS)
    check_files(messages, field)


def seen_parts(items: list[dict]) -> str:
    """The lines a reply adds naming the images and files the last user message held ('' for none)."""
    return _seen(chat_messages(items))


def _seen(messages: list[dict]) -> str:
    return "".join(f"\n\n{line}" for line in (seen_files(messages), seen_images(messages)) if line)


def chat_messages(items: list[dict]) -> list[dict]:
    """Each item as a chat message (an item that is no message as one without content, so that
    indexes stay those of the input)."""
    return [{"role": item.get("role"), "content": [_chat_part(part) for part in item.get("content") or []]}
            if item.get("type") == "message" else {"role": None, "content": []} for item in items]


def _chat_part(part: dict) -> dict:
    kind = part.get("type")
    if kind == "input_image":
        spec = {"url": part.get("image_url"), "file_id": part.get("file_id"), "detail": part.get("detail") or "auto"}
        return {"type": "image_url", "image_url": {k: v for k, v in spec.items() if v is not None}}
    if kind == "input_file":
        keys = ("filename", "file_data", "file_id", "file_url")
        return {"type": "file", "file": {k: part[k] for k in keys if part.get(k) is not None}}
    return part


def seen_in_message(message: dict) -> str:
    """The lines a run's reply adds naming the images and files of an Assistants thread message."""
    images = [{"type": "image_url", "image_url": {"url": "", **block[block["type"]]}}
              for block in message.get("content") or [] if block.get("type") in ("image_file", "image_url")]
    file_ids = [a["file_id"] for a in message.get("attachments") or []] + list(message.get("file_ids") or [])
    files = [{"type": "file", "file": {"file_id": file_id}} for file_id in file_ids]
    return _seen([{"role": "user", "content": files + images}])
