"""Images and audio: generations, edits, variations, speech, transcriptions, translations."""

from __future__ import annotations

from typing import Any

from ..multipart import FileInput
from .base import Resource

TEXT_FORMATS = ("text", "srt", "vtt")


class Images(Resource):
    def generate(self, **params: Any) -> dict:
        """POST /images/generations"""
        return self._post("/images/generations", params, fields={"data": list})

    def edit(self, image: FileInput, *, mask: FileInput | None = None, **params: Any) -> dict:
        """POST /images/edits (multipart `image`, optional `mask`)."""
        return self._upload("/images/edits", {"image": image, "mask": mask}, params, fields={"data": list})

    def create_variation(self, image: FileInput, **params: Any) -> dict:
        """POST /images/variations (multipart `image`)."""
        return self._upload("/images/variations", {"image": image}, params, fields={"data": list})


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
