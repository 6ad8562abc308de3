"""Image parts in chat messages: the sandbox checks them as the API does and names what it saw."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from oai_magics.client import BadRequestError, Client
from tests.helpers.openapi import spec


def data_url(size: tuple[int, int], kind: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format=kind)
    return f"data:image/{kind.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def asking(*parts: dict) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "What is in these pictures?"}, *parts]}]


def image(url: str, **extra: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


def test_the_reply_names_each_image_by_type_and_pixel_size(api: Client) -> None:
    messages = asking(image(data_url((64, 48))), image(data_url((10, 20), "JPEG"), detail="low"),
                      image("https://example.com/cat.png"))
    request = {"model": "gpt-4o-mini", "messages": messages}
    assert spec("2026").request_errors("post", "/chat/completions", {}, "application/json", request) == []
    text = api.chat.completions.create(**request)["choices"][0]["message"]["content"]
    assert ("I was shown 3 images: PNG 64×48 px (auto detail); JPEG 10×20 px (low detail); "
            "an image by URL, not fetched offline (auto detail).") in text
    later = messages + [{"role": "assistant", "content": text}, {"role": "user", "content": "And now?"}]
    follow = api.chat.completions.create(model="gpt-4o-mini", messages=later)["choices"][0]["message"]["content"]
    assert "Earlier in the conversation: 3 images." in follow and "I was shown" not in follow


@pytest.mark.parametrize("url, code", [("data:image/png;base64,bm90IGFuIGltYWdl", "invalid_image_format"),
                                       ("data:image/png;base64,%%%", "invalid_image_format"),
                                       ("ftp://example.com/cat.png", "invalid_value")])
def test_an_image_the_api_would_refuse_is_refused(api: Client, url: str, code: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        api.chat.completions.create(model="gpt-4o-mini", messages=asking(image(url)))
    assert refused.value.code == code
