"""Images: generations, edits and variations, as the API answers them for each model.

A generation draws the prompt (image_drawing.py); an edit repaints the transparent part of the first
image (or of the mask) with that drawing, and shows any further input images on it; a variation
shifts the image's hues and mirrors it. What each model accepts is checked in image_rules.py. GPT
image models answer in base64 with `usage`, in the `output_format` asked for, and with `stream: true`
send `partial_images` partial images and a completed event per image as Server-Sent Events.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import replace
from typing import Any, AsyncIterator

from PIL import Image, ImageOps
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import require_model
from .errors import ApiError, invalid
from .files import optional_form_file, read_form, read_upload
from .image_drawing import GPT_UPLOAD, draw, encoded, open_dalle_image, open_gpt_image, open_mask, partial, with_inputs
from .image_rules import Order, is_gpt, order
from .state import State, state
from .store import new_id, now
from .web import json_body, require, sse, sse_response

MAX_INPUT_IMAGES = 16
# Every picture the sandbox draws gets the next number: n images of one request, and the same prompt
# asked for twice (as `-n 4` on dall-e-3 does in four requests), are four different pictures.
_drawn = itertools.count()


def _variants(count: int) -> list[int]:
    return [next(_drawn) for _ in range(count)]


async def generate(request: Request) -> Response:
    app = state(request)
    body = await json_body(request)
    prompt = require(body, "prompt")
    model = require_model(body.get("model") or "dall-e-2", ("image",)).id
    asked = order(body, model, prompt)
    pictures = [draw(prompt, asked.size, variant, transparent=asked.background == "transparent")
                for variant in _variants(asked.n)]
    return _answer(request, app, asked, pictures, prompt, "image_generation", inputs=0)


async def edit(request: Request) -> Response:
    app = state(request)
    form = await read_form(request, (MAX_INPUT_IMAGES + 1) * GPT_UPLOAD, max_files=MAX_INPUT_IMAGES + 1)
    fields = _fields(form)
    prompt = fields.get("prompt")
    if not prompt:
        raise invalid("Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    model = require_model(fields.get("model") or "dall-e-2", ("image",)).id
    uploads = [item for key in ("image", "image[]") for item in form.getlist(key) if not isinstance(item, str)]
    if not uploads:
        raise invalid("Missing required parameter: 'image'.", param="image", code="missing_required_parameter")
    limit = MAX_INPUT_IMAGES if is_gpt(model) else 1
    if len(uploads) > limit:
        raise invalid(f"Invalid 'image': {model} takes at most {limit} input image{'s' if limit > 1 else ''}, "
                      f"got {len(uploads)}.", param="image")
    opener = open_gpt_image if is_gpt(model) else open_dalle_image
    images = [opener(await read_upload(upload), "image") for upload in uploads]
    first = images[0].convert("RGBA")
    alpha = await _repaint_mask(form, model, images[0], first)
    asked = order(fields, model, prompt, edit=True, own_size=f"{first.width}x{first.height}")
    pictures, transparent = [], asked.background == "transparent"
    for variant in _variants(asked.n):
        painted = draw(prompt, first.size, variant, transparent=transparent).convert("RGBA")
        # Where the mask (or the image) is transparent, the new picture shows through.
        result = Image.composite(first, painted, alpha).convert("RGBA" if transparent else "RGB").resize(asked.size)
        pictures.append(with_inputs(result, images))
    return _answer(request, app, asked, pictures, prompt, "image_edit", inputs=len(images))


async def _repaint_mask(form: Any, model: str, uploaded: Image.Image, image: Image.Image) -> Image.Image:
    """The alpha channel that says what to keep: the mask's, else the image's own."""
    mask_upload = optional_form_file(form, "mask")
    if mask_upload is not None:
        mask = open_mask(await read_upload(mask_upload)).convert("RGBA")
        if mask.size != image.size:
            raise invalid("Invalid input image - 'mask' must be the same size as 'image'.", param="mask")
        return mask.getchannel("A")
    if model == "dall-e-2":  # the GPT image models may repaint a whole opaque image
        _require_transparency(uploaded, image)
    return image.getchannel("A")


def _require_transparency(uploaded: Image.Image, image: Image.Image) -> None:
    """With no mask, the transparent part of the image is what dall-e-2 repaints: an image with none
    is refused, as the API refuses it, instead of coming back unchanged."""
    if uploaded.mode not in ("RGBA", "LA", "L", "PA") and "transparency" not in uploaded.info:
        raise invalid(f"Invalid input image - format must be in ['RGBA', 'LA', 'L'], got {uploaded.mode}.", param="image")
    if image.getchannel("A").getextrema()[0] == 255:
        raise invalid("Invalid input image - the image has no transparent area to edit: give an image with "
                      "transparency, or a mask whose transparent areas mark what to repaint.", param="image")


async def variation(request: Request) -> Response:
    app = state(request)
    form = await read_form(request, 4 * GPT_UPLOAD)
    fields = _fields(form)
    model = require_model(fields.get("model") or "dall-e-2", ("image",)).id
    if model != "dall-e-2":
        raise invalid("Variations are only supported by dall-e-2.", param="model")
    upload = optional_form_file(form, "image")
    if upload is None:
        raise invalid("Missing required parameter: 'image'.", param="image", code="missing_required_parameter")
    image = open_dalle_image(await read_upload(upload), "image").convert("RGB")
    asked = order(fields, model, None)
    pictures = []
    for variant in range(asked.n):
        hue, sat, val = image.convert("HSV").split()
        shifted = Image.merge("HSV", (hue.point(lambda h, s=variant: (h + 40 * (s + 1)) % 256), sat, val)).convert("RGB")
        pictures.append((ImageOps.mirror(shifted) if variant % 2 == 0 else shifted).resize(asked.size))
    return _answer(request, app, asked, pictures, None, "image_variation", inputs=1)


def _fields(form: Any) -> dict[str, Any]:
    """The form's text fields, numbers and booleans read as the API reads them."""
    fields: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    for key in ("n", "output_compression", "partial_images"):
        if key in fields:
            try:
                fields[key] = int(fields[key])
            except ValueError:
                raise invalid(f"Invalid type for '{key}': expected an integer.", param=key) from None
    if "stream" in fields:
        fields["stream"] = fields["stream"].lower() == "true"
    return fields


