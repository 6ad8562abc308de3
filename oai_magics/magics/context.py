"""`--image X` and `--file PATH` (`%%chat`, `%assistant run` and `messages add`): what is in the
notebook, as content parts of the prompt.

A PDF goes as a `file` part (base64, with its filename), or, larger than the 32 MB a request may
carry, is uploaded first (purpose `user_data`) and sent by its file id, with a line under the reply
saying so. The model takes no other file type, so a text file (UTF-8: notes, CSV, code) goes as a
text part holding its contents, and any other file is one line before anything is sent.

X is a variable holding an image (bytes, a PIL image, a matplotlib Figure or Axes, an `%image`
result), `plt` for pyplot's current figure, an http(s) URL (sent as it is: the server fetches it), or
a path. Anything else is sent as a data URL. An image larger than the API reads is downscaled first,
as the API would (`assistants.image_fit`): the same picture, fewer bytes, and a line under the reply saying so.
Pillow and matplotlib are imported only when an image needs them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from IPython.core.error import UsageError

from .common import local_path

__all__ = ["ImagePart", "image_parts", "file_parts", "message_parts", "attachments", "IMAGE_HELP", "FILE_HELP",
           "DETAIL_HELP"]

# The modes a PNG holds; a PIL image in any other (CMYK, 32-bit integer or float, YCbCr ...) is
# converted to RGB(A) first, as a viewer would show it.
PNG_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "I;16")
Upload = Callable[[str, bytes], str]  # (file name, contents) -> the id of the uploaded file (`content.uploader`)
KINDS = "a path, an http(s) URL, or a variable holding bytes, a PIL image, a matplotlib Figure or Axes, or an %image result"
# The flags' help, one wording for every magic that takes them.
IMAGE_HELP = ("an image for the model to see, repeatable: a path, an http(s) URL, or a variable holding bytes, a PIL "
              "image, a matplotlib Figure or Axes, or an %%image result; 'plt' for the current figure. Larger images "
              "are downscaled to what the API reads")
FILE_HELP = ("a file for the model to read, repeatable: a PDF (sent as a file part; one over 32 MB is uploaded first), "
             "or a text file (sent as its text)")
DETAIL_HELP = "with --image: how closely the model looks (low reads 512 x 512 px; default: the server's, auto)"


@dataclass
class ImagePart:
    """One image as sent, and a note when it was made smaller first."""

    part: dict
    note: str = ""


def message_parts(images: list[str] | None, files: list[str] | None, detail: str | None,
                  namespace: Mapping[str, Any], upload: Upload | None = None) -> tuple[list[dict], list[str]]:
    """The content parts of `--file` and `--image`, in that order, and the notes to show under the
    reply (what was sent differs from what was given). Every file and image is read and checked
    before anything is sent; then a PDF larger than a request may carry is uploaded with `upload`."""
    if detail and not images:
        raise UsageError("--detail goes with --image")
    read = [_read_file(text) for text in files or []]
    found = image_parts(images, detail, namespace)
    parts, notes = file_parts(read, upload)
    return parts + [image.part for image in found], notes + [image.note for image in found if image.note]


def attachments(images: list[str] | None, files: list[str] | None, detail: str | None,
                namespace: Mapping[str, Any], upload: Upload | None = None) -> tuple[list[dict], list[str], list[str]]:
    """(content parts, ids of uploaded files, notes for under the reply) of a message's `--image`,
    `--file` and `--detail`, where a `--file` may also name an uploaded file: a value that names no
    local file but looks like a file id (`file-...`, as `%oai files upload` gives it) is one."""
    paths, ids = [], []
    for value in files or []:
        is_id = value.startswith(("file-", "file_")) and not local_path(value).exists()
        (ids if is_id else paths).append(value)
    parts, notes = message_parts(images, paths, detail, namespace, upload)
    return parts, ids, notes


def _read_file(text: str) -> tuple[str, bytes, str | None]:
    """(file name, contents, its text or None for a PDF) of a `--file`; a file of any other type is
    one line (chat completions and Responses read PDFs; a text file goes as its text)."""
    path = local_path(text)
    data = path.read_bytes()  # a missing file is an OSError: one line (`friendly`)
    if not data:  # nothing for the model to read: a file still being written, or the wrong one
        raise UsageError(f"--file {text}: the file is empty")
    if data[:5] == b"%PDF-":
        return path.name, data, None
    try:
        return path.name, data, data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--file {text}: the model reads PDF files, and text files as their text; this is "
                         "neither (convert it to PDF)") from None


def file_parts(read: list[tuple[str, bytes, str | None]], upload: Upload | None) -> tuple[list[dict], list[str]]:
    """A part per file read: a PDF as a `file` part (inline, or by the id `upload` gives it when it
    is larger than a request may carry), a text file as a text part; and a note per upload."""
    from ..assistants import content  # with the first file, not at %load_ext

    parts, notes, inline = [], [], 0
    for name, data, contents in read:
        if contents is not None:
            parts.append({"type": "text", "text": f"The file {name}:\n\n{contents}"})
            continue
        if upload is None and inline + len(data) > content.PDF_LIMIT:
            others = f" (with the {inline / 2**20:.0f} MB of PDFs before it)" if inline else ""
            raise UsageError(f"--file {name}: {len(data) / 2**20:.0f} MB{others} is more than the 32 MB a request may carry")
        part, note = content.pdf_sent(name, data, upload, inline)  # the 32 MB are for all of a request's files
        inline += 0 if note else len(data)
        parts.append(part)
        notes += [note] if note else []
    return parts, notes


def image_parts(sources: list[str] | None, detail: str | None, namespace: Mapping[str, Any]) -> list[ImagePart]:
    """An `image_url` part per `--image`, in order (an `%image` result of several images gives several)."""
    parts = []
    for source in sources or []:
        for data, label in _images_of(source, namespace):
            parts.append(_part(data, label, detail, len(parts) + 1) if isinstance(data, bytes) else
                         ImagePart(_url_part(data, detail)))
    return parts


def _url_part(url: str, detail: str | None) -> dict:
    return {"type": "image_url", "image_url": {"url": url, **({"detail": detail} if detail else {})}}


def _images_of(source: str, namespace: Mapping[str, Any]) -> list[tuple[bytes | str, str]]:
    """(image bytes or a URL, a label) for each image `source` names."""
    if source.isidentifier() and source in namespace:
        return _from_value(namespace[source], source)
    if source == "plt":
        return [(_current_figure(), "the current figure")]
    if source.startswith(("http://", "https://")):
        return [(source, source)]
    path = local_path(source)
    if source.isidentifier() and not path.exists():  # most likely a variable not yet defined (a cell not run)
        raise UsageError(f"--image {source}: no variable or file of that name; give {KINDS}")
    return [(path.read_bytes(), path.name)]  # a missing file is an OSError: one line (`friendly`)


def _from_value(value: Any, name: str) -> list[tuple[bytes | str, str]]:
    """The images a variable holds."""
    from ..display.images import GeneratedImage  # loaded with the first image, not at %load_ext

    if isinstance(value, (bytes, bytearray, memoryview)):
        return [(bytes(value), name)]
    if isinstance(value, GeneratedImage):
        return [(value.data, name)]
    if isinstance(value, list) and value and all(isinstance(v, GeneratedImage) for v in value):  # an ImageSet
        return [(image.data, f"{name}[{i}]") for i, image in enumerate(value)]
    if isinstance(value, str):
        return _images_of(value, {})
    if getattr(value, "__name__", None) == "matplotlib.pyplot":
        return [(_current_figure(), "the current figure")]
    figure = _figure_of(value)
    if figure is not None:
        return [(_figure_png(figure), name)]
    if callable(getattr(value, "save", None)) and type(value).__module__.startswith("PIL."):
        return [(_pil_png(value), name)]
    raise UsageError(f"--image {name}: a {type(value).__name__} is no image; give {KINDS}")


def _figure_of(value: Any) -> Any:
    """The matplotlib Figure of a Figure or an Axes (or None); read by duck type, so matplotlib is
    only imported by a notebook that made one."""
    if callable(getattr(value, "savefig", None)):
        return value
    figure = getattr(value, "figure", None)
    return figure if callable(getattr(figure, "savefig", None)) else None


def _current_figure() -> bytes:
    import matplotlib.pyplot as plt

    if not plt.get_fignums():
        raise UsageError("--image plt: there is no current figure; draw one first (or give the Figure itself)")
    return _figure_png(plt.gcf())


def _figure_png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _pil_png(image: Any) -> bytes:
    if image.mode not in PNG_MODES:
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _part(data: bytes, label: str, detail: str | None, number: int) -> ImagePart:
    """A data-URL part for image bytes, downscaled to what the API reads (`image_fit`)."""
    from ..assistants.image_fit import UnreadableImage, fit_image  # with the first image, not at %load_ext

    try:
        image = fit_image(data, label, detail)
    except UnreadableImage as exc:
        raise UsageError(f"--image {exc}") from None
    note = (f"image {number} ({label}) downscaled from {image.size[0]}×{image.size[1]} to {image.sent[0]}×"
            f"{image.sent[1]} px, as the API reads it") if image.downscaled else ""
    return ImagePart(_url_part(image.url, detail), note)
