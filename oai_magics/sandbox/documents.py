"""Files in chat messages, as the sandbox sees them: `file` content parts checked as the API checks
them (chat completions take PDFs only, as base64 `file_data` with its filename or as the id of an
uploaded file) and named in the reply with their page count, so a notebook can tell what reached
the model."""

from __future__ import annotations

import base64
import binascii
import re

from .errors import invalid
from .parts import content_parts

__all__ = ["check_files", "seen_files"]

PDF_PREFIX = "data:application/pdf;base64,"
# A page object of a PDF (`/Type /Page`, not the `/Pages` tree above it): counted, not parsed.
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def check_files(messages: list[dict], field: str = "messages") -> None:
    """Refuse a file part the API would refuse, with its message (`field`: where the messages sit)."""
    for where, part in content_parts(messages, "file", field):
        spec = part.get("file") if isinstance(part.get("file"), dict) else {}
        if spec.get("file_id") or spec.get("file_url"):
            continue
        data = spec.get("file_data")
        if not isinstance(data, str):
            raise invalid(f"Missing required parameter: '{where}.file.file_data' or '{where}.file.file_id'.",
                          param=f"{where}.file", code="missing_required_parameter")
        if not data.startswith(PDF_PREFIX) or not _pdf(data).startswith(b"%PDF-"):
            raise invalid(f"Invalid file data: '{where}.file.file_data'. Expected a base64-encoded data URL with an "
                          "application/pdf MIME type (e.g. 'data:application/pdf;base64,SGVsbG8sIFdvcmxkIQ=='); "
                          "chat completions take PDF files only.", param=f"{where}.file.file_data", code="invalid_value")
        if not spec.get("filename"):
            raise invalid(f"Missing required parameter: '{where}.file.filename'.", param=f"{where}.file.filename",
                          code="missing_required_parameter")


def _pdf(data: str) -> bytes:
    try:
        return base64.b64decode(data[len(PDF_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return b""


def seen_files(messages: list[dict]) -> str:
    """One line naming the files of the last user message ('' when it has none)."""
    users = [m for m in messages if m.get("role") == "user"]
    parts = content_parts(users[-1:], "file")
    if not parts:
        return ""
    names = []
    for _, part in parts:
        spec = part["file"]
        if spec.get("file_id"):
            names.append(f"the uploaded file {spec['file_id']}")
        elif spec.get("file_url"):
            names.append("a file by URL, not fetched offline")
        else:
            pages = len(PAGE.findall(_pdf(spec["file_data"])))
            names.append(f"{spec['filename']}, a PDF of {pages} page{'s' if pages != 1 else ''}")
    return f"I was given {len(names)} file{'s' if len(names) != 1 else ''}: " + "; ".join(names) + "."
