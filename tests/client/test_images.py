"""images.generate / images.edit on GPT image models: the requests checked against the 2026 spec,
several input images sent as `image[]`, and streamed generations and edits read as typed events that
end after each image's completed event (the API sends no [DONE])."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug import Request, Response

from oai_magics.client import Client
from oai_magics.client.errors import APIError
from tests.helpers.openapi import spec

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
USAGE = {"input_tokens": 5, "input_tokens_details": {"text_tokens": 5, "image_tokens": 0}, "output_tokens": 272,
         "total_tokens": 277}
SETTINGS = {"created_at": 1, "size": "1024x1024", "quality": "low", "background": "opaque", "output_format": "png"}


def events(kind: str, partials: int, images: int = 1, then: str = "") -> Any:
    """A reply handler sending the event stream the API sends for `kind` (image_generation or image_edit)."""
    def reply(request: Request) -> Response:
        body = ""
        for _ in range(images):
            for index in range(partials):
                event = {"type": f"{kind}.partial_image", "b64_json": f"cGFydGlhbA{index}", **SETTINGS,
                         "partial_image_index": index}
                body += f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
            done = {"type": f"{kind}.completed", "b64_json": "ZmluYWw=", **SETTINGS, "usage": USAGE}
            body += f"event: {done['type']}\ndata: {json.dumps(done)}\n\n"
        return Response(body + then, content_type="text/event-stream")

    return reply


def test_a_gpt_image_generation_sends_what_the_spec_takes(client: Client, recorder: Any) -> None:
    client.images.generate(prompt="a kite", model="gpt-image-1-mini", n=3, size="1536x1024", quality="low",
                           background="transparent", output_format="webp", output_compression=80, moderation="low")
    seen = recorder.last
    assert "response_format" not in seen.body and seen.body["output_format"] == "webp"
    assert spec("2026").request_errors("POST", "/images/generations", seen.query, seen.content_type, seen.body) == []


def test_an_edit_of_several_images_sends_them_as_an_array(client: Client, recorder: Any) -> None:
    files: list[dict] = []

    def keep_files(request: Request) -> Response:
        for key, upload in request.files.items(multi=True):
            upload.stream.seek(0)
            files.append({"field": key, "filename": upload.filename, "content": upload.read()})
        return Response(json.dumps({"created": 1, "data": []}), content_type="application/json")

    recorder.reply = keep_files
    client.images.edit([("cat.png", PNG), ("hat.jpg", b"\xff\xd8\xffjpeg")], mask=("mask.png", PNG), prompt="a hat",
                       model="gpt-image-1", input_fidelity="high")
    seen = recorder.last
    assert [(f["field"], f["filename"]) for f in files] == [("image[]", "cat.png"), ("image[]", "hat.jpg"),
                                                            ("mask", "mask.png")]
    assert files[1]["content"] == b"\xff\xd8\xffjpeg"
    assert spec("2026").request_errors("POST", "/images/edits", seen.query, seen.content_type, seen.body) == []
    files.clear()
    client.images.edit(("cat.png", PNG), prompt="a hat", model="gpt-image-1")  # one image: the plain field
    assert [f["field"] for f in files] == ["image"]


@pytest.mark.parametrize("kind", ["image_generation", "image_edit"])
def test_a_stream_yields_partial_images_then_the_completed_one(client: Client, recorder: Any, kind: str) -> None:
    recorder.reply = events(kind, partials=2)
    if kind == "image_generation":
        stream = client.images.generate(prompt="a kite", model="gpt-image-1-mini", stream=True, partial_images=2)
        path = "/images/generations"
    else:
        stream = client.images.edit(("cat.png", PNG), prompt="a kite", model="gpt-image-1", stream=True, partial_images=2)
        path = "/images/edits"
    seen = recorder.last
    assert seen.body["stream"] in (True, "true") and seen.headers["Accept"] == "text/event-stream"
    assert spec("2026").request_errors("POST", path, seen.query, seen.content_type, seen.body) == []
    got = list(stream)
    assert [(e["type"], e.get("partial_image_index")) for e in got] == \
        [(f"{kind}.partial_image", 0), (f"{kind}.partial_image", 1), (f"{kind}.completed", None)]
    assert got[0]["b64_json"] == "cGFydGlhbA0" and stream.usage == USAGE and stream.stream.closed


def test_a_stream_of_n_images_ends_after_the_last_completed_event(client: Client, recorder: Any) -> None:
    recorder.reply = events("image_generation", partials=1, images=2)
    got = list(client.images.generate(prompt="a kite", model="gpt-image-1", n=2, stream=True, partial_images=1))
    assert [e["type"].split(".")[1] for e in got] == ["partial_image", "completed", "partial_image", "completed"]


def test_a_stream_cut_before_its_image_is_an_error(client: Client, recorder: Any) -> None:
    def cut(request: Request) -> Response:
        event = {"type": "image_generation.partial_image", "b64_json": "cA==", **SETTINGS, "partial_image_index": 0}
        return Response(f"data: {json.dumps(event)}\n\n", content_type="text/event-stream")

    recorder.reply = cut
    stream = client.images.generate(prompt="a kite", model="gpt-image-1", stream=True, partial_images=1)
    assert next(stream)["type"] == "image_generation.partial_image"
    with pytest.raises(APIError, match="ended"):
        next(stream)


def test_an_error_event_in_the_stream_raises_it(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(
        'event: error\ndata: {"type": "error", "code": "moderation_blocked", "message": "Your request was rejected."}\n\n',
        content_type="text/event-stream")
    with pytest.raises(APIError, match="Your request was rejected"):
        list(client.images.generate(prompt="a kite", model="gpt-image-1", stream=True, partial_images=1))