def _answer(request: Request, app: State, asked: Order, pictures: list[Image.Image], prompt: str | None,
            kind: str, *, inputs: int) -> Response:
    """The images response: `b64_json` or a `url` the sandbox serves; for GPT image models the
    settings used and the usage, or (with `stream`) the events that carry them."""
    if asked.stream:
        return sse_response(_events(asked, pictures, prompt or "", kind, inputs))
    data = []
    for picture in pictures:
        file = encoded(picture, asked.output_format, asked.compression)
        item: dict[str, Any] = {}
        if asked.response_format == "b64_json":
            item["b64_json"] = base64.b64encode(file).decode()
        else:
            image_id = new_id("img_")
            app.store.write_blob(image_id, [file])
            item["url"] = str(request.url_for("image_blob", image_id=image_id))
        if asked.model == "dall-e-3" and prompt is not None:
            item["revised_prompt"] = f"{prompt.strip()} (as drawn by the oai_magics sandbox)"
        data.append(item)
    answer: dict[str, Any] = {"created": now(), "data": data}
    if asked.gpt:
        answer.update(_settings(asked), usage=asked.usage(prompt or "", inputs))
    return JSONResponse(answer)


def _settings(asked: Order) -> dict[str, Any]:
    return {"background": asked.background, "output_format": asked.output_format, "quality": asked.quality,
            "size": asked.size_text}


async def _events(asked: Order, pictures: list[Image.Image], prompt: str, kind: str, inputs: int) -> AsyncIterator[bytes]:
    """Per image: `partial_images` partial images, then its completed event (with the usage)."""
    settings, one = _settings(asked), replace(asked, n=1)  # each completed event reports its own image
    for picture in pictures:
        for index in range(asked.partial_images):
            coarse = encoded(partial(picture, index, asked.partial_images), asked.output_format, asked.compression)
            event = {"type": f"{kind}.partial_image", "b64_json": base64.b64encode(coarse).decode(), "created_at": now(),
                     **settings, "partial_image_index": index}
            yield sse(event, event["type"])
        final = base64.b64encode(encoded(picture, asked.output_format, asked.compression)).decode()
        done = {"type": f"{kind}.completed", "b64_json": final, "created_at": now(), **settings,
                "usage": one.usage(prompt, inputs)}
        yield sse(done, done["type"])


async def image_blob(request: Request) -> Response:
    app = state(request)
    image_id = request.path_params["image_id"]
    path = app.store.blob_path(image_id)
    if not image_id.startswith("img_") or not path.exists():
        raise ApiError(404, "No such image.")
    return Response(path.read_bytes(), media_type="image/png")


ROUTES = [
    ("/images/generations", generate, ["POST"]),
    ("/images/edits", edit, ["POST"]),
    ("/images/variations", variation, ["POST"]),
]
