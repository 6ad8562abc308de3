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
_END = object()  # what `[DONE]` makes: not None, as `data: null` is an event like any other


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
        self._iterator: Generator[dict, None, None] = self._read(chunks, typed)
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

    def _read(self, chunks: Iterable[bytes], typed: bool) -> Generator[dict, None, None]:
        """The events, each made by `_item` or `_typed_item` and noted, until the stream's end."""
        feed, item_of = SSEDecoder().feed, self._typed_item if typed else self._item
        reads = iter(chunks)
        try:
            while True:
                broken: APIConnectionError | APIUserAbortError | None = None
                try:  # around the network read alone: nothing the decoding raises is a connection error
                    chunk = next(reads)
                except StopIteration:
                    break
                except (APIConnectionError, APIUserAbortError) as exc:  # raised below, outside this block: no context
                    broken = self._broken(exc)
                if broken is not None:
                    raise broken
                for sse in feed(chunk):
                    self.received += 1
                    item = item_of(sse)
                    if item is _END:
                        return
                    self._note(item)
                    yield item
                    if typed and item["type"] in TERMINAL_TYPES:  # nothing follows these
                        return
        finally:
            _drop(reads)
        raise self._ended_early("the response finished" if typed else "the server finished it")

    def _item(self, sse: ServerSentEvent) -> Any:
        """A chat or completion chunk, or an Assistants event; `_END` at `[DONE]` (or a `done` event)."""
        if sse.data == DONE or sse.event == "done":
            return _END
        payload = self._parse(sse)
        if sse.event == "error" or (not self._events and isinstance(payload, dict) and "error" in payload):
            raise self._error(payload)
        return {"event": sse.event, "data": payload} if self._events else payload

    def _typed_item(self, sse: ServerSentEvent) -> dict:
        """A Responses event, dispatched on its own `type`; `[DONE]` before a terminal one is an error."""
        # Servers that speak this API only roughly may leave out the `type`, keeping it only on the
        # SSE `event:` line, or omit sequence numbers: both are tolerated, unknown types passed on.
        if sse.data == DONE:
            raise self._ended_early("the response finished")
        payload = self._parse(sse)
        if not isinstance(payload, dict):
            raise APIError(f"malformed event in the stream: {sse.data[:80]!r}", request_id=self.request_id)
        kind = payload.get("type") or (sse.event if sse.event != "message" else None)
        if kind == "error" or (not payload.get("type") and payload.get("error")):
            # The spec's error event is flat ({type: "error", code, message, param}).
            raise self._error(payload if "error" in payload else {k: v for k, v in payload.items() if k != "type"})
        return payload if payload.get("type") else {"type": kind, **payload}

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


def _drop(chunks: Iterable[bytes]) -> None:
    """Close the reads a stream's generator iterates: once it has raised, its frame is in the error's
    traceback, and they would wait there holding the last bytes read off the network, unmasked."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"
