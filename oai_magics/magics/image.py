"""%image: generate, edit and vary images, shown inline, saved on request."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, no_var_expand

from .arguments import argument, magic_arguments
from .common import SessionMagics, parse, friendly, parse_params, publish
from .prompts import interpolate


@magics_class
class ImageMagics(SessionMagics):
    """%image."""

    @friendly
    @magic_arguments()
    @argument("-n", type=int, default=1, help="how many images (dall-e-3 makes one at a time)")
    @argument("--size", help="e.g. 1024x1024, 1792x1024 (dall-e-3), 256x256 or 512x512 (dall-e-2)")
    @argument("-m", "--model", help="the image model (default: %%config OAIMagics.image_model, else the profile's)")
    @argument("--quality", help="standard or hd (dall-e-3); low, medium or high (gpt-image-1)")
    @argument("--style", help="vivid or natural (dall-e-3)")
    @argument("--edit", metavar="PATH", help="edit this square PNG (transparent areas are repainted)")
    @argument("--mask", metavar="PATH", help="with --edit: a PNG whose transparent areas mark what to repaint")
    @argument("--variation", metavar="PATH", help="make variations of this square PNG (dall-e-2)")
    @argument("--save", metavar="DIR", help="also write the images as PNG files into this folder")
    @argument("-p", "--param", action="append", metavar="KEY=VALUE", help="any other API parameter, repeatable")
    @argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
    @argument("-o", "--output", metavar="NAME", help="store the images (an ImageSet) in this variable")
    @argument("prompt", nargs="*", help="what to draw (or, with --edit, what to change)")
    @no_var_expand
    @line_magic
    def image(self, line: str) -> None:
        """Generate images from a prompt and show them inline."""
        args = parse(self.image, line)
        prompt = " ".join(args.prompt)
        if prompt and not args.no_interpolate:
            prompt = interpolate(prompt, self.shell.user_ns)
        if not prompt and not args.variation:
            raise UsageError("Say what to draw: %image a lighthouse at dusk")
        if args.mask and not args.edit:
            raise UsageError("--mask goes with --edit")
        answer = self._request(args, prompt)
        images = self._collect(answer)
        from IPython.display import display

        display(images)
        if args.save:
            paths = images.save(args.save, prompt or "variation")
            print(f"saved {len(paths)} image(s): {', '.join(str(p) for p in paths)}")
        publish(self.shell, images, args.output)

    def _request(self, args: Any, prompt: str) -> dict:
        images = self.session.client.images
        model = args.model or ("dall-e-2" if (args.edit or args.variation) else self.session.model("image"))
        params: dict[str, Any] = {"model": model, "n": args.n, **parse_params(args.param, reserved=("prompt", "image", "mask"))}
        for name in ("size", "quality", "style"):
            if getattr(args, name):
                params[name] = getattr(args, name)
        if not model.startswith("gpt-image"):
            params.setdefault("response_format", "b64_json")  # no second download, no expiring URL
        if args.variation:
            return images.create_variation(Path(args.variation).expanduser(), **params)
        if args.edit:
            mask = Path(args.mask).expanduser() if args.mask else None
            return images.edit(Path(args.edit).expanduser(), mask=mask, prompt=prompt, **params)
        return images.generate(prompt=prompt, **params)

    def _collect(self, answer: dict) -> Any:
        from ..display.images import GeneratedImage, ImageSet

        found = ImageSet()
        for item in answer.get("data") or []:
            if item.get("b64_json"):
                data = base64.b64decode(item["b64_json"])
            elif item.get("url"):
                data = self.session.client.fetch(item["url"])
            else:
                continue
            found.append(GeneratedImage(data=data, url=item.get("url"), revised_prompt=item.get("revised_prompt")))
        if not found:
            raise UsageError("The server answered with no image.")
        return found
