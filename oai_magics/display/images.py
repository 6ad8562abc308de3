"""Generated images as objects that show themselves: one inline, several as a grid.

An image is kept as the file the server sent (PNG, JPEG or WebP, told apart by their first bytes),
shown as that type, and saved under that type's extension. An image with transparent parts is
shown on a checkerboard, as image editors show it, not on whatever the page's background is (black,
in a dark theme). `partial_bundle` is what a streamed partial image is shown as: the base64 text
it arrived in goes into the display untouched, never decoded and encoded again.
"""

from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GeneratedImage", "ImageSet", "safe_name", "image_type", "has_alpha", "partial_bundle"]

# A checkerboard drawn by CSS alone, behind transparent images.
CHECKERBOARD = "background:repeating-conic-gradient(#ccc 0% 25%,#fff 0% 50%) 50%/16px 16px"
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def image_type(data: bytes) -> str:
    """The media type of an image file, from its signature (PNG when unknown, as the API's default)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "image/png"


def has_alpha(data: bytes) -> bool:
    """Whether an image file can hold transparent pixels: a PNG of a colour type with alpha (or a
    tRNS chunk before its pixels), or a WebP that says it has alpha. Read from the header, not decoded."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return len(data) > 25 and data[25] in (4, 6) or b"tRNS" in data[:data.find(b"IDAT")]
    if image_type(data) == "image/webp":
        chunk = data[12:16]
        if chunk == b"VP8X":
            return len(data) > 20 and bool(data[20] & 0x10)
        if chunk == b"VP8L":
            return len(data) > 24 and bool(data[24] & 0x10)  # the alpha_is_used bit of the lossless header
    return False


@dataclass
class GeneratedImage:
    """One image: its file's bytes, the URL it came from (if any) and the prompt the model used."""

    data: bytes
    url: str | None = None
    revised_prompt: str | None = None
    transparent: bool | None = None  # None: read from the file's header
    b64: str | None = field(default=None, repr=False)  # the base64 it arrived in, kept for showing it

    @property
    def mime(self) -> str:
        return image_type(self.data)

    @property
    def shows_transparency(self) -> bool:
        return has_alpha(self.data) if self.transparent is None else self.transparent

    def base64(self) -> str:
        if self.b64 is None:
            self.b64 = base64.b64encode(self.data).decode()
        return self.b64

    def _repr_png_(self) -> bytes | None:
        return self.data if self.mime == "image/png" else None

    def _repr_jpeg_(self) -> bytes | None:
        return self.data if self.mime == "image/jpeg" else None

    def __repr__(self) -> str:
        kind = EXTENSIONS[self.mime].upper().replace("JPG", "JPEG")
        return f"<GeneratedImage {kind}, {len(self.data) / 1024:.0f} kB{', from ' + self.url if self.url else ''}>"

    def _repr_html_(self) -> str:
        return _img_tag(self)

    def save(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        target.write_bytes(self.data)
        return target


class ImageSet(list):
    """Several images: shown as a grid, usable as a list of GeneratedImage."""

    def __repr__(self) -> str:
        return f"<ImageSet of {len(self)} image{'s' if len(self) != 1 else ''}>"

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(repr(self))  # type: ignore[attr-defined]

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        bundle = {"text/html": self._grid(), "text/plain": repr(self)}
        if len(self) == 1:
            bundle[self[0].mime] = self[0].data
        return bundle

    def _grid(self) -> str:
        cells = "".join(f'<figure style="margin:4px">{_img_tag(img)}'
                        f'{_caption(img)}</figure>' for img in self)
        return f'<div class="oai-images" style="display:flex;flex-wrap:wrap">{cells}</div>'

    def save(self, folder: str | os.PathLike[str], stem: str) -> list[Path]:
        """Write every image to `folder` under safe, numbered names (the extension its type's); the paths written."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        base = safe_name(stem)
        paths = []
        for index, image in enumerate(self, 1):
            extension = EXTENSIONS[image.mime]
            path = target / f"{base}-{index}.{extension}"
            counter = 1
            while path.exists():  # never overwrite an earlier image
                counter += 1
                path = target / f"{base}-{index}-{counter}.{extension}"
            paths.append(image.save(path))
        return paths


def _tag(b64: str, mime: str, title: str, transparent: bool) -> str:
    style = "max-width:320px" + (";" + CHECKERBOARD if transparent else "")
    return f'<img src="data:{mime};base64,{b64}" title="{html.escape(title, quote=True)}" style="{style}"/>'


def _img_tag(image: GeneratedImage) -> str:
    return _tag(image.base64(), image.mime, image.revised_prompt or "", image.shows_transparency)


def partial_bundle(b64: str, output_format: str, transparent: bool, label: str) -> dict[str, str]:
    """A partial image as a raw display bundle: its base64 text as it came, an <img> on a
    checkerboard when the background is transparent, and `label` as the plain text."""
    mime = "image/jpeg" if output_format == "jpeg" else f"image/{output_format}"
    return {"text/html": _tag(b64, mime, label, transparent), mime: b64, "text/plain": label}


def _caption(image: GeneratedImage) -> str:
    return f'<figcaption style="font-size:80%;color:#666;max-width:320px">{html.escape(image.revised_prompt)}</figcaption>' \
        if image.revised_prompt else ""


def safe_name(text: str, limit: int = 40) -> str:
    """A file-name stem from free text: letters, digits and dashes only, never empty."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit].strip("-")
    return stem or "image"
