"""Every request %image sends for its options is one the 2026 spec allows: checked on a loopback
server that records what arrives (and answers as a GPT image model would)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from PIL import Image
from werkzeug import Request, Response

from tests.helpers.openapi import spec

from .conftest import run, shell_on

PNG = io.BytesIO()
Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(PNG, "PNG")
B64 = base64.b64encode(PNG.getvalue()).decode()
SCHEMAS = {"/images/generations": "CreateImageRequest", "/images/edits": "CreateImageEditRequest",
           "/images/variations": "CreateImageVariationRequest"}
USAGE = {"input_tokens": 3, "input_tokens_details": {"text_tokens": 3, "image_tokens": 0}, "output_tokens": 272,
         "total_tokens": 275}


def answer(request: Request) -> Response:
    body = request.get_json(silent=True) or dict(request.form)
    if body.get("stream") in (True, "true"):
        kind = "image_edit" if request.path.endswith("/edits") else "image_generation"
        settings = {"created_at": 1, "size": "1024x1024", "quality": "low", "background": "transparent",
                    "output_format": "png"}
        events = [{"type": f"{kind}.partial_image", "b64_json": B64, **settings, "partial_image_index": 0},
                  {"type": f"{kind}.completed", "b64_json": B64, **settings, "usage": USAGE}]
        return Response("".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events),
                        content_type="text/event-stream")
    count = int(body.get("n", 1))
    return Response(json.dumps({"created": 1, "data": [{"b64_json": B64}] * count, "usage": USAGE}),
                    content_type="application/json")


@pytest.fixture
def seen(httpserver: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list]]:
    arrived: list[tuple[str, str, Any]] = []

    def handler(request: Request) -> Response:
        if request.method != "POST":  # `%oai use` asks which assistants back end the server has
            return Response(json.dumps({"error": {"message": "Invalid URL", "type": "invalid_request_error"}}),
                            status=404, content_type="application/json")
        if request.mimetype == "multipart/form-data":
            fields = {key: request.form.getlist(key) if key.endswith("[]") else request.form[key] for key in request.form}
            fields.update({key: "<file>" for key in request.files})
            arrived.append((request.path, request.headers["Content-Type"], fields))
        else:
            arrived.append((request.path, request.headers["Content-Type"], request.get_json()))
        return answer(request)

    import re

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    server = SimpleNamespace(base_url=httpserver.url_for("/v1").rstrip("/"), api_key="sk-test-images")
    with shell_on(server, monkeypatch) as ip:  # type: ignore[arg-type]
        yield ip, arrived


@pytest.mark.parametrize("line", [
    "a kite",
    "-n 3 --size 1536x1024 --quality low --background transparent --format webp --compression 70 --moderation low a kite",
    "-m gpt-image-2 --size 1536x864 a wide kite",
    "--partial 2 --background transparent a kite",
    "-m dall-e-3 --quality hd --style vivid --size 1792x1024 a kite",
    "-m dall-e-2 -n 2 --size 256x256 a kite",
    "--edit {a} {b} --mask {a} a hat",
    "-m gpt-image-1 --edit {a} --fidelity high --partial 1 --format jpeg a hat",
    "-m dall-e-2 --edit {a} --size 512x512 a hat",
    "--variation {a}",
])
def test_each_request_is_one_the_spec_allows(seen: Any, tmp_path: Path, line: str) -> None:
    shell, arrived = seen
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(PNG.getvalue())
    b.write_bytes(PNG.getvalue())
    run(shell, "image", line.format(a=a, b=b))
    assert arrived
    for path, content_type, body in arrived:
        api_path = path.removeprefix("/v1")
        assert spec("2026").request_errors("POST", api_path, {}, content_type, body) == [], (line, body)
        declared = spec("2026").components["schemas"][SCHEMAS[api_path]]["properties"]
        assert {name.removesuffix("[]") for name in body} <= set(declared), body  # no parameter the API lacks
        model = body.get("model", "dall-e-2")
        assert ("response_format" in body) == model.startswith("dall-e"), body  # never to a GPT image model
    if "{b}" in line:
        assert arrived[-1][2]["image[]"] == "<file>"  # several images go as an array
