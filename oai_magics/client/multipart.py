"""Multipart bodies for uploads: a path, bytes or a file object, streamed from disk.

`Upload` normalises what the caller handed us; `encode()` builds a fresh streaming body for each
attempt (requests-toolbelt's MultipartEncoder reads the file in blocks as the socket takes them, so
a 500 MB upload never sits in memory), rewinding file objects so a retried request sends it all.
A source that cannot rewind (a pipe, a socket, a generator-backed stream) is first copied into a
spooled temporary file (memory up to `SPOOL_IN_MEMORY`, then disk): the encoder needs the length
up front, and a retry needs the bytes again.
"""

from __future__ import annotations

import io
import json
import mimetypes
import os
import shutil
import tempfile
from contextlib import ExitStack
from typing import IO, Any, Mapping, Union, cast

from requests_toolbelt.multipart.encoder import MultipartEncoder

__all__ = ["FileInput", "Upload", "uploads", "encode"]

FileInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], tuple]
SPOOL_IN_MEMORY = 8 * 1024 * 1024


class Upload:
    """One file field: where its bytes come from and the name it is sent under."""

    def __init__(self, source: FileInput, default_name: str = "file") -> None:
        name: str | None = None
        self._start: int | None = None
        if isinstance(source, tuple):  # (filename, content) as in requests and the official SDK
            name, source = source[0], source[1]
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"no such file to upload: {path}")
            self._path: str | None = path
            self._data: bytes | None = None
            self._fileobj: IO[bytes] | None = None
            name = name or os.path.basename(path)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._path, self._data, self._fileobj = None, bytes(source), None
        elif hasattr(source, "read"):
            fileobj = cast(IO[bytes], source)
            self._start = _position(fileobj)
            if self._start is None:
                fileobj, self._start = _spooled(fileobj), 0
            self._path, self._data, self._fileobj = None, None, fileobj
            raw_name = getattr(source, "name", None)
            if isinstance(raw_name, str) and not name:
                name = os.path.basename(raw_name)
        else:
            raise TypeError(f"cannot upload a {type(source).__name__}: give a path, bytes or a binary file object")
        self.filename = name or default_name

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def open(self, stack: ExitStack) -> IO[bytes]:
        """A readable object positioned at the start of the content, for one attempt."""
        if self._path is not None:
            return stack.enter_context(open(self._path, "rb"))
        if self._data is not None:
            return io.BytesIO(self._data)
        fileobj = self._fileobj
        assert fileobj is not None and self._start is not None
        fileobj.seek(self._start)
        return fileobj


def _position(fileobj: IO[bytes]) -> int | None:
    """Where a file object stands, if it can be brought back there; None for a pipe and the like."""
    try:
        if not fileobj.seekable():
            return None
        return fileobj.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both OSError and ValueError
        return None


def _spooled(source: IO[bytes]) -> IO[bytes]:
    """The rest of a source that cannot rewind, copied once where it can."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return cast(IO[bytes], spool)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def uploads(files: Mapping[str, Any]) -> dict[str, Upload | list[Upload]]:
    """The file fields of a call: each value one file, or a list of files (several input images)."""
    return {key: [Upload(item, default_name=key) for item in value] if isinstance(value, list)
            else Upload(value, default_name=key) for key, value in files.items() if value is not None}


def encode(fields: Mapping[str, Any], files: Mapping[str, Upload | list[Upload]], stack: ExitStack) -> MultipartEncoder:
    """A fresh streaming multipart body; file handles it opens are closed with `stack`. A list of
    files goes as repeated `key[]` parts, as the API expects arrays (and as the official SDK sends them)."""
    parts: list[tuple[str, Any]] = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):  # arrays go as repeated `key[]` fields, as the API expects
            parts.extend((f"{key}[]", _form_value(item)) for item in value)
        else:
            parts.append((key, _form_value(value)))
    for key, value in files.items():
        many = isinstance(value, list)
        for upload in value if many else [value]:
            parts.append((f"{key}[]" if many else key, (upload.filename, upload.open(stack), upload.content_type)))
    return MultipartEncoder(fields=parts)
