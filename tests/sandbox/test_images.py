"""The sandbox's images as api.openai.com answers them: GPT image models in base64 only, with their
settings and usage, real PNG/JPEG/WebP files, several opaque input images, and partial-image event
streams; every answer and event checked against the 2026 spec. dall-e models keep their old rules."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from oai_magics.client import BadRequestError, Client
from tests.helpers.openapi import spec


def picture(mode: str = "RGB", size: tuple[int, int] = (64, 48), kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 0) if mode == "RGBA" else (10, 120, 200)).save(out, format=kind)
    return out.getvalue()


def opened(answer: dict, index: int = 0) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(answer["data"][index]["b64_json"])))


def schema_errors(name: str, instance: Any) -> list[str]:
    return spec("2026").check({"$ref": f"#/components/schemas/{name}"}, instance)


def test_a_gpt_image_answer_is_base64_with_its_settings_and_usage(api: Client, answers: list) -> None:
    answer = api.images.generate(prompt="a kite", model="gpt-image-1-mini", n=2, quality="high", size="1024x1536")
    assert [sorted(item) for item in answer["data"]] == [["b64_json"], ["b64_json"]]
    assert (answer["quality"], answer["size"], answer["background"], answer["output_format"]) == \
        ("high", "1024x1536", "opaque", "png")
    assert answer["usage"]["output_tokens"] == 2 * round(4160 * 1.5)
    assert opened(answer).size == (1024, 1536) and opened(answer, 0).tobytes() != opened(answer, 1).tobytes()
    assert spec("2026").response_errors("POST", "/images/generations", 200, answers[-1].body) == []


def test_response_format_is_refused_in_the_apis_words(api: Client) -> None:
    for call in (lambda: api.images.generate(prompt="a kite", model="gpt-image-1", response_format="b64_json"),
                 lambda: api.images.edit(("a.png", picture()), prompt="a kite", model="gpt-image-1",
                                         response_format="url")):
        with pytest.raises(BadRequestError) as caught:
            call()
        error = caught.value
        assert (error.message, error.param, error.code) == ("Unknown parameter: 'response_format'.", "response_format",
                                                            "unknown_parameter")


@pytest.mark.parametrize("output_format, kind", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_the_output_format_is_a_real_file_of_that_type(api: Client, output_format: str, kind: str) -> None:
    answer = api.images.generate(prompt="a kite", model="gpt-image-1", output_format=output_format,
                                 output_compression=60 if output_format != "png" else None)
    assert opened(answer).format == kind and answer["output_format"] == output_format


def test_a_transparent_background_is_a_transparent_image(api: Client) -> None:
    for output_format in ("png", "webp"):
        answer = api.images.generate(prompt="a sticker", model="gpt-image-1-mini", background="transparent",
                                     output_format=output_format)
        image = opened(answer)
        assert image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 0
        assert answer["background"] == "transparent"
    mask = picture("RGBA", (64, 48))  # all transparent: the whole image is repainted, on a clear ground
    edited = opened(api.images.edit(("a.png", picture()), mask=("mask.png", mask), prompt="a sticker",
                                    model="gpt-image-1", background="transparent"))
    assert edited.mode == "RGBA" and edited.getchannel("A").getextrema()[0] == 0
    with pytest.raises(BadRequestError, match="jpeg") as caught:
        api.images.generate(prompt="a sticker", model="gpt-image-1", background="transparent", output_format="jpeg")
    assert caught.value.param == "background"


def test_gpt_image_edits_take_several_opaque_images_of_any_shape(api: Client, answers: list) -> None:
    images = [("a.png", picture()), ("b.jpg", picture(kind="JPEG")), ("c.webp", picture(kind="WEBP"))]
    answer = api.images.edit(images, prompt="together", model="gpt-image-1.5", input_fidelity="high", size="1536x1024")
    assert opened(answer).size == (1536, 1024) and answer["usage"]["input_tokens_details"]["image_tokens"] == 3 * 85
    assert spec("2026").response_errors("POST", "/images/edits", 200, answers[-1].body) == []
    with pytest.raises(BadRequestError, match="at most 16 input images"):
        api.images.edit([("a.png", picture())] * 17, prompt="too many", model="gpt-image-1")
    with pytest.raises(BadRequestError, match="at most 1 input image,"):
        api.images.edit([("a.png", picture("RGBA", (64, 64)))] * 2, prompt="two", model="dall-e-2")
    with pytest.raises(BadRequestError, match="input_fidelity' is not supported for gpt-image-1-mini"):
        api.images.edit(images[:1], prompt="x", model="gpt-image-1-mini", input_fidelity="high")


def test_gpt_image_2_sizes_follow_the_spec(api: Client) -> None:
    assert opened(api.images.generate(prompt="wide", model="gpt-image-2", size="1536x864")).size == (1536, 864)
    for size, says in (("1000x1000", "divisible by 16"), ("3200x960", "between 1:3 and 3:1"),
                       ("3840x2176", "3840x2160"), ("big", "WIDTHxHEIGHT")):
        with pytest.raises(BadRequestError, match=says):
            api.images.generate(prompt="x", model="gpt-image-2", size=size)
    with pytest.raises(BadRequestError, match="Supported values are"):
        api.images.generate(prompt="x", model="gpt-image-1", size="1536x864")


@pytest.mark.parametrize("kind", ["image_generation", "image_edit"])
def test_partial_images_stream_as_the_spec_says(api: Client, kind: str) -> None:
    if kind == "image_generation":
        stream = api.images.generate(prompt="a kite", model="gpt-image-1", stream=True, partial_images=3,
                                     background="transparent")
    else:
        stream = api.images.edit(("a.png", picture()), prompt="a kite", model="gpt-image-1", stream=True, partial_images=2)
    events = list(stream)
    schema = "ImageGenStreamEvent" if kind == "image_generation" else "ImageEditStreamEvent"
    assert all(schema_errors(schema, event) == [] for event in events)
    partials = len(events) - 1
    assert [e["type"] for e in events] == [f"{kind}.partial_image"] * partials + [f"{kind}.completed"]
    assert [e["partial_image_index"] for e in events[:-1]] == list(range(partials))
    assert stream.usage == events[-1]["usage"] and events[-1]["usage"]["output_tokens"] > 0
    final = Image.open(io.BytesIO(base64.b64decode(events[-1]["b64_json"])))
    assert all(Image.open(io.BytesIO(base64.b64decode(e["b64_json"]))).size == final.size for e in events)


def test_dall_e_models_keep_their_ways(api: Client) -> None:
    hosted = api.images.generate(prompt="a kite", model="dall-e-2", size="256x256")
    assert list(hosted["data"][0]) == ["url"] and "usage" not in hosted
    with pytest.raises(BadRequestError, match="Streaming is not supported for dall-e-3"):
        api.images.generate(prompt="a kite", model="dall-e-3", stream=True)
    with pytest.raises(BadRequestError, match="format must be in \\['png'\\], got jpeg"):
        api.images.edit(("a.jpg", picture(kind="JPEG")), prompt="x", model="dall-e-2")
