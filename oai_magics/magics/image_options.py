"""%image's options checked for the model before anything is sent, and turned into API parameters.

The rules are the 2026 spec's (CreateImageRequest, CreateImageEditRequest): the GPT image models
(`gpt-image-1`, `-1-mini`, `-1.5`, `-2` ...) always answer in base64 and refuse `response_format`;
they alone take `background`, `output_format`, `output_compression`, `moderation`, streamed partial
images, up to 16 input images and (all but `gpt-image-1-mini`) `input_fidelity`; gpt-image-2 takes
any `WxH` with both sides divisible by 16, a ratio within 3:1 and at most 3840x2160. dall-e-3 makes
one image per request, in its own sizes and qualities; dall-e-2 edits one square PNG. A model this
module does not know (another server's) gets what was asked for, unchecked: that server judges.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

__all__ = ["family", "check", "api_params", "split_edit_words"]

GPT_SIZES = ("auto", "1024x1024", "1536x1024", "1024x1536")
DALLE_SIZES = {"dall-e-2": ("256x256", "512x512", "1024x1024"), "dall-e-3": ("1024x1024", "1792x1024", "1024x1792")}
QUALITIES = {"gpt": ("low", "medium", "high", "auto"), "dall-e-3": ("standard", "hd"), "dall-e-2": ("standard",)}
GPT_ONLY = {"background": "--background", "format": "--format", "compression": "--compression",
            "moderation": "--moderation", "partial": "--partial", "fidelity": "--fidelity"}
MOST_INPUT_IMAGES = 16
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def family(model: str) -> str:
    """"gpt" (a GPT image model), "dall-e-2", "dall-e-3", or "other" (a model of another server)."""
    if model.startswith(("gpt-image", "chatgpt-image")):
        return "gpt"
    if model.startswith("dall-e-2") or model.startswith("dall-e-3"):
        return model[:8]
    return "other"


def check(args: Any, model: str, images: list[str]) -> None:
    """One UsageError line for the first option the model does not take, before anything is sent."""
    kind = family(model)
    if kind == "other":
        return
    if kind != "gpt":
        given = [flag for name, flag in GPT_ONLY.items() if getattr(args, name) is not None]
        if given:
            raise UsageError(f"{given[0]} is for the GPT image models (e.g. gpt-image-1-mini), not {model}")
    if args.quality and args.quality not in QUALITIES.get(kind, QUALITIES["gpt"]):
        raise UsageError(f"--quality for {model} is one of {', '.join(QUALITIES.get(kind, QUALITIES['gpt']))}, "
                         f"not {args.quality!r}")
    if args.style and kind != "dall-e-3":
        raise UsageError(f"--style is for dall-e-3, not {model}")
    if args.size:
        _check_size(model, kind, args.size)
    if images:
        _check_edit(args, model, kind, images)
    if args.background == "transparent" and args.format == "jpeg":
        raise UsageError("--background transparent needs --format png or webp: JPEG has no transparency")
    if args.compression is not None and args.format not in ("jpeg", "webp"):
        raise UsageError("--compression goes with --format jpeg or webp (PNG is lossless)")


def _check_size(model: str, kind: str, size: str) -> None:
    if kind == "gpt":
        if size in GPT_SIZES:
            return
        if not model.startswith("gpt-image-2"):
            raise UsageError(f"--size for {model} is one of {', '.join(GPT_SIZES)}, not {size!r} "
                             "(any WIDTHxHEIGHT needs gpt-image-2)")
        found = re.fullmatch(r"(\d+)x(\d+)", size)
        if not found:
            raise UsageError(f"--size for {model} is auto or WIDTHxHEIGHT (e.g. 1536x864), not {size!r}")
        width, height = int(found[1]), int(found[2])
        if width % 16 or height % 16 or not width or not height:
            raise UsageError(f"--size {size}: width and height must both be divisible by 16 (e.g. 1536x864)")
        if max(width, height) > 3 * min(width, height):
            raise UsageError(f"--size {size}: the ratio of the sides must be between 1:3 and 3:1")
        if max(width, height) > 3840 or min(width, height) > 2160:
            raise UsageError(f"--size {size}: the largest size {model} makes is 3840x2160")
        return
    if size not in DALLE_SIZES[kind]:
        raise UsageError(f"--size for {model} is one of {', '.join(DALLE_SIZES[kind])}, not {size!r}")


def _check_edit(args: Any, model: str, kind: str, images: list[str]) -> None:
    if kind == "dall-e-3":
        raise UsageError("dall-e-3 does not edit images: use a GPT image model (e.g. -m gpt-image-1-mini)")
    most = MOST_INPUT_IMAGES if kind == "gpt" else 1
    if len(images) > most:
        raise UsageError(f"--edit takes at most {most} image{'s' if most > 1 else ''} for {model}, got {len(images)}")
    if args.fidelity and model.startswith("gpt-image-1-mini"):
        raise UsageError("--fidelity is not for gpt-image-1-mini: use gpt-image-1, gpt-image-1.5 or later")


def api_params(args: Any, model: str) -> dict[str, Any]:
    """The API parameters the options ask for (what is not given is left to the API's defaults)."""
    names = {"size": "size", "quality": "quality", "style": "style", "background": "background",
             "format": "output_format", "compression": "output_compression", "moderation": "moderation",
             "fidelity": "input_fidelity"}
    params = {api: getattr(args, name) for name, api in names.items() if getattr(args, name) is not None}
    if args.partial is not None:
        params.update(stream=True, partial_images=args.partial)
    if family(model) != "gpt":
        # dall-e (and other servers' models) answer with a URL unless asked: base64 needs no second
        # download and does not expire. GPT image models always answer in base64 and refuse the parameter.
        params["response_format"] = "b64_json"
    return params


def split_edit_words(words: list[str]) -> tuple[list[str], list[str]]:
    """`--edit a.png b.png add a hat` reads every word as a path: the leading words that name image
    files are the paths, the rest is the start of the prompt."""
    paths: list[str] = []
    for index, word in enumerate(words):
        if not (word.lower().endswith(IMAGE_SUFFIXES) or Path(word).expanduser().is_file()):
            return paths, words[index:]
        paths.append(word)
    return paths, []
