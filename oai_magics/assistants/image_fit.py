"""An image as the API reads it: fitted into the box its detail level reads, in a format the API
takes, as a data URL; one mechanism for `--image` in the magics and the builder's attachments.

The API scales a larger image down before the model sees it (the vision guide): `low` reads it
within 512 × 512; otherwise it fits 2048 × 2048 and then its short side 768. Sending it already
that size sends the same picture in fewer bytes. Pillow is imported with the first image.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from ..local_errors import LocalError

__all__ = ["FittedImage", "UnreadableImage", "fit_image", "fitted"]

FIT = {"low": (512, 512), "high": (2048, 2048), "auto": (2048, 2048)}
SHORT_SIDE = 768
SENDABLE = ("image/png", "image/jpeg", "image/webp", "image/gif")


class UnreadableImage(LocalError, ValueError):
    """An image Pillow cannot read, or of more pixels than it opens safely; the message says which."""


@dataclass(frozen=True)
class FittedImage:
    """An image as sent (`url`, a data URL), its pixel size as given and as sent."""

    url: str
    size: tuple[int, int]
    sent: tuple[int, int]

    @property
    def downscaled(self) -> bool:
        return self.sent != self.size


def fit_image(data: bytes, label: str, detail: str | None) -> FittedImage:
    """`data` as a data URL the API reads at `detail` (default auto): sent as it is when it already
    fits and is a PNG, JPEG, WebP or GIF, else downscaled and re-encoded. `UnreadableImage` names `label`."""
    from PIL import Image, UnidentifiedImageError

    from ..display.images import image_type

    try:
        image = Image.open(io.BytesIO(data))
        size = image.size
    except (UnidentifiedImageError, OSError):
        raise UnreadableImage(f"{label}: not an image Pillow can read; give a PNG, JPEG, WebP or GIF") from None
    except Image.DecompressionBombError as exc:  # more pixels than Pillow decodes safely
        raise UnreadableImage(f"{label}: {exc.args[0].partition(',')[0]}; make it smaller first") from None
    target = fitted(size, detail or "auto")
    mime = image_type(data)
    if target != size or mime not in SENDABLE or image.format not in ("PNG", "JPEG", "WEBP", "GIF"):
        image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").resize(target, Image.LANCZOS)
        data, mime = _encoded(image, "JPEG" if mime == "image/jpeg" else "PNG")
    return FittedImage(f"data:{mime};base64,{base64.b64encode(data).decode()}", size, target)


def fitted(size: tuple[int, int], detail: str) -> tuple[int, int]:
    """The pixel size the API reads an image of `size` at: within the detail's box, then (but for
    `low`) with its short side at most 768; never larger than it is."""
    width, height = size
    box_w, box_h = FIT[detail]
    scale = min(1.0, box_w / width, box_h / height)
    if detail != "low":
        scale = min(scale, SHORT_SIDE / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encoded(image: Any, kind: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    (image.convert("RGB") if kind == "JPEG" else image).save(buffer, format=kind)
    return buffer.getvalue(), f"image/{kind.lower()}"
