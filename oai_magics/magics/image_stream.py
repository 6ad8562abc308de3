"""%image --partial: a streamed image shown in one display that each partial image replaces.

The partial images go to the display as the base64 text they arrived in (no decoding, no encoding
again: a 1536x1024 partial is megabytes). The final image, from the completed event, is what the
magic keeps and shows in the same display. Ctrl-C while it streams keeps the last partial image.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from .common import publish
from .image_answers import Outcome, decoded_image

__all__ = ["show_stream"]


def show_stream(shell: Any, events: Any, partials: int, output: str | None) -> Outcome:
    """Read the events, showing each partial image in place; the final image and the usage."""
    from IPython.display import display

    from ..display.images import GeneratedImage, ImageSet, partial_bundle

    handle, last, final = None, None, None
    try:
        for event in events:
            b64 = event.get("b64_json")
            if not isinstance(b64, str):
                continue
            transparent = event.get("background") == "transparent"
            if str(event.get("type", "")).endswith(".partial_image"):
                last = event
                number = event.get("partial_image_index", 0) + 1 if isinstance(event.get("partial_image_index"), int) else "?"
                bundle = partial_bundle(b64, _format(event), transparent, f"partial image {number} of {partials}")
                if handle is None:
                    handle = display(bundle, raw=True, display_id=True)
                else:
                    handle.update(bundle, raw=True)
            elif str(event.get("type", "")).endswith(".completed"):
                final = GeneratedImage(decoded_image(b64, 1), transparent=transparent, b64=b64)
    except KeyboardInterrupt:
        events.close()
        if last is None:
            raise
        kept = ImageSet([GeneratedImage(decoded_image(last["b64_json"], 1), transparent=last.get("background") == "transparent",
                                        b64=last["b64_json"])])
        publish(shell, kept, output)
        raise UsageError(f"interrupted: the last partial image is kept in _{' and ' + output if output else ''}") from None
    if final is None:
        raise UsageError("The server's stream ended with no completed image.")
    return Outcome(ImageSet([final]), usage=events.usage, handle=handle)


def _format(event: dict) -> str:
    kind = event.get("output_format")
    return kind if kind in ("png", "jpeg", "webp") else "png"
