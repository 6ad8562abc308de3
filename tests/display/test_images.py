"""display.images: generated images shown as PNG or a grid, and saved under safe names."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from oai_magics.display.images import GeneratedImage, ImageSet, safe_name


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_images_show_as_png_or_a_grid_and_save_safely(tmp_path: Any) -> None:
    one = ImageSet([GeneratedImage(png(), revised_prompt="<b>red</b>")])
    bundle = one._repr_mimebundle_()
    assert bundle["image/png"] == png() and "&lt;b&gt;red&lt;/b&gt;" in bundle["text/html"]
    two = ImageSet([GeneratedImage(png()), GeneratedImage(png())])
    assert "image/png" not in two._repr_mimebundle_() and repr(two) == "<ImageSet of 2 images>"
    paths = two.save(tmp_path / "out", "../../etc/passwd: a *red* square?")
    assert [p.name for p in paths] == ["etc-passwd-a-red-square-1.png", "etc-passwd-a-red-square-2.png"]
    assert all(p.parent == tmp_path / "out" for p in paths)
    assert safe_name("!!!") == "image"
