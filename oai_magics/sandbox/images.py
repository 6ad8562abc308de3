"""Images: PNGs drawn from the prompt; edits and variations transform the uploaded image.

Generations paint a gradient and shapes whose colours and places come from a hash of the prompt,
then write the prompt and a "sandbox" label on it. An edit repaints the transparent part of the
image (or of the mask) with that pattern; a variation shifts the image's hues and mirrors it.
"""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import require_model
from .errors import ApiError, invalid
from .files import form_file, optional_form_file, read_form, read_upload
from .state import State, state
from .store import new_id, now
from .web import json_body, optional, require

SIZES = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "gpt-image-1": ("1024x1024", "1536x1024", "1024x1536", "auto"),
    "gpt-image-1-mini": ("1024x1024", "1536x1024", "1024x1536", "auto"),
}
MAX_N = {"dall-e-2": 10, "dall-e-3": 1, "gpt-image-1": 10, "gpt-image-1-mini": 10}
MAX_UPLOAD = 4 * 1024 * 1024


def palette(seed: bytes) -> list[tuple[int, int, int]]:
    return [(seed[i], seed[i + 1], seed[i + 2]) for i in range(0, 30, 3)]


def draw(prompt: str, size: tuple[int, int], variant: int = 0) -> Image.Image:
    """A deterministic picture of the prompt."""
    seed = hashlib.blake2b(f"{prompt}\0{variant}".encode(), digest_size=32).digest()
    colours = palette(seed)
    width, height = size
    top, bottom = colours[0], colours[1]
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    pen = ImageDraw.Draw(image)
    for index in range(6):
        x, y = seed[10 + index] / 255 * width, seed[16 + index] / 255 * height
        radius = (0.08 + seed[22 + index % 8] / 255 * 0.2) * min(width, height)
        shape = pen.ellipse if index % 2 else pen.rectangle
        shape([x - radius, y - radius, x + radius, y + radius], fill=colours[2 + index % 8], outline=(255, 255, 255))
    caption = prompt if len(prompt) <= 60 else prompt[:57] + "..."
    font_size = max(11, min(width, height) // 36)
    font = ImageFont.load_default(size=font_size)
    box = [0, height - int(font_size * 2.2), width, height]
    pen.rectangle(box, fill=(0, 0, 0))
    pen.text((font_size // 2, box[1] + font_size // 2), f"sandbox · {caption}", fill=(255, 255, 255), font=font)
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def parse_size(model: str, size: str | None) -> tuple[int, int]:
    allowed = SIZES.get(model, SIZES["dall-e-2"])
    size = size or allowed[-1 if model == "dall-e-2" else 0]
    if size not in allowed:
        raise invalid(f"'{size}' is not one of {list(allowed)} - 'size'", param="size")
    if size == "auto":
        size = "1024x1024"
    width, height = size.split("x")
    return int(width), int(height)


def open_image(data: bytes, param: str) -> Image.Image:
    if len(data) > MAX_UPLOAD:
        raise invalid(f"Invalid input image - '{param}' must be less than 4 MB.", param=param)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise invalid("Invalid input image - format must be in ['png'], got an unreadable file.", param=param) from None
    if image.format != "PNG":
        raise invalid(f"Invalid input image - format must be in ['png'], got {str(image.format).lower()}.", param=param)
    if image.width != image.height:
        raise invalid(f"Invalid input image - '{param}' must be square, got {image.width}x{image.height}.", param=param)
    return image


def answer(request: Request, app: State, model: str, images: list[Image.Image], fmt: str, prompt: str | None) -> Response:
    """The images response: `b64_json` or a `url` the sandbox serves."""
    data = []
    for image in images:
        png = png_bytes(image)
        item: dict = {}
        if fmt == "b64_json" or model.startswith("gpt-image"):
            item["b64_json"] = base64.b64encode(png).decode()
        else:
            image_id = new_id("img_")
            app.store.write_blob(image_id, [png])
            item["url"] = str(request.url_for("image_blob", image_id=image_id))
        if model == "dall-e-3" and prompt is not None:
            item["revised_prompt"] = f"{prompt.strip()} (as drawn by the oai_magics sandbox)"
        data.append(item)
    return JSONResponse({"created": now(), "data": data})


def common(body: dict, default_model: str) -> tuple[str, int, str]:
    model = require_model(body.get("model") or default_model, ("image",)).id
    n = optional(body, "n", "integer", 1, minimum=1, maximum=MAX_N.get(model, 10))
    fmt = optional(body, "response_format", "string", "url", choices=("url", "b64_json"))
    return model, n, fmt


async def generate(request: Request) -> Response:
    app = state(request)
    body = await json_body(request)
    prompt = require(body, "prompt")
    if len(prompt) > 4000:
        raise invalid("Invalid 'prompt': string too long. Expected a string with maximum length 4000.", param="prompt")
    model, n, fmt = common(body, "dall-e-2")
    optional(body, "quality", "string", choices=("standard", "hd", "low", "medium", "high", "auto"))
    optional(body, "style", "string", choices=("vivid", "natural"))
    size = parse_size(model, body.get("size"))
    images = [draw(prompt, size, i) for i in range(n)]
    return answer(request, app, model, images, fmt, prompt)


async def form_fields(request: Request) -> tuple[State, dict, dict]:
    app = state(request)
    form = await read_form(request, 4 * MAX_UPLOAD)
    fields: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    for key in ("n",):
        if key in fields:
            try:
                fields[key] = int(fields[key])
            except ValueError:
                raise invalid(f"Invalid type for '{key}': expected an integer.", param=key) from None
    return app, fields, form


def require_transparency(uploaded: Image.Image, image: Image.Image) -> None:
    """With no mask, the transparent part of the image is what gets repainted: an image with none
    is refused, as the API refuses it, instead of coming back unchanged."""
    if uploaded.mode not in ("RGBA", "LA", "L", "PA") and "transparency" not in uploaded.info:
        raise invalid(f"Invalid input image - format must be in ['RGBA', 'LA', 'L'], got {uploaded.mode}.", param="image")
    if image.getchannel("A").getextrema()[0] == 255:
        raise invalid("Invalid input image - the image has no transparent area to edit: give an image with "
                      "transparency, or a mask whose transparent areas mark what to repaint.", param="image")


async def edit(request: Request) -> Response:
    app, fields, form = await form_fields(request)
    prompt = fields.get("prompt")
    if not prompt:
        raise invalid("Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    model, n, fmt = common(fields, "dall-e-2")
    uploaded = open_image(await read_upload(form_file(form, "image")), "image")
    image = uploaded.convert("RGBA")
    mask_upload = optional_form_file(form, "mask")
    if mask_upload is not None:
        mask = open_image(await read_upload(mask_upload), "mask").convert("RGBA")
        if mask.size != image.size:
            raise invalid("Invalid input image - 'mask' must be the same size as 'image'.", param="mask")
        alpha = mask.getchannel("A")
    else:
        if model == "dall-e-2":  # the gpt-image models may repaint a whole opaque image
            require_transparency(uploaded, image)
        alpha = image.getchannel("A")
    own = f"{image.width}x{image.height}"
    size = parse_size(model, fields.get("size") or (own if own in SIZES.get(model, ()) else None))
    results = []
    for variant in range(n):
        painted = draw(prompt, image.size, variant).convert("RGBA")
        # Where the mask (or the image) is transparent, the new picture shows through.
        results.append(Image.composite(image, painted, alpha).convert("RGB").resize(size))
    return answer(request, app, model, results, fmt, prompt)


async def variation(request: Request) -> Response:
    app, fields, form = await form_fields(request)
    model, n, fmt = common(fields, "dall-e-2")
    if model != "dall-e-2":
        raise invalid("Variations are only supported by dall-e-2.", param="model")
    image = open_image(await read_upload(form_file(form, "image")), "image").convert("RGB")
    size = parse_size(model, fields.get("size"))
    results = []
    for variant in range(n):
        hue, sat, val = image.convert("HSV").split()
        shifted = Image.merge("HSV", (hue.point(lambda h, s=variant: (h + 40 * (s + 1)) % 256), sat, val)).convert("RGB")
        results.append((ImageOps.mirror(shifted) if variant % 2 == 0 else shifted).resize(size))
    return answer(request, app, model, results, fmt, None)


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
