"""A user message's images and files in the shape each back end's API takes.

Parts are given as chat completions content parts (what `%%chat --image/--file` makes): `image_url`
(a data URL, or an http(s) URL), `file` (a PDF as a base64 data URL with its filename, or an
uploaded file's `file_id`) and `text` (a text file's contents). Each API then gets its own words:

- chat: the parts as they are, after a text part holding the message;
- responses: `input_text`, `input_image` (`detail` is required there) and `input_file`;
- assistants: text and image parts in the message's content, an image given as data first uploaded
  (purpose `vision`) and named by `image_file`, since that API reads only external URLs; a file
  uploaded (purpose `assistants`) and attached for file search (v2) or by `file_ids` (v1).

A response format for a typed answer is kept in the chat shape too (`{"type": "json_schema",
"json_schema": {...}}`); `text_format` gives the Responses API's `text.format` of it.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Sequence

__all__ = ["chat_content", "responses_content", "assistants_content", "text_format", "pdf_part", "pdf_sent",
           "attached_part", "attached_parts", "uploader", "Upload", "PDF_LIMIT"]

PNG = b"\x89PNG\r\n\x1a\n"
PDF_LIMIT = 32 * 1024 * 1024  # the most file content one request may carry (the file-inputs guide)
Upload = Callable[[str, bytes], str]  # (file name, contents) -> the id of the uploaded file


def pdf_part(filename: str, data: bytes) -> dict:
    """A PDF as a chat `file` part: base64 in a data URL, with its filename."""
    return {"type": "file", "file": {"filename": filename,
                                     "file_data": f"data:application/pdf;base64,{base64.b64encode(data).decode()}"}}


def uploader(client: Any) -> Upload:
    """What uploads a file too large to go inline (purpose `user_data`, for model input) and gives its id."""
    return lambda name, data: str(client.files.create((name, data), purpose="user_data")["id"])


def pdf_sent(filename: str, data: bytes, upload: Upload | None, inline: int = 0) -> tuple[dict, str]:
    """A PDF as a `file` part, and a note when it was not sent inline: inline (base64) when the
    request can still carry it, else uploaded first with `upload` and named by its id. The 32 MB are
    for all of a request's files: `inline` is how much of it the PDFs before this one took. With no
    `upload`, inline whatever its size (the Assistants API back end uploads every attached file itself)."""
    if inline + len(data) <= PDF_LIMIT or upload is None:
        return pdf_part(filename, data), ""
    file_id = upload(filename, data)
    others = f"with the {inline / 2**20:.0f} MB of PDFs before it " if len(data) <= PDF_LIMIT else ""
    return {"type": "file", "file": {"file_id": file_id}}, (
        f"{filename} ({len(data) / 2**20:.0f} MB, {others}more than the 32 MB a request may carry) was uploaded "
        f"first as {file_id} (purpose user_data) and sent by its id")


def attached_parts(files: Sequence[tuple[str, bytes]], upload: Upload | None = None) -> list[tuple[dict | None, str]]:
    """`attached_part` of each file attached to one message, the PDFs inline while the request can
    carry them all (32 MB in all), the rest uploaded first with `upload`."""
    made, inline = [], 0
    for filename, data in files:
        part, note = attached_part(filename, data, upload, inline)
        if part is not None and part["type"] == "file" and "file_data" in part["file"]:
            inline += len(data)
        made.append((part, note))
    return made


def attached_part(filename: str, data: bytes, upload: Upload | None = None, inline: int = 0) -> tuple[dict | None, str]:
    """A file attached in the thread-run builder as a content part every back end takes, and a note
    when it was changed: a PNG, JPEG, WebP or GIF image as an `image_url` data URL (downscaled to
    what the API reads, as `--image` is), a PDF as a `file` part (uploaded first with `upload` when
    the request cannot carry it beside the `inline` bytes of PDFs before it); None for any other
    file (it is uploaded for the assistant's tools instead)."""
    from ..display.images import image_type
    from .image_fit import fit_image

    if data[:5] == b"%PDF-":
        return pdf_sent(filename, data, upload, inline)
    if image_type(data) == "image/png" and not data.startswith(PNG):  # image_type's default: no image it knows
        return None, ""
    image = fit_image(data, filename, None)
    note = f"downscaled from {image.size[0]}×{image.size[1]} to {image.sent[0]}×{image.sent[1]} px" if image.downscaled else ""
    return {"type": "image_url", "image_url": {"url": image.url}}, note


def chat_content(text: str, parts: Sequence[dict]) -> Any:
    """A chat message's content: the text alone, or a text part followed by the other parts."""
    return [{"type": "text", "text": text}, *parts] if parts else text


def responses_content(text: str, parts: Sequence[dict], file_ids: Sequence[str] = ()) -> list[dict]:
    """A Responses message's content parts: the text, the parts, then files named by id."""
    content = [{"type": "input_text", "text": text}, *(_responses_part(part) for part in parts)]
    return content + [{"type": "input_file", "file_id": file_id} for file_id in file_ids]


def _responses_part(part: dict) -> dict:
    kind = part.get("type")
    if kind == "image_url":
        spec = part["image_url"]
        return {"type": "input_image", "image_url": spec["url"], "detail": spec.get("detail") or "auto"}
    if kind == "file":
        spec = part["file"]
        return {"type": "input_file", **{k: spec[k] for k in ("file_id", "filename", "file_data") if spec.get(k)}}
    return {"type": "input_text", "text": part["text"]}


def assistants_content(client: Any, text: str, parts: Sequence[dict]) -> tuple[Any, list[str]]:
    """(the Assistants API message content, the ids of the files it attaches); what is given as data
    is uploaded first."""
    content: list[dict] = [{"type": "text", "text": text}]
    files: list[str] = []
    for part in parts:
        kind = part.get("type")
        if kind == "image_url":
            spec = part["image_url"]
            detail = {"detail": spec["detail"]} if spec.get("detail") else {}
            if spec["url"].startswith("data:"):
                uploaded = client.files.create(("image" + _suffix(spec["url"]), _data(spec["url"])), purpose="vision")
                content.append({"type": "image_file", "image_file": {"file_id": uploaded["id"], **detail}})
            else:
                content.append({"type": "image_url", "image_url": {"url": spec["url"], **detail}})
        elif kind == "file":
            spec = part["file"]
            files.append(spec.get("file_id") or client.files.create(
                (spec.get("filename") or "file.pdf", _data(spec["file_data"])), purpose="assistants")["id"])
        else:
            content.append({"type": "text", "text": part["text"]})
    return (text if len(content) == 1 else content), files


def _data(url: str) -> bytes:
    return base64.b64decode(url.partition(",")[2])


def _suffix(url: str) -> str:
    """The file name ending of a data URL's image type (`data:image/png;base64,...` -> `.png`)."""
    return "." + url[len("data:image/"):].partition(";")[0].replace("jpeg", "jpg")


def text_format(response_format: Any) -> dict | None:
    """The Responses API's `text` parameter for a chat `response_format` (None for none)."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return {"format": response_format} if isinstance(response_format, dict) else None
    spec = response_format["json_schema"]
    return {"format": {"type": "json_schema", "name": spec["name"], "schema": spec["schema"],
                       "strict": spec.get("strict", True)}}

