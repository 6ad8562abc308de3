"""Images in chat messages, as the sandbox sees them: `image_url` content parts checked as the API
checks them (a data URL must hold a PNG, JPEG, WebP or GIF; a URL must be http(s)), and named in the
reply (how many, of which type and pixel size), so a notebook can tell what reached the model.

The sandbox is offline: an image given by http(s) URL is named as such, never fetched.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from .errors import invalid
from .parts import content_parts

__all__ = ["check_images", "seen_images", "CHAT_DETAILS", "RESPONSES_DETAILS"]

FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
UNSUPPORTED = ("You uploaded an unsupported image. Please make sure your image has of one the following formats: "
               "['png', 'jpeg', 'gif', 'webp'].")
CHAT_DETAILS = ("auto", "low", "high")  # chat's image_url.detail
RESPONSES_DETAILS = (*CHAT_DETAILS, "original")  # the Responses API's ImageDetail: the image as it is, unscaled


def check_images(messages: list[dict], field: str = "messages", details: tuple[str, ...] = CHAT_DETAILS) -> None:
    """Refuse an image part the API would refuse, with its message (`field`: where the messages sit;
    `details`: the detail levels that API takes)."""
    for where, part in content_parts(messages, "image_url", field):
        spec = part.get("image_url")
        if isinstance(spec, dict) and spec.get("file_id"):  # an uploaded image (Responses): the file store has it
            continue
        url = spec.get("url") if isinstance(spec, dict) else None
        if not isinstance(url, str):
            raise invalid(f"Missing required parameter: '{where}.image_url.url'.", param=f"{where}.image_url.url",
                          code="missing_required_parameter")
        if spec.get("detail", "auto") not in details:
            named = ", ".join(f"'{d}'" for d in details[:-1]) + f", and '{details[-1]}'"
            raise invalid(f"Invalid value: '{spec.get('detail')}'. Supported values are: {named}.",
                          param=f"{where}.image_url.detail", code="invalid_value")
        if url.startswith("data:"):
            _decoded(url)
        elif not url.startswith(("http://", "https://")):
            raise invalid(f"Invalid '{where}.image_url.url': Expected a base64-encoded data URL with an image MIME "
                          "type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value without the "
                          "'data:' prefix.", param=f"{where}.image_url.url", code="invalid_value")


def _decoded(url: str) -> Any:
    """The image a data URL holds (PIL, opened); an unsupported or broken one is the API's 400."""
    from PIL import Image, UnidentifiedImageError

    head, _, data = url.partition(",")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise invalid(UNSUPPORTED, code="invalid_image_format") from None
    if image.format not in FORMATS or ";base64" not in head:
        raise invalid(UNSUPPORTED, code="invalid_image_format")
    return image


def seen_images(messages: list[dict]) -> str:
    """Lines naming the images of the last user message and counting those of the messages before
    it ('' when there are none)."""
    users = [m for m in messages if m.get("role") == "user"]
    now, earlier = content_parts(users[-1:], "image_url"), content_parts(users[:-1], "image_url")
    lines = []
    if now:
        names = [_name(part["image_url"]) for _, part in now]
        lines.append(f"I was shown {len(names)} image{'s' if len(names) != 1 else ''}: " + "; ".join(names) + ".")
    if earlier:
        lines.append(f"Earlier in the conversation: {len(earlier)} image{'s' if len(earlier) != 1 else ''}.")
    return "\n\n".join(lines)


def _name(spec: dict) -> str:
    """What one image is: its type and pixel size, or that it came by URL."""
    detail = spec.get("detail", "auto")
    if spec.get("file_id"):
        return f"the uploaded image {spec['file_id']} ({detail} detail)"
    if not spec["url"].startswith("data:"):
        return f"an image by URL, not fetched offline ({detail} detail)"
    image = _decoded(spec["url"])
    return f"{image.format} {image.width}×{image.height} px ({detail} detail)"
