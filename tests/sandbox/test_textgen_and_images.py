"""What the sandbox writes is well-formed Markdown, and image edits refuse what the API refuses."""

from __future__ import annotations

import io

import mistune
import pytest
import requests
from PIL import Image

from oai_magics.client import AuthenticationError, BadRequestError, Client
from oai_magics.sandbox import Sandbox
from oai_magics.sandbox.textgen import reply_text


@pytest.mark.parametrize("prompt", [
    "```python\nprint('hi')\n```\nWhat does this print?",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Explain `x` and *y* and <script>alert(1)</script> and [a](http://x) ~~z~~ # not a heading",
    "````\nunclosed fence " + "word " * 40,
])
def test_a_reply_never_opens_code_html_or_links_from_the_prompt(prompt: str) -> None:
    for variant in range(3):
        html = mistune.html(reply_text(prompt, variant))
        for tag in ("<pre", "<code", "<script", "<a ", "<table", "<h1", "<em>", "<del>"):
            assert tag not in html, (tag, html)
        assert html.count("<p>") >= 2 and "sandbox" in html  # the opening and the quoted prompt stay apart


def png(mode: str, alpha: int = 255) -> bytes:
    image = Image.new(mode, (64, 64), (10, 120, 200, alpha) if mode == "RGBA" else (10, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_edit_without_a_mask_needs_transparency(api: Client) -> None:
    for image, says in ((png("RGB"), "format must be in ['RGBA', 'LA', 'L'], got RGB"),
                        (png("RGBA"), "no transparent area")):
        with pytest.raises(BadRequestError) as caught:
            api.images.edit(("tile.png", image), prompt="a hat", model="dall-e-2", size="256x256")
        assert says in caught.value.message and caught.value.param == "image"
    edited = api.images.edit(("tile.png", png("RGBA", alpha=0)), prompt="a hat", model="dall-e-2", size="256x256",
                             response_format="b64_json")
    assert edited["data"][0]["b64_json"]
    masked = api.images.edit(("tile.png", png("RGB")), mask=("mask.png", png("RGBA", alpha=0)), prompt="a hat",
                             model="dall-e-2", size="256x256", response_format="b64_json")
    assert masked["data"][0]["b64_json"]


def test_every_answer_has_a_request_id(sandbox: Sandbox) -> None:
    """The API's answers carry one; `%oai usage` and errors quote it."""
    seen = set()
    for method, path in (("GET", "/models"), ("POST", "/chat/completions")):
        answer = requests.request(method, sandbox.base_url + path, headers={"Authorization": f"Bearer {sandbox.api_key}"},
                                  json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
        assert answer.headers["x-request-id"].startswith("req_")
        seen.add(answer.headers["x-request-id"])
    assert len(seen) == 2
    with pytest.raises(AuthenticationError) as caught:
        Client(api_key="", base_url=sandbox.base_url).models.list()
    assert (caught.value.request_id or "").startswith("req_")
