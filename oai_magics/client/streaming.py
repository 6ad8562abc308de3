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
_UNPARSED = object()  # what an event whose data is not JSON parses to, until it is told apart


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
        # One generator reads, decodes and notes each event: every layer between the network read
        # and the caller is paid once per event.
        read = self._read_typed if typed else self._read
        self._iterator: Generator[dict, None, None] = read(chunks)
        self.closed = False

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> dict:
        try:
            return next(self._iterator)  # once closed, the generator is finished: StopIteration
        except BaseException:  # StopIteration, errors and KeyboardInterrupt alike release the socket
            self.close()
            raise

    def close(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            try:
                # The reading generator drops the chunks it iterates (and the last bytes they read):
                # a decoder that raised would otherwise leave them waiting, its frame in the error's traceback.
                self._iterator.close()
                self._close_response()
            finally:
                if self._on_end is not None:
                    self._on_end(self)

    def _note(self, item: Any, nested: bool = True) -> None:
        """Keep the model and usage an event carries: at its top level (chat and completion chunks),
        in its `response` (Responses events) or its `data` (Assistants events, a run's usage)."""
        if not isinstance(item, dict):
            return
        model, usage = item.get("model"), item.get("usage")
        if isinstance(model, str):
            self.model = model
        if isinstance(usage, dict):
            self.usage = usage
        if nested and ("response" in item or "data" in item):  # never in a chat chunk: one call for those
            self._note(item.get("response"), False)
            self._note(item.get("data"), False)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _broken(self, exc: APIConnectionError | APIUserAbortError) -> APIConnectionError | APIUserAbortError:
        """A network failure mid-stream, saying how many events had arrived."""
        return type(exc)(f"{exc.message} after {_events(self.received)}", request_id=self.request_id)

    def _ended_early(self, what: str) -> APIConnectionError:
        return APIConnectionError(f"the stream ended before {what}, after {_events(self.received)}",
                                  request_id=self.request_id)

    def _read(self, chunks: Iterable[bytes]) -> Generator[dict, None, None]:
        """Chat and completion chunks, or Assistants events, until `[DONE]` (or a `done` event)."""
        feed, parse, events = SSEDecoder().feed, self._parse_data, self._events
        broken: APIConnectionError | APIUserAbortError | None = None
        try:  # around the network reads; nothing the decoding below raises is a connection error
            for chunk in chunks:
                for sse in feed(chunk):
                    self.received += 1
                    data = sse.data
                    if data == DONE or sse.event == "done":
                        return
                    try:
                        payload = parse(data)
                    except ValueError:
                        payload = _UNPARSED  # handled below, so the error raised has no JSON decoder error as its context
                    if payload is _UNPARSED:
                        payload = self._unparsed(sse)
                    if sse.event == "error" or (not events and isinstance(payload, dict) and "error" in payload):
                        raise self._error(payload)
                    item = {"event": sse.event, "data": payload} if events else payload
                    self._note(item)
                    yield item
        except (APIConnectionError, APIUserAbortError) as exc:  # raised below, outside this block: no context
            broken = self._broken(exc)
        finally:
            _drop(chunks)
        if broken is not None:
            raise broken
        raise self._ended_early("the server finished it")

    def _read_typed(self, chunks: Iterable[bytes]) -> Generator[dict, None, None]:
        """Responses events, each dispatched on its own `type`, until a terminal one."""
        # Servers that speak this API only roughly may leave out the `type`, keeping it only on the
        # SSE `event:` line, or omit sequence numbers: both are tolerated, unknown types passed on.
        feed, parse = SSEDecoder().feed, self._parse_data
        ended = False  # by `[DONE]`, before a terminal event
        broken: APIConnectionError | APIUserAbortError | None = None
        try:  # around the network reads; nothing the decoding below raises is a connection error
            for chunk in chunks:
                for sse in feed(chunk):
                    self.received += 1
                    if sse.data == DONE:
                        ended = True  # not raised here: this block wraps connection errors
                        break
                    try:
                        payload = parse(sse.data)
                    except ValueError:
                        payload = _UNPARSED  # handled below, so the error raised has no JSON decoder error as its context
                    if payload is _UNPARSED:
                        payload = self._unparsed(sse)
                    if not isinstance(payload, dict):
                        raise APIError(f"malformed event in the stream: {sse.data[:80]!r}", request_id=self.request_id)
                    kind = payload.get("type") or (sse.event if sse.event != "message" else None)
                    if kind == "error" or (not payload.get("type") and payload.get("error")):
                        # The spec's error event is flat ({type: "error", code, message, param}).
                        raise self._error(payload if "error" in payload
                                          else {k: v for k, v in payload.items() if k != "type"})
                    item = payload if payload.get("type") else {"type": kind, **payload}
                    self._note(item)
                    yield item
                    if kind in TERMINAL_TYPES:
                        return
                if ended:
                    break
        except (APIConnectionError, APIUserAbortError) as exc:  # raised below, outside this block: no context
            broken = self._broken(exc)
        finally:
            _drop(chunks)
        if broken is not None:
            raise broken
        raise self._ended_early("the response finished")

    def _unparsed(self, sse: ServerSentEvent) -> dict:
        """An event whose data is not JSON: an `error` event's text as its message, else an error."""
        if sse.event == "error":
            return {"error": {"message": sse.data}}
        raise APIError(f"malformed data in the stream: {sse.data[:80]!r}", request_id=self.request_id)

    def _error(self, payload: Any) -> APIError:
        fields = error_fields(payload)
        message = fields.pop("message", None) or "the stream reported an error"
        return APIError(message, request_id=self.request_id, body=payload, **fields)


def _drop(chunks: Iterable[bytes]) -> None:
    """Close the reads a stream's generator iterates: once it has raised, its frame is in the error's
    traceback, and they would wait there holding the last bytes read off the network, unmasked."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"
