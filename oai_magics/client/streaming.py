"""Streamed responses: Server-Sent Events decoded into chunk dicts or Assistants events.

A `Stream` is an iterator over one open HTTP response. It closes that response when it is
exhausted, when the caller breaks off (`close()`, `with`, garbage collection) and when anything,
Ctrl-C included, interrupts it. Chat and completion streams yield the decoded chunk dicts;
Assistants streams yield `{"event": name, "data": object}`.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Generator, Iterable, Iterator

from .errors import APIConnectionError, APIError, error_fields
from .sse import ServerSentEvent, SSEDecoder

__all__ = ["Stream"]

DONE = "[DONE]"


class Stream(Iterator[dict]):
    """Iterate to receive events; the connection is released however iteration ends."""

    def __init__(self, chunks: Iterable[bytes], close: Callable[[], None], *, events: bool, request_id: str | None) -> None:
        self.request_id = request_id
        self._close_response = close
        self._events = events
        self._iterator: Generator[dict, None, None] = self._decode(chunks)
        self.closed = False

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> dict:
        if self.closed:
            raise StopIteration
        try:
            return next(self._iterator)
        except BaseException:  # StopIteration, errors and KeyboardInterrupt alike release the socket
            self.close()
            raise

    def close(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            self._iterator.close()
            self._close_response()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _decode(self, chunks: Iterable[bytes]) -> Generator[dict, None, None]:
        # One generator over the decoder, with the checks inlined: this loop runs once per event.
        decoder = SSEDecoder()
        received = 0
        broken: APIConnectionError | None = None
        try:
            for chunk in chunks:
                for sse in decoder.feed(chunk):
                    if sse.data == DONE or sse.event == "done":
                        return
                    try:
                        payload = json.loads(sse.data)
                    except ValueError:
                        payload = self._unparsed(sse)
                    if sse.event == "error" or (not self._events and isinstance(payload, dict) and "error" in payload):
                        raise self._error(payload)
                    received += 1
                    yield {"event": sse.event, "data": payload} if self._events else payload
        except APIConnectionError as exc:  # the network failed under us; raised below, without context
            broken = type(exc)(f"{exc.message} after {_events(received)}", request_id=self.request_id)
        if broken is not None:
            raise broken
        raise APIConnectionError(f"the stream ended before the server finished it, after {_events(received)}",
                                 request_id=self.request_id)

    def _unparsed(self, sse: ServerSentEvent) -> Any:
        if sse.event == "error":
            return {"error": {"message": sse.data}}
        raise APIError(f"malformed data in the stream: {sse.data[:80]!r}", request_id=self.request_id)

    def _error(self, payload: Any) -> APIError:
        fields = error_fields(payload)
        message = fields.pop("message", None) or "the stream reported an error"
        return APIError(message, request_id=self.request_id, body=payload, **fields)


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"
