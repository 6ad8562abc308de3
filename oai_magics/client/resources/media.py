"""Images and audio: generations, edits, variations, speech, transcriptions, translations.

With `stream=True` (GPT image models) a generation or an edit yields its typed events as they come
(`image_generation.partial_image` ..., then `image_generation.completed` with the image and the usage;
`image_edit.*` for edits). The API ends such a stream after the last completed event, with no
`[DONE]`: `ImageEvents` stops there, one completed event per image asked for.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..multipart import FileInput
from ..streaming import Stream
from .base import Resource, split

TEXT_FORMATS = ("text", "srt", "vtt")


class ImageEvents(Iterator[dict]):
    """The events of a streamed generation or edit, ending after the completed event of each image;
    the connection is released however iteration ends (exhausted, broken off, Ctrl-C)."""

    def __init__(self, stream: Stream, images: int) -> None:
        self.stream = stream
        self._left = images  # completed events still to come

    @property
    def usage(self) -> dict:
        return self.stream.usage

    @property
    def request_id(self) -> str | None:
        return self.stream.request_id

    def __iter__(self) -> "ImageEvents":
        return self

    def __next__(self) -> dict:
        if self._left <= 0:
            self.close()
            raise StopIteration
        event = next(self.stream)
        if str(event.get("type", "")).endswith(".completed"):
            self._left -= 1
        return event

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> "ImageEvents":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Images(Resource):
    def generate(self, **params: Any) -> Any:
        """POST /images/generations; `stream=True` yields the typed events (`ImageEvents`)."""
        if params.get("stream"):
            body, options = split(params)
            stream = self._r.request("POST", "/images/generations", body=body, stream="responses", options=options)
            return ImageEvents(stream, _count(body))
        return self._post("/images/generations", params, fields={"data": list})

    def edit(self, image: FileInput | list[FileInput], *, mask: FileInput | None = None, **params: Any) -> Any:
        """POST /images/edits (multipart `image`, or `image[]` for a list of images; optional `mask`,
        applied to the first); `stream=True` yields the typed events (`ImageEvents`)."""
        files = {"image": image, "mask": mask}
        if params.get("stream"):
            fields, options = split(params)
            stream = self._r.request("POST", "/images/edits", body=fields, files=files, stream="responses", options=options)
            return ImageEvents(stream, _count(fields))
        return self._upload("/images/edits", files, params, fields={"data": list})

    def create_variation(self, image: FileInput, **params: Any) -> dict:
        """POST /images/variations (multipart `image`)."""
        return self._upload("/images/variations", {"image": image}, params, fields={"data": list})


def _count(body: dict) -> int:
    return body["n"] if isinstance(body.get("n"), int) and body["n"] > 0 else 1


class Speech(Resource):
    def create(self, **params: Any) -> bytes:
        """POST /audio/speech; the audio file's bytes."""
        return self._post("/audio/speech", params, expect="bytes")


class _AudioToText(Resource):
    path = ""

    def create(self, file: FileInput, **params: Any) -> Any:
        """A dict for json/verbose_json, a str for text/srt/vtt."""
        expect = "text" if params.get("response_format") in TEXT_FORMATS else "json"
        return self._upload(self.path, {"file": file}, params, expect=expect)


class Transcriptions(_AudioToText):
    """POST /audio/transcriptions: speech to text in its own language."""

    path = "/audio/transcriptions"


class Translations(_AudioToText):
    """POST /audio/translations: speech to English text."""

    path = "/audio/translations"


class Audio:
    """`client.audio.speech`, `.transcriptions`, `.translations`."""

    def __init__(self, requester: Any) -> None:
        self.speech = Speech(requester)
        self.transcriptions = Transcriptions(requester)
        self.translations = Translations(requester)
