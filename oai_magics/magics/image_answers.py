"""What %image reads from the server's answers: the images (strictly checked), the usage, and the
outcome of one run (images, a partial failure, usage, the display a stream showed in)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Callable

from IPython.core.error import UsageError

__all__ = ["Outcome", "collect", "decoded_image", "image_tokens", "added"]


@dataclass
class Outcome:
    """What one %image run brought back: the images, the error of requests that failed while
    others came back, the usage the answers reported, and the display a stream showed in."""

    images: Any
    failure: Exception | None = None
    usage: dict = field(default_factory=dict)
    handle: Any = None


def collect(answer: dict, fetch: Callable[[str], bytes]) -> tuple[Any, dict]:
    """The images of one whole answer (fetched where it gives URLs), and the usage it reports."""
    from ..display.images import GeneratedImage, ImageSet

    found = ImageSet()
    transparent = True if answer.get("background") == "transparent" else None
    for number, item in enumerate(answer.get("data") or [], 1):
        if not isinstance(item, dict):
            raise UsageError(f"The server answered with image {number} that is not an object.")
        if item.get("b64_json"):
            data = decoded_image(item["b64_json"], number)
        elif item.get("url"):
            data = fetch(_web_address(item["url"], number))
        else:
            continue
        revised = item.get("revised_prompt")
        found.append(GeneratedImage(data=data, url=item.get("url"), transparent=transparent,
                                    revised_prompt=revised if isinstance(revised, str) else None))
    if not found:
        raise UsageError("The server answered with no image.")
    usage = answer.get("usage")
    return found, usage if isinstance(usage, dict) else {}


def image_tokens(usage: dict) -> str:
    """The image tokens an answer reports, for the line under the images ("" when it reports none)."""
    if not usage or not isinstance(usage.get("output_tokens"), int):
        return ""
    details = usage.get("input_tokens_details") or {}
    images_in = details.get("image_tokens") if isinstance(details, dict) else None
    inputs = f"{usage.get('input_tokens', 0)} input" + (f" ({images_in} image)" if images_in else "")
    return f"{inputs} + {usage['output_tokens']} image tokens"


def added(total: dict, usage: dict) -> dict:
    """Two usages of image requests summed (the token counts, and the input image tokens)."""
    if not usage:
        return total
    summed = {key: total.get(key, 0) + usage.get(key, 0) for key in ("input_tokens", "output_tokens", "total_tokens")
              if isinstance(usage.get(key), int)}
    details = [u.get("input_tokens_details") or {} for u in (total, usage)]
    summed["input_tokens_details"] = {"image_tokens": sum(d.get("image_tokens") or 0 for d in details)}
    return summed


def decoded_image(text: Any, number: int) -> bytes:
    """An answer's `b64_json`, strictly: a wrong character is a bad answer, not a broken picture."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)  # lines as base64.encodebytes wraps them
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        raise UsageError(f"The server answered with image {number} whose b64_json is not base64.") from None


def _web_address(url: Any, number: int) -> str:
    from ..client.urls import is_web_address

    if not is_web_address(url):
        raise UsageError(f"The server answered with image {number} whose url is not an http(s) address.")
    return url
