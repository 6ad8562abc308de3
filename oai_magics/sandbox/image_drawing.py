"""The sandbox's pictures: drawn from the prompt, encoded as the request asks, uploads read as the API reads them.

A picture is a gradient with shapes whose colours and places come from a hash of the prompt and a
number (each image the sandbox makes gets its own, so `n` images, or the same prompt sent twice, are
different pictures), with the prompt and a "sandbox" label written on it. A transparent one has the
shapes on a clear ground. Partial images (streamed generations) are the final picture seen coarser.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw, ImageFont

from .errors import invalid

__all__ = ["draw", "encoded", "partial", "open_dalle_image", "open_gpt_image", "open_mask", "with_inputs"]

DALLE_UPLOAD = 4 * 1024 * 1024  # dall-e-2: a square PNG under 4 MB
GPT_UPLOAD = 50 * 1024 * 1024  # GPT image models: png, webp or jpg under 50 MB each
GPT_INPUT_FORMATS = ("PNG", "WEBP", "JPEG")
MEDIA = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def _palette(seed: bytes) -> list[tuple[int, int, int]]:
    return [(seed[i], seed[i + 1], seed[i + 2]) for i in range(0, 30, 3)]


def draw(prompt: str, size: tuple[int, int], variant: int = 0, *, transparent: bool = False) -> Image.Image:
    """A deterministic picture of the prompt (RGBA when `transparent`, else RGB)."""
    seed = hashlib.blake2b(f"{prompt}\0{variant}".encode(), digest_size=32).digest()
    colours = _palette(seed)
    width, height = size
    if transparent:
        image = Image.new("RGBA", size, (0, 0, 0, 0))
    else:
        gradient = Image.linear_gradient("L").resize((width, height))
        image = Image.composite(Image.new("RGB", size, colours[1]), Image.new("RGB", size, colours[0]), gradient)
    pen = ImageDraw.Draw(image)
    for index in range(6):
        x, y = seed[10 + index] / 255 * width, seed[16 + index] / 255 * height
        radius = (0.08 + seed[22 + index % 8] / 255 * 0.2) * min(width, height)
        shape = pen.ellipse if index % 2 else pen.rectangle
        shape([x - radius, y - radius, x + radius, y + radius], fill=colours[2 + index % 8], outline=(255, 255, 255))
    caption = prompt if len(prompt) <= 60 else prompt[:57] + "..."
    font_size = max(11, min(width, height) // 36)
    font = ImageFont.load_default(size=font_size)
    box = [0, height - int(font_size * 2.2), width, height]
    pen.rectangle(box, fill=(0, 0, 0))
    pen.text((font_size // 2, box[1] + font_size // 2), f"sandbox · {caption}", fill=(255, 255, 255), font=font)
    return image


def with_inputs(picture: Image.Image, inputs: list[Image.Image]) -> Image.Image:
    """The picture with every input image but the first shown small along its top: an edit of
    several images visibly uses them all."""
    if len(inputs) < 2:
        return picture
    result = picture.copy()
    side = max(16, min(result.width, result.height) // 5)
    for place, extra in enumerate(inputs[1:]):
        thumb = extra.convert(result.mode).resize((side, side))
        result.paste(thumb, (4 + place * (side + 4) % max(1, result.width - side), 4))
    return result


def partial(final: Image.Image, index: int, count: int) -> Image.Image:
    """Partial image `index` (0-based) of `count`: the final picture at a coarser grain, finer each time."""
    factor = 2 ** (count - index + 1)
    small = final.resize((max(1, final.width // factor), max(1, final.height // factor)), Image.Resampling.BILINEAR)
    return small.resize(final.size, Image.Resampling.NEAREST)


def encoded(image: Image.Image, output_format: str = "png", compression: int = 100) -> bytes:
    """The image as a real PNG, JPEG or WebP file (`compression` 0-100, as the API's `output_compression`)."""
    out = io.BytesIO()
    kind = MEDIA[output_format]
    if kind == "PNG":
        image.save(out, format="PNG")
    elif kind == "JPEG":  # JPEG has no alpha: a transparent picture is refused before this
        image.convert("RGB").save(out, format="JPEG", quality=max(1, compression))
    else:
        image.save(out, format="WEBP", quality=compression, lossless=compression == 100)
    return out.getvalue()


def _opened(data: bytes, param: str, limit: int, limit_words: str, formats: tuple[str, ...]) -> Image.Image:
    if len(data) > limit:
        raise invalid(f"Invalid input image - '{param}' must be less than {limit_words}.", param=param)
    allowed = str([kind.lower() for kind in formats])
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise invalid(f"Invalid input image - format must be in {allowed}, got an unreadable file.", param=param) from None
    if image.format not in formats:
        raise invalid(f"Invalid input image - format must be in {allowed}, got {str(image.format).lower()}.", param=param)
    return image


def open_dalle_image(data: bytes, param: str) -> Image.Image:
    """An upload for dall-e-2: a square PNG under 4 MB."""
    image = _opened(data, param, DALLE_UPLOAD, "4 MB", ("PNG",))
    if image.width != image.height:
        raise invalid(f"Invalid input image - '{param}' must be square, got {image.width}x{image.height}.", param=param)
    return image


def open_gpt_image(data: bytes, param: str) -> Image.Image:
    """An upload for a GPT image model: png, webp or jpg under 50 MB, any shape, opaque or not."""
    return _opened(data, param, GPT_UPLOAD, "50 MB", GPT_INPUT_FORMATS)


def open_mask(data: bytes) -> Image.Image:
    """A mask: a PNG under 4 MB (its size is checked against the image it goes with)."""
    return _opened(data, "mask", DALLE_UPLOAD, "4 MB", ("PNG",))
