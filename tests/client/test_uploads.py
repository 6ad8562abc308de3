"""Multipart uploads from a path, bytes, a (name, bytes) pair and a file object, streamed."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from oai_magics.client import Client


class CountingFile(io.FileIO):
    """A real file that remembers the largest single read asked of it."""

    largest_read = 0

    def read(self, size: int = -1) -> bytes:
        type(self).largest_read = max(type(self).largest_read, size if size >= 0 else 1 << 62)
        return super().read(size)


def test_upload_from_a_path(client: Client, recorder: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b'{"x": 1}\n')
    client.files.create(path, purpose="assistants")
    seen = recorder.last
    assert seen.body["file"] == {"filename": "notes.jsonl", "content": b'{"x": 1}\n'}
    assert seen.body["purpose"] == "assistants" and seen.content_type.startswith("multipart/form-data; boundary=")


def test_upload_from_bytes_and_a_named_pair(client: Client, recorder: Any) -> None:
    client.audio.transcriptions.create(b"RIFFdata", model="whisper-1")
    assert recorder.last.body["file"] == {"filename": "file", "content": b"RIFFdata"}
    client.audio.transcriptions.create(("clip.wav", b"RIFFdata"), model="whisper-1")
    assert recorder.last.body["file"]["filename"] == "clip.wav"


def test_upload_from_a_file_object_keeps_its_name(client: Client, recorder: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(b"\x89PNG....")
    with open(path, "rb") as handle:
        client.images.create_variation(handle, n=2)
    assert recorder.last.body["image"] == {"filename": "cat.png", "content": b"\x89PNG...."}
    assert recorder.last.body["n"] == "2"


def test_large_files_are_read_in_blocks_not_whole(client: Client, recorder: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"0123456789abcdef" * (1 << 18))  # 4 MiB
    with CountingFile(path, "rb") as handle:
        client.files.create(handle, purpose="batch")
    assert recorder.last.body["file"]["content"] == path.read_bytes()
    assert 0 < CountingFile.largest_read <= 1 << 16


def test_missing_file_and_wrong_type_are_clear(client: Client) -> None:
    with pytest.raises(FileNotFoundError, match="no such file to upload"):
        client.files.create("/nonexistent/file.jsonl", purpose="fine-tune")
    with pytest.raises(TypeError, match="give a path, bytes or a binary file object"):
        client.files.create(12345, purpose="fine-tune")


def test_transcription_text_formats_return_str(client: Client, recorder: Any) -> None:
    from werkzeug import Response

    recorder.reply = lambda r: Response("1\n00:00:00,000 --> 00:00:01,000\nHello\n", content_type="text/plain")
    out = client.audio.translations.create(("a.mp3", b"x"), model="whisper-1", response_format="srt")
    assert isinstance(out, str) and "Hello" in out


def test_speech_returns_bytes(client: Client, recorder: Any) -> None:
    from werkzeug import Response

    recorder.reply = lambda r: Response(b"ID3\x00\x01", content_type="audio/mpeg")
    assert client.audio.speech.create(model="tts-1", input="hi", voice="alloy") == b"ID3\x00\x01"


class OneWayStream(io.RawIOBase):
    """Bytes that can be read once, in order, like a pipe: no tell(), no seek()."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        block = self._data.read(len(buffer))
        buffer[: len(block)] = block
        return len(block)


def test_upload_from_a_pipe_is_sent_whole_on_every_attempt(client: Client, recorder: Any) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    read_end, write_end = os.pipe()

    def write() -> None:
        with open(write_end, "wb") as end:
            end.write(data)

    writer = threading.Thread(target=write)
    statuses = [503, 200]
    recorder.reply = lambda request: Response(json.dumps({"id": "file-1", "object": "file"}), status=statuses.pop(0),
                                              content_type="application/json")
    writer.start()
    with open(read_end, "rb") as pipe:
        client.files.create(("data.jsonl", pipe), purpose="batch")
    writer.join(10)
    assert [seen.body["file"]["content"] == data for seen in recorder.requests] == [True, True]


def test_upload_from_a_stream_without_tell(client: Client, recorder: Any) -> None:
    client.files.create(("notes.txt", OneWayStream(b"once only")), purpose="assistants")
    assert recorder.last.body["file"] == {"filename": "notes.txt", "content": b"once only"}
