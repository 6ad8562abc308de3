"""%image: generate, edit and vary images, shown inline, saved on request.

The options are checked for the model before anything is sent (image_options.py). Some models make
fewer images per request than `-n` asks for (dall-e-3 makes one): the images are then asked for in
several requests sent at once, and shown in the order they were asked for. When some of those
requests fail, the images that came back are kept and one line says how many. With `--partial N`
the image is streamed: each partial image replaces the previous one in one display, the final image
replaces the last, and Ctrl-C keeps the last partial image.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, no_var_expand

from .arguments import a_model, a_name, argument, at_least, magic_arguments
from .common import SessionMagics, friendly, local_path, parse, parse_params, publish
from .image_options import api_params, check, family, split_edit_words
from .image_answers import Outcome, added, collect, image_tokens
from .image_stream import show_stream
from .prompts import interpolate

# Images per request where a model makes fewer than the API's usual 10.
PER_REQUEST = {"dall-e-3": 1}
MOST_PER_REQUEST = 10
MOST_AT_ONCE = 4  # requests in flight together
RESERVED = ("prompt", "image", "mask", "n", "stream", "partial_images")


@magics_class
class ImageMagics(SessionMagics):
    """%image."""

    @friendly
    @magic_arguments()
    @argument("-n", type=int, default=1, help="how many images, 1 to 10 (dall-e-3 makes one per request: sent at once)")
    @argument("--size", help="auto, 1024x1024, 1536x1024 or 1024x1536 (GPT image models; any WxH divisible by 16 "
                             "for gpt-image-2); 1792x1024 (dall-e-3), 256x256 or 512x512 (dall-e-2)")
    @argument("-m", "--model", type=a_model,
              help="the image model (default: %%config OAIMagics.image_model, else the profile's)")
    @argument("--quality", help="low, medium, high or auto (GPT image models); standard or hd (dall-e-3)")
    @argument("--style", help="vivid or natural (dall-e-3)")
    @argument("--background", choices=("transparent", "opaque", "auto"), help="transparent, opaque or auto (GPT image models)")
    @argument("--format", choices=("png", "jpeg", "webp"), help="the file type of the images (GPT image models; default png)")
    @argument("--compression", type=at_least(0, 100), metavar="0-100", help="with --format jpeg or webp: the compression level")
    @argument("--moderation", choices=("low", "auto"), help="low or auto: how strictly the content is filtered (GPT image models)")
    @argument("--edit", metavar="PATH", nargs="+", help="edit these images, the prompt after them (or after --): up "
                                                         "to 16 for GPT image models; one square PNG whose transparent "
                                                         "areas are repainted for dall-e-2")
    @argument("--mask", metavar="PATH", help="with --edit: a PNG whose transparent areas mark what to repaint in the first image")
    @argument("--fidelity", choices=("low", "high"), help="with --edit: how closely to keep the input images' "
                                                          "features, faces included (GPT image models but gpt-image-1-mini)")
    @argument("--partial", type=at_least(1, 3), metavar="N", help="stream the image, showing N (1-3) partial images "
                                                                  "as they come (GPT image models)")
    @argument("--variation", metavar="PATH", help="legacy: make variations of this square PNG (dall-e-2 only; "
                                                  "where it is gone, use --edit)")
    @argument("--save", metavar="DIR", help="also write the images as files into this folder")
    @argument("-p", "--param", action="append", metavar="KEY=VALUE", help="any other API parameter, repeatable")
    @argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
    @argument("-o", "--output", type=a_name, metavar="NAME", help="store the images (an ImageSet) in this variable")
    @argument("prompt", nargs="*", help="what to draw (or, with --edit, what to change)")
    @no_var_expand
    @line_magic
    def image(self, line: str) -> None:
        """Generate images from a prompt and show them inline."""
        args = parse(self.image, line, namespace=self.shell.user_ns)
        paths, words = split_edit_words(args.edit or [])
        prompt = " ".join(words + args.prompt)
        if prompt and not args.no_interpolate:
            prompt = interpolate(prompt, self.shell.user_ns, self.session.settings.table_rows)
        model = self._model(args)
        self._check(args, prompt, model, paths)
        started = time.monotonic()
        if args.partial is not None:
            events = self._request(args, prompt, model, paths, 1)
            outcome = show_stream(self.shell, events, args.partial, args.output)
        else:
            outcome = self._make(args, prompt, model, paths)
        self._show(outcome, args, prompt, model, time.monotonic() - started)
        if outcome.failure is not None:
            kept = f"kept in _{' and ' + args.output if args.output else ''}"
            raise UsageError(f"{len(outcome.images)} of {args.n} images came back ({kept}); "
                             f"the rest failed: {type(outcome.failure).__name__}: {outcome.failure}")

    def _model(self, args: Any) -> str:
        if args.variation:
            return args.model or "dall-e-2"  # the one model variations ever had
        return self.session.model("image", args.model)

    def _check(self, args: Any, prompt: str, model: str, paths: list[str]) -> None:
        if args.edit and not paths:
            raise UsageError(f"--edit takes image paths (.png, .jpg, .webp), got {args.edit[0]!r}")
        if not prompt and not args.variation:
            raise UsageError("Say what to draw: %image a lighthouse at dusk")
        if args.mask and not args.edit:
            raise UsageError("--mask goes with --edit")
        if args.fidelity and not args.edit:
            raise UsageError("--fidelity goes with --edit")
        if args.variation and (args.edit or family(model) == "gpt"):
            raise UsageError("--variation is legacy, for dall-e-2 only: to change an image with a GPT image model, "
                             "use --edit PATH with a prompt")
        if not 1 <= args.n <= MOST_PER_REQUEST:
            raise UsageError(f"-n must be 1 to {MOST_PER_REQUEST}, got {args.n}")
        if args.partial is not None and args.n > 1:
            raise UsageError("--partial streams one image: leave out -n (or run the magic once per image)")
        check(args, model, paths)

    def _show(self, outcome: Outcome, args: Any, prompt: str, model: str, seconds: float) -> None:
        from IPython.display import display

        from ..display.stream import rich_frontend
        from ..display.usage import show_usage

        images = outcome.images
        if outcome.handle is not None:  # a streamed image: the final one replaces the last partial image
            outcome.handle.update(images)
        else:
            display(images)
        publish(self.shell, images, args.output)  # first: a folder --save cannot write to loses nothing
        if args.save:
            paths = images.save(local_path(args.save), prompt or "variation")
            print(f"saved {len(paths)} image(s): {', '.join(str(p) for p in paths)}")
        show_usage(model, seconds, None, image_tokens(outcome.usage), rich=rich_frontend(),
                   cost=self.session.cost(model, outcome.usage))

    # -- whole answers ---------------------------------------------------------------------------
    def _make(self, args: Any, prompt: str, model: str, paths: list[str]) -> Outcome:
        """The images, asked for in as many requests as the model needs, sent at once; the first
        error, if some requests failed (when all of them fail, that error is raised); the usage."""
        from ..display.images import ImageSet

        fetch = self.session.client.fetch
        most = PER_REQUEST.get(model, MOST_PER_REQUEST)
        counts = [min(most, args.n - start) for start in range(0, args.n, most)]
        pool = ThreadPoolExecutor(max_workers=min(len(counts), MOST_AT_ONCE))
        images, failure, usage = ImageSet(), None, {}
        try:
            futures = [pool.submit(lambda n: collect(self._request(args, prompt, model, paths, n), fetch), n)
                       for n in counts]
            for future in futures:  # in the order asked for, whatever order they finished in
                try:
                    found, reported = future.result()
                    images.extend(found)
                    usage = added(usage, reported)
                except Exception as exc:
                    failure = failure or exc
        finally:  # Ctrl-C while waiting: requests not yet sent are not sent
            pool.shutdown(wait=False, cancel_futures=True)
        if failure is not None and not images:
            raise failure
        return Outcome(images, failure, usage)

    def _request(self, args: Any, prompt: str, model: str, paths: list[str], n: int) -> Any:
        images = self.session.client.images
        params: dict[str, Any] = {"model": model, "n": n, **api_params(args, model),
                                  **parse_params(args.param, reserved=RESERVED)}
        if args.variation:
            try:
                return images.create_variation(local_path(args.variation), **params)
            except Exception as exc:
                raise _no_variations(exc, model) from None
        if paths:
            mask = local_path(args.mask) if args.mask else None
            files = [local_path(path) for path in paths]
            return images.edit(files if len(files) > 1 else files[0], mask=mask, prompt=prompt, **params)
        return images.generate(prompt=prompt, **params)


def _no_variations(exc: Exception, model: str) -> Exception:
    """A variation refused because the server has no model for it: one line that says so and what to use."""
    if getattr(exc, "status", None) == 404 or getattr(exc, "code", None) == "model_not_found":
        return UsageError(f"--variation needs {model}, and this server has no model for variations (they exist for "
                          "dall-e-2 only, which api.openai.com no longer serves): use --edit PATH with a prompt instead")
    return exc
