"""An incremental Server-Sent Events decoder, as the WHATWG HTML specification defines it.

Bytes go in as they arrive from the network, in chunks of any size; complete events come out.
Lines end with LF, CRLF or a lone CR (even when a CRLF is split across two chunks), `data:` lines
of one event are joined with a newline, comments (`:` lines) are skipped, `event:` names are kept,
and a blank line dispatches the event. Nothing here knows about HTTP or OpenAI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator

__all__ = ["ServerSentEvent", "SSEDecoder", "iter_events"]

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs a microsecond per event
class ServerSentEvent:
    """One dispatched event: its name (default "message"), data, last id and retry hint."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it bytes with `feed()`; it returns the events each chunk completes.

    Linear in the input: each chunk is scanned once, and a line longer than one chunk is kept as a
    list of pieces joined once, when its end arrives (a 16 MB event in 1 KiB reads costs 16 MB).
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # the pieces of a line whose end has not arrived yet
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._started = False  # a UTF-8 BOM is dropped only at the very start of the stream
        self._data: list[bytes] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events it completes (possibly none)."""
        if (chunk.startswith(b"data: ") and chunk.find(b"\n") == len(chunk) - 2 and chunk.endswith(b"\n\n")
                and chunk.find(b"\r") == -1 and self._started and not (self._pending or self._data or self._skip_lf)):
            # The usual read of an API stream: exactly one event of one data line, read at once (its
            # first line end is the blank line's, and no CR ends a line sooner). Made here, not by
            # `_event_of`: a call less for nearly every event.
            event = ServerSentEvent(chunk[6:-2].decode("utf-8", "replace"), self._event or "message", self._last_id,
                                    self._retry)
            self._event = ""
            return [event]
        if not self._started:
            chunk = self._strip_bom(chunk)
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        if b"\r" in chunk:  # rare: CR or CRLF line ends
            lines = _LINE_END.split(chunk)
            self._skip_lf = chunk[-1:] == b"\r"
        else:
            lines = chunk.split(b"\n")
        if len(lines) == 1:  # no line end yet
            self._pending.append(chunk)
            return []
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = b"".join(self._pending)
        rest = lines.pop()
        self._pending = [rest] if rest else []
        events: list[ServerSentEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: an unterminated last line is processed, an undispatched event dropped."""
        if self._pending:
            self._line(b"".join(self._pending))
            self._pending = []
        # The specification discards an event whose blank line never came.
        self._data, self._event = [], ""
        return []

    def _strip_bom(self, chunk: bytes) -> bytes:
        """The stream's first bytes without a UTF-8 BOM, held back while they could still be one."""
        head = b"".join(self._pending) + chunk
        if len(head) < 3 and _BOM.startswith(head):
            self._pending = [head] if head else []
            return b""
        self._started = True
        self._pending = []
        return head[3:] if head.startswith(_BOM) else head

    def _line(self, line: bytes) -> ServerSentEvent | None:
        # Fields are parsed as bytes and only values decoded: ":" and the field names are ASCII, so
        # this is the same as decoding the line first, and `bytes.isdigit()` is ASCII-only, as the
        # spec wants for `retry` (`str.isdigit()` also takes "٣" and "³").
        if not line:
            return self._dispatch()
        if line[:6] == b"data: ":  # nearly every line of an API stream
            self._data.append(line[6:])
            return None
        if line[:1] == b":":
            return None
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry":
            if value.isdigit():
                self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data = self._data
        if not data:
            self._event = ""
            return None
        self._data = []
        return self._event_of(data[0] if len(data) == 1 else b"\n".join(data))

    def _event_of(self, data: bytes) -> ServerSentEvent:
        """The event with this data, named by the `event:` line before it (which it uses up)."""
        event = ServerSentEvent(data.decode("utf-8", "replace"), self._event or "message", self._last_id, self._retry)
        self._event = ""
        return event


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks, as each completes."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()
