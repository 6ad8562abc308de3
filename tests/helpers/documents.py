"""Real files for the tests that send files: a PDF of blank pages, written by Pillow."""

from __future__ import annotations

import io

from PIL import Image


def pdf(pages: int) -> bytes:
    """A real PDF of `pages` blank pages."""
    buffer = io.BytesIO()
    first, *rest = [Image.new("RGB", (100, 140), "white") for _ in range(pages)]
    first.save(buffer, format="PDF", save_all=True, append_images=rest)
    return buffer.getvalue()
