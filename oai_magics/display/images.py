"""Generated images as objects that show themselves: one inline, several as a grid."""

from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GeneratedImage", "ImageSet", "safe_name"]


@dataclass
class GeneratedImage:
    """One image: its PNG bytes, the URL it came from (if any) and the prompt the model used."""

    data: bytes
    url: str | None = None
    revised_prompt: str | None = None

    def _repr_png_(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return f"<GeneratedImage PNG, {len(self.data) / 1024:.0f} kB{', from ' + self.url if self.url else ''}>"

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
            bundle["image/png"] = self[0].data
        return bundle

    def _grid(self) -> str:
        cells = "".join(f'<figure style="margin:4px">{_img_tag(img)}'
                        f'{_caption(img)}</figure>' for img in self)
        return f'<div class="oai-images" style="display:flex;flex-wrap:wrap">{cells}</div>'

    def save(self, folder: str | os.PathLike[str], stem: str) -> list[Path]:
        """Write every image to `folder` under safe, numbered names; the paths written."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        base = safe_name(stem)
        paths = []
        for index, image in enumerate(self, 1):
            path = target / f"{base}-{index}.png"
            counter = 1
            while path.exists():  # never overwrite an earlier image
                counter += 1
                path = target / f"{base}-{index}-{counter}.png"
            paths.append(image.save(path))
        return paths


def _img_tag(image: GeneratedImage) -> str:
    encoded = base64.b64encode(image.data).decode()
    title = html.escape(image.revised_prompt or "", quote=True)
    return f'<img src="data:image/png;base64,{encoded}" title="{title}" style="max-width:320px"/>'


def _caption(image: GeneratedImage) -> str:
    return f'<figcaption style="font-size:80%;color:#666;max-width:320px">{html.escape(image.revised_prompt)}</figcaption>' \
        if image.revised_prompt else ""


def safe_name(text: str, limit: int = 40) -> str:
    """A file-name stem from free text: letters, digits and dashes only, never empty."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit].strip("-")
    return stem or "image"
