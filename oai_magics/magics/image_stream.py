"""%image --partial: a streamed image shown in one display that each partial image replaces.

The partial images go to the display as the base64 text they arrived in (no decoding, no encoding
again: a 1536x1024 partial is megabytes). The final image, from the completed event, is what the
magic keeps and shows in the same display. Ctrl-C while it streams, or a stream that breaks off,
keeps the last partial image (in `_` and the `-o` variable), and one line says so.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from .common import error_line, publish
from .image_answers import Outcome, decoded_image

__all__ = ["show_stream"]


def show_stream(shell: Any, events: Any, partials: int, output: str | None) -> Outcome:
    """Read the events, showing each partial image in place; the final image and the usage."""
    from ..client import OpenAIError  # the client loads on first use, not at %load_ext
    from ..display.images import GeneratedImage, ImageSet

    view = _PartialView(partials)
    final = None
    try:
        for event in events:
            b64 = event.get("b64_json")
            if not isinstance(b64, str):
                continue
            kind = str(event.get("type", ""))
            if kind.endswith(".partial_image"):
                view.show(event, b64)
            elif kind.endswith(".completed"):
                final = GeneratedImage(decoded_image(b64, 1), transparent=event.get("background") == "transparent", b64=b64)
    except (KeyboardInterrupt, OpenAIError, UsageError) as exc:  # UsageError: a final image that is not base64
        events.close()
        if view.last is None:
            raise
        why = ("interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc).rstrip(".") if isinstance(exc, UsageError)
               else f"the stream broke off ({error_line(exc)})")
        publish(shell, ImageSet([view.kept()]), output)
        raise UsageError(f"{why}: the last partial image is kept in _{' and ' + output if output else ''}") from None
    if final is None:
        raise UsageError("The server's stream ended with no completed image.")
    return Outcome(ImageSet([final]), usage=events.usage, handle=view.handle)


class _PartialView:
    """One display that each partial image replaces; the last one shown."""

    def __init__(self, partials: int) -> None:
        self.partials = partials
        self.handle: Any = None
        self.last: dict | None = None

    def show(self, event: dict, b64: str) -> None:
        from IPython.display import display

        from ..display.images import partial_bundle

        self.last = event
        index = event.get("partial_image_index")
        label = f"partial image {index + 1 if isinstance(index, int) else '?'} of {self.partials}"
        bundle = partial_bundle(b64, _format(event), event.get("background") == "transparent", label)
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)

    def kept(self) -> Any:
        """The last partial image, as the magic keeps an image."""
        from ..display.images import GeneratedImage

        assert self.last is not None
        b64 = self.last["b64_json"]
        return GeneratedImage(decoded_image(b64, 1), transparent=self.last.get("background") == "transparent", b64=b64)


def _format(event: dict) -> str:
    kind = event.get("output_format")
    return kind if kind in ("png", "jpeg", "webp") else "png"
