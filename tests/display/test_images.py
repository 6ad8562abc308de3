"""display.images: generated images shown as PNG or a grid, and saved under safe names; an image
file's type and transparency told from its header; a partial image shown as it came."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from oai_magics.display.images import GeneratedImage, ImageSet, has_alpha, image_type, partial_bundle, safe_name


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


def encoded(mode: str, kind: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image = Image.new(mode, (8, 8), (200, 0, 0, 0) if mode == "RGBA" else "red")
    if mode == "P":
        image = Image.new("RGB", (8, 8), "red").convert("P")
        options["transparency"] = 0
    image.save(buffer, kind, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("mode, kind, options, mime, alpha", [
    ("RGB", "PNG", {}, "image/png", False),
    ("RGBA", "PNG", {}, "image/png", True),
    ("P", "PNG", {}, "image/png", True),  # a palette with a transparent entry (tRNS)
    ("RGB", "JPEG", {}, "image/jpeg", False),
    ("RGB", "WEBP", {}, "image/webp", False),
    ("RGBA", "WEBP", {}, "image/webp", True),
    ("RGBA", "WEBP", {"lossless": True}, "image/webp", True),
])
def test_an_image_file_is_told_by_its_header(mode: str, kind: str, options: dict, mime: str, alpha: bool) -> None:
    data = encoded(mode, kind, **options)
    assert (image_type(data), has_alpha(data)) == (mime, alpha)
    shown = ImageSet([GeneratedImage(data)])._repr_mimebundle_()
    assert shown[mime] == data and ("repeating-conic-gradient" in shown["text/html"]) == alpha
    assert f"data:{mime};base64," in shown["text/html"]


def test_a_partial_image_is_shown_as_the_base64_it_came_in() -> None:
    b64 = "aGVsbG8="  # never decoded: any text goes through as it is
    bundle = partial_bundle(b64, "webp", True, "partial image 1 of 2")
    assert bundle["image/webp"] is b64 and f"data:image/webp;base64,{b64}" in bundle["text/html"]
    assert "repeating-conic-gradient" in bundle["text/html"] and bundle["text/plain"] == "partial image 1 of 2"
    assert "repeating-conic-gradient" not in partial_bundle(b64, "png", False, "x")["text/html"]
