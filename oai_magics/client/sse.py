"""An incremental Server-Sent Events decoder, as the WHATWG HTML specification defines it.

Bytes go in as they arrive from the network, in chunks of any size; complete events come out.
Lines end with LF, CRLF or a lone CR (even when a CRLF is split across two chunks), `data:` lines
of one event are joined with a newline, comments (`:` lines) are skipped, `event:` names are kept,
and a blank line dispatches the event. Nothing here knows about HTTP or OpenAI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

__all__ = ["ServerSentEvent", "SSEDecoder", "iter_events"]


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its name (default "message"), data, last id and retry hint."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it bytes with `feed()`; it returns the events each chunk completes."""

    def __init__(self) -> None:
        self._buffer = b""
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._started = False  # a UTF-8 BOM is dropped only at the very start of the stream
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events it completes (possibly none)."""
        if self._skip_lf and chunk:
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
            self._skip_lf = False
        buffer = self._buffer + chunk
        if not self._started and buffer:
            if len(buffer) < 3 and b"\xef\xbb\xbf".startswith(buffer):
                self._buffer = buffer
                return []
            self._started = True
            if buffer.startswith(b"\xef\xbb\xbf"):
                buffer = buffer[3:]
        events: list[ServerSentEvent] = []
        start = 0
        while True:
            cr = buffer.find(b"\r", start)
            lf = buffer.find(b"\n", start)
            if cr < 0 and lf < 0:
                break
            end = lf if cr < 0 or (0 <= lf < cr) else cr
            line = buffer[start:end]
            if end == cr:
                if end + 1 < len(buffer):
                    start = end + 2 if buffer[end + 1 : end + 2] == b"\n" else end + 1
                else:
                    start = end + 1
                    self._skip_lf = True
            else:
                start = end + 1
            event = self._line(line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: an unterminated last line is processed, an undispatched event dropped."""
        if self._buffer:
            self._line(self._buffer.decode("utf-8", "replace"))
            self._buffer = b""
        # The specification discards an event whose blank line never came.
        self._data, self._event = [], ""
        return []

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            data="\n".join(self._data), event=self._event or "message", id=self._last_id, retry=self._retry
        )
        self._data, self._event = [], ""
        return event


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks, as each completes."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()
