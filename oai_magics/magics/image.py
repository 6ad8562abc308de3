"""%image: generate, edit and vary images, shown inline, saved on request.

Some models make fewer images per request than `-n` asks for (dall-e-3 makes one): the images
are then asked for in several requests sent at once, and shown in the order they were asked for.
When some of those requests fail, the images that came back are kept and one line says how many.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, no_var_expand

from .arguments import a_model, argument, magic_arguments
from .common import SessionMagics, local_path, parse, friendly, parse_params, publish
from .prompts import interpolate

# Images per request where a model makes fewer than the API's usual 10.
PER_REQUEST = {"dall-e-3": 1}
MOST_PER_REQUEST = 10
MOST_AT_ONCE = 4  # requests in flight together


@magics_class
class ImageMagics(SessionMagics):
    """%image."""

    @friendly
    @magic_arguments()
    @argument("-n", type=int, default=1, help="how many images (dall-e-3 makes one per request: sent at once)")
    @argument("--size", help="e.g. 1024x1024, 1792x1024 (dall-e-3), 256x256 or 512x512 (dall-e-2)")
    @argument("-m", "--model", type=a_model,
              help="the image model (default: %%config OAIMagics.image_model, else the profile's)")
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
        args = parse(self.image, line, namespace=self.shell.user_ns)
        prompt = " ".join(args.prompt)
        if prompt and not args.no_interpolate:
            prompt = interpolate(prompt, self.shell.user_ns)
        if not prompt and not args.variation:
            raise UsageError("Say what to draw: %image a lighthouse at dusk")
        if args.mask and not args.edit:
            raise UsageError("--mask goes with --edit")
        if not 1 <= args.n <= MOST_PER_REQUEST:
            raise UsageError(f"-n must be 1 to {MOST_PER_REQUEST}, got {args.n}")
        images, failure = self._make(args, prompt)
        from IPython.display import display

        display(images)
        if args.save:
            paths = images.save(local_path(args.save), prompt or "variation")
            print(f"saved {len(paths)} image(s): {', '.join(str(p) for p in paths)}")
        publish(self.shell, images, args.output)
        if failure is not None:
            kept = f"kept in _{' and ' + args.output if args.output else ''}"
            raise UsageError(f"{len(images)} of {args.n} images came back ({kept}); "
                             f"the rest failed: {type(failure).__name__}: {failure}")

    def _make(self, args: Any, prompt: str) -> tuple[Any, Exception | None]:
        """The images, asked for in as many requests as the model needs, sent at once; and the
        first error, if some requests failed (when all of them fail, that error is raised)."""
        from ..display.images import ImageSet

        model = args.model or ("dall-e-2" if (args.edit or args.variation) else self.session.model("image"))
        most = PER_REQUEST.get(model, MOST_PER_REQUEST)
        counts = [min(most, args.n - start) for start in range(0, args.n, most)]
        pool = ThreadPoolExecutor(max_workers=min(len(counts), MOST_AT_ONCE))
        images, failure = ImageSet(), None
        try:
            futures = [pool.submit(lambda n: self._collect(self._request(args, prompt, model, n)), n) for n in counts]
            for future in futures:  # in the order asked for, whatever order they finished in
                try:
                    images.extend(future.result())
                except Exception as exc:
                    failure = failure or exc
        finally:  # Ctrl-C while waiting: requests not yet sent are not sent
            pool.shutdown(wait=False, cancel_futures=True)
        if failure is not None and not images:
            raise failure
        return images, failure

    def _request(self, args: Any, prompt: str, model: str, n: int) -> dict:
        images = self.session.client.images
        params: dict[str, Any] = {"model": model, "n": n, **parse_params(args.param, reserved=("prompt", "image", "mask", "n"))}
        for name in ("size", "quality", "style"):
            if getattr(args, name):
                params[name] = getattr(args, name)
        if not model.startswith("gpt-image"):
            params.setdefault("response_format", "b64_json")  # no second download, no expiring URL
        if args.variation:
            return images.create_variation(local_path(args.variation), **params)
        if args.edit:
            mask = local_path(args.mask) if args.mask else None
            return images.edit(local_path(args.edit), mask=mask, prompt=prompt, **params)
        return images.generate(prompt=prompt, **params)

    def _collect(self, answer: dict) -> Any:
        from ..display.images import GeneratedImage, ImageSet

        found = ImageSet()
        for number, item in enumerate(answer.get("data") or [], 1):
            if not isinstance(item, dict):
                raise UsageError(f"The server answered with image {number} that is not an object.")
            if item.get("b64_json"):
                data = _decoded(item["b64_json"], number)
            elif item.get("url"):
                data = self.session.client.fetch(_web_address(item["url"], number))
            else:
                continue
            revised = item.get("revised_prompt")
            found.append(GeneratedImage(data=data, url=item.get("url"),
                                        revised_prompt=revised if isinstance(revised, str) else None))
        if not found:
            raise UsageError("The server answered with no image.")
        return found


def _decoded(text: Any, number: int) -> bytes:
    """An answer's `b64_json`, strictly: a wrong character is a bad answer, not a broken picture."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)  # lines as base64.encodebytes wraps them
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        raise UsageError(f"The server answered with image {number} whose b64_json is not base64.") from None


def _web_address(url: Any, number: int) -> str:
    from ..client.urls import is_web_address

    if not is_web_address(url):
        raise UsageError(f"The server answered with image {number} whose url is not an http(s) address.")
    return url
