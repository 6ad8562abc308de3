"""Streamed responses: Server-Sent Events decoded into chunk dicts or Assistants events.

A `Stream` is an iterator over one open HTTP response. It closes that response when it is
exhausted, when the caller breaks off (`close()`, `with`, garbage collection) and when anything,
Ctrl-C included, interrupts it. Chat and completion streams yield the decoded chunk dicts;
Assistants streams yield `{"event": name, "data": object}`; Responses streams (`typed=True`) yield
each event object as sent, dispatched on its own `type` and ended by a terminal event, not `[DONE]`.
Each event's data is decoded by the `parse` it is given (the decoder's, which masks the key an escape
spelled). As it goes it notes the model and the token usage the events report, and when it closes it calls
`on_end(stream)` once: the request log then has the stream's whole duration and its tokens.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Generator, Iterable, Iterator

from .envelope import error_fields
from .errors import APIConnectionError, APIError, APIUserAbortError
from .sse import ServerSentEvent, SSEDecoder

__all__ = ["Stream"]

DONE = "[DONE]"
# A Responses stream is over after one of these; nothing follows them.
TERMINAL_TYPES = frozenset({"response.completed", "response.failed", "response.incomplete"})


class Stream(Iterator[dict]):
    """Iterate to receive events; the connection is released however iteration ends."""

    def __init__(self, chunks: Iterable[bytes], close: Callable[[], None], *, events: bool, request_id: str | None,
                 typed: bool = False, on_end: Callable[["Stream"], None] | None = None,
                 parse: Callable[[str], Any] = json.loads) -> None:
        self.request_id = request_id
        self._parse_data = parse  # the chunks come masked; this masks the key an escape spelled, once decoded
        self.model: str | None = None  # as the events name it, once one does
        self.usage: dict = {}  # the last usage an event reported (chat streams send it at the end)
        self._on_end = on_end
        self._close_response = close
        self._events = events
        self.received = 0  # events that arrived, for the message when the stream breaks
        decode = self._decode_typed if typed else self._decode
        self._reader = self._sse(chunks)
        self._iterator: Generator[dict, None, None] = decode(self._reader)
        self.closed = False

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> dict:
        if self.closed:
            raise StopIteration
        try:
            item = next(self._iterator)
        except BaseException:  # StopIteration, errors and KeyboardInterrupt alike release the socket
            self.close()
            raise
        self._note(item)
        return item

    def close(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            try:
                self._iterator.close()
                # The reading generators too: a decoder that raised leaves them waiting, holding the
                # last bytes read, and its frame is in the error's traceback.
                self._reader.close()
                self._close_response()
            finally:
                if self._on_end is not None:
                    self._on_end(self)

    def _note(self, item: dict) -> None:
        """Keep the model and usage an event carries: at its top level (chat and completion chunks),
        in its `response` (Responses events) or its `data` (Assistants events, a run's usage)."""
        if not isinstance(item, dict):
            return
        for holder in (item, item.get("response"), item.get("data")):
            if isinstance(holder, dict):
                if isinstance(holder.get("model"), str):
                    self.model = holder["model"]
                if isinstance(holder.get("usage"), dict):
                    self.usage = holder["usage"]

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _sse(self, chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
        """The events as they complete; a network failure says how many had arrived."""
        decoder = SSEDecoder()
        broken: APIConnectionError | APIUserAbortError | None = None
        try:
            for chunk in chunks:
                for sse in decoder.feed(chunk):
                    self.received += 1
                    yield sse
        except (APIConnectionError, APIUserAbortError) as exc:  # raised below, outside this block: no context
            broken = type(exc)(f"{exc.message} after {_events(self.received)}", request_id=self.request_id)
        if broken is not None:
            raise broken

    def _ended_early(self, what: str) -> APIConnectionError:
        return APIConnectionError(f"the stream ended before {what}, after {_events(self.received)}",
                                  request_id=self.request_id)

    def _decode(self, events: Iterator[ServerSentEvent]) -> Generator[dict, None, None]:
        for sse in events:
            if sse.data == DONE or sse.event == "done":
                return
            payload = self._parse(sse)
            if sse.event == "error" or (not self._events and isinstance(payload, dict) and "error" in payload):
                raise self._error(payload)
            yield {"event": sse.event, "data": payload} if self._events else payload
        raise self._ended_early("the server finished it")

    def _decode_typed(self, events: Iterator[ServerSentEvent]) -> Generator[dict, None, None]:
        # Servers that speak this API only roughly may leave out the `type`, keeping it only on the
        # SSE `event:` line, or omit sequence numbers: both are tolerated, unknown types passed on.
        for sse in events:
            if sse.data == DONE:
                break
            payload = self._parse(sse)
            if not isinstance(payload, dict):
                raise APIError(f"malformed event in the stream: {sse.data[:80]!r}", request_id=self.request_id)
            kind = payload.get("type") or (sse.event if sse.event != "message" else None)
            if kind == "error" or (not payload.get("type") and payload.get("error")):
                # The spec's error event is flat ({type: "error", code, message, param}).
                raise self._error(payload if "error" in payload else {k: v for k, v in payload.items() if k != "type"})
            yield payload if payload.get("type") else {"type": kind, **payload}
            if kind in TERMINAL_TYPES:
                return
        raise self._ended_early("the response finished")

    def _parse(self, sse: ServerSentEvent) -> Any:
        try:
            return self._parse_data(sse.data)
        except ValueError:
            pass  # handled below, so the error raised has no JSON decoder error as its context
        if sse.event == "error":
            return {"error": {"message": sse.data}}
        raise APIError(f"malformed data in the stream: {sse.data[:80]!r}", request_id=self.request_id)

    def _error(self, payload: Any) -> APIError:
        fields = error_fields(payload)
        message = fields.pop("message", None) or "the stream reported an error"
        return APIError(message, request_id=self.request_id, body=payload, **fields)


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"
