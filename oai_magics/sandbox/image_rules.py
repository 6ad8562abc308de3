"""What each image model takes, checked as the API checks it (the 2026 spec's CreateImageRequest and
CreateImageEditRequest): an `Order` is a request's parameters once they have passed.

The GPT image models answer in base64 only (`response_format` is refused with the API's words), take
`background`, `output_format`, `output_compression`, `moderation`, `quality` low|medium|high|auto and
streamed partial images; gpt-image-2 takes any `WxH` the spec allows. dall-e-2 and dall-e-3 keep
their own sizes, qualities and `response_format`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import invalid
from .web import optional

__all__ = ["Order", "is_gpt", "order"]

STANDARD_GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
SIZES = {"dall-e-2": ("256x256", "512x512", "1024x1024"), "dall-e-3": ("1024x1024", "1792x1024", "1024x1792")}
QUALITIES = {"dall-e-2": ("standard", "auto"), "dall-e-3": ("standard", "hd", "auto")}
GPT_QUALITIES = ("low", "medium", "high", "auto")
MAX_N = {"dall-e-3": 1}
FREE_SIZES = ("gpt-image-2",)  # and its dated snapshots: any WxH within the spec's limits
NO_FIDELITY = ("gpt-image-1-mini",)
PROMPT_LIMITS = {"dall-e-2": 1000, "dall-e-3": 4000}
GPT_PROMPT_LIMIT = 32000
# Output tokens of a 1024x1024 image by quality (a larger image costs in proportion to its area).
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}


def is_gpt(model: str) -> bool:
    return model.startswith("gpt-image") or model == "chatgpt-image-latest"


@dataclass(frozen=True)
class Order:
    """A checked image request."""

    model: str
    n: int
    size: tuple[int, int]
    response_format: str  # "url" or "b64_json" (always b64_json for GPT image models)
    output_format: str = "png"
    compression: int = 100
    background: str = "opaque"  # as answered: "transparent" or "opaque"
    quality: str = "medium"  # as answered: low, medium or high (GPT image models)
    partial_images: int = 0
    stream: bool = False

    @property
    def gpt(self) -> bool:
        return is_gpt(self.model)

    @property
    def size_text(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"

    def usage(self, prompt: str, input_images: int = 0) -> dict[str, Any]:
        """Token usage as the GPT image models report it."""
        text = max(1, len(prompt) // 4)
        image_in = 85 * input_images
        area = self.size[0] * self.size[1] / (1024 * 1024)
        output = round(OUTPUT_TOKENS[self.quality] * area) * self.n
        return {"input_tokens": text + image_in, "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
                "output_tokens": output, "total_tokens": text + image_in + output}


def order(body: dict, model: str, prompt: str | None, *, edit: bool = False, own_size: str | None = None) -> Order:
    """The request's parameters checked for `model`; the API's 400 for the first that is wrong."""
    if prompt is not None:
        limit = GPT_PROMPT_LIMIT if is_gpt(model) else PROMPT_LIMITS.get(model, 1000)
        if len(prompt) > limit:
            raise invalid(f"Invalid 'prompt': string too long. Expected a string with maximum length {limit}.", param="prompt")
    n = optional(body, "n", "integer", 1, minimum=1, maximum=MAX_N.get(model, 10))
    if not is_gpt(model):
        return _dalle(body, model, n, own_size)
    return _gpt(body, model, n, edit)


def _dalle(body: dict, model: str, n: int, own_size: str | None) -> Order:
    fmt = optional(body, "response_format", "string", "url", choices=("url", "b64_json"))
    optional(body, "quality", "string", choices=QUALITIES.get(model, QUALITIES["dall-e-2"]))
    optional(body, "style", "string", choices=("vivid", "natural"))
    if body.get("stream") in (True, "true"):
        raise invalid(f"Streaming is not supported for {model}: use a GPT image model.", param="stream")
    allowed = SIZES.get(model, SIZES["dall-e-2"])
    size = body.get("size") or (own_size if own_size in allowed else allowed[-1 if model == "dall-e-2" else 0])
    if size not in allowed:
        raise invalid(f"'{size}' is not one of {list(allowed)} - 'size'", param="size")
    return Order(model, n, _pair(size), fmt)


def _gpt(body: dict, model: str, n: int, edit: bool) -> Order:
    if body.get("response_format") is not None:
        raise invalid("Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter")
    if body.get("style") is not None:
        raise invalid("Unknown parameter: 'style'.", param="style", code="unknown_parameter")
    quality = optional(body, "quality", "string", "auto", choices=GPT_QUALITIES)
    background = optional(body, "background", "string", "auto", choices=("transparent", "opaque", "auto"))
    output_format = optional(body, "output_format", "string", "png", choices=("png", "jpeg", "webp"))
    compression = optional(body, "output_compression", "integer", 100, minimum=0, maximum=100)
    optional(body, "moderation", "string", choices=("low", "auto"))
    partial_images = optional(body, "partial_images", "integer", 0, minimum=0, maximum=3)
    stream = optional(body, "stream", "boolean", False)
    if edit:
        fidelity = optional(body, "input_fidelity", "string", choices=("high", "low"))
        if fidelity is not None and model in NO_FIDELITY:
            raise invalid(f"Invalid value: 'input_fidelity' is not supported for {model}.", param="input_fidelity",
                          code="unsupported_parameter")
    if background == "transparent" and output_format == "jpeg":
        raise invalid("Transparent background is not supported for the 'jpeg' output format; use 'png' or 'webp'.",
                      param="background")
    size = _gpt_size(model, body.get("size") or "auto")
    return Order(model, n, size, "b64_json", output_format, compression,
                 "transparent" if background == "transparent" else "opaque",
                 "medium" if quality == "auto" else quality, partial_images, bool(stream))


def _gpt_size(model: str, size: Any) -> tuple[int, int]:
    if size in STANDARD_GPT_SIZES:
        return _pair("1024x1024" if size == "auto" else size)
    if not model.startswith(FREE_SIZES):
        raise invalid(f"Invalid value: '{size}'. Supported values are: {', '.join(map(repr, STANDARD_GPT_SIZES))}.",
                      param="size", code="invalid_value")
    found = re.fullmatch(r"(\d{2,4})x(\d{2,4})", str(size))
    if not found:
        raise invalid(f"Invalid value: '{size}'. The size must be 'auto' or WIDTHxHEIGHT, e.g. '1536x864'.", param="size",
                      code="invalid_value")
    width, height = int(found[1]), int(found[2])
    if width % 16 or height % 16:
        raise invalid(f"Invalid size '{size}': width and height must both be divisible by 16.", param="size")
    if max(width, height) > 3 * min(width, height):
        raise invalid(f"Invalid size '{size}': the aspect ratio must be between 1:3 and 3:1.", param="size")
    if max(width, height) > 3840 or min(width, height) > 2160:
        raise invalid(f"Invalid size '{size}': the largest supported resolution is 3840x2160.", param="size")
    return width, height


def _pair(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)
