"""Recording: a transport that sends as usual and appends every exchange to a JSON-lines file.

`RecordingTransport` is a `Transport` (the network is its parent's); each answer is written as one
line (`tape` describes the format) once it is whole: a plain answer as it arrives, a streamed one when
its stream ends (broken off too: what came is what is kept), with each event's time when `timing` is
on. Retried attempts are lines of their own, so a replay meets the same 429 before the same answer.
Nothing secret reaches the file: no header of the request, only the path of the URL, and the key
masked (`exchange.Masks`) wherever the request or a server's answer holds it.

Why our own and not vcrpy or requests-cache: both keep a streamed body as one blob and replay it at
once (vcrpy's YAML cassettes hold the bytes; requests-cache stores whole responses in a cache
backend), neither keeps an event's timing, and both match on the URL and headers by default where we
want the canonical JSON body and never a header. What they would save is this module and `replay`,
about 200 lines over the `Transport` seam that exists already.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

from .exchange import Masks, body_of, event_of, request_of
from .sse import SSEDecoder
from .tape import keeps_header
from .transport import DEFAULT_MAX_CONNECTIONS, KeyHolder, Response, Timeout, Transport

__all__ = ["RecordingTransport", "TapeWriter"]


class TapeWriter:
    """Appends exchanges to one file, a line each, from any thread."""

    def __init__(self, path: Path, timing: bool = False) -> None:
        self.path = path
        self.timing = timing
        self.written = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()  # a path that cannot be written is said now, not at the first request

    def write(self, request: dict, response: dict) -> None:
        line = json.dumps({"request": request, "response": response}, ensure_ascii=False)
        with self._lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            self.written += 1


class RecordingTransport(Transport):
    """Sends through the network like any transport, and writes each exchange with `writer`."""

    def __init__(self, writer: TapeWriter, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        super().__init__(max_connections)
        self.writer = writer

    def twin(self) -> "RecordingTransport":
        return RecordingTransport(self.writer, self.max_connections)

    def send(self, method: str, url: str, *, headers: Mapping[str, str], params: Mapping[str, Any] | None = None,
             json: Any = None, data: Any = None, timeout: Timeout = None, stream: bool = False,
             auth: KeyHolder | None = None, userinfo: KeyHolder | None = None) -> Response:
        masks = Masks(auth, userinfo)
        request = request_of(method, url, params, json, data, masks)  # before sending: an upload is read then
        response = super().send(method, url, headers=headers, params=params, json=json, data=data, timeout=timeout,
                                stream=stream, auth=auth, userinfo=userinfo)
        answer = {"status": response.status_code,
                  "headers": {name.lower(): masks.text(value) for name, value in response.headers.items()
                              if keeps_header(name)}}
        if stream and response.status_code < 400:  # written when the stream ends
            response.to_record = (request, answer, masks)  # type: ignore[attr-defined]
        else:
            self.writer.write(request, {**answer, **body_of(response.content, _type(answer), masks)})
        return response

    def iter_bytes(self, response: Response) -> Iterator[bytes]:
        pending = getattr(response, "to_record", None)
        if pending is None:
            yield from super().iter_bytes(response)
            return
        request, answer, masks = pending
        streamed = "event-stream" in _type(answer)
        decoder, events, blocks = SSEDecoder(), [], []
        started = time.monotonic()
        try:
            for block in super().iter_bytes(response):
                if streamed:
                    seconds = time.monotonic() - started if self.writer.timing else None
                    events += [event_of(sse.event, sse.data, masks, seconds) for sse in decoder.feed(block)]
                else:
                    blocks.append(block)
                yield block
        finally:  # a stream broken off is kept as far as it came
            body = {"events": events} if streamed else body_of(b"".join(blocks), _type(answer), masks)
            self.writer.write(request, {**answer, **body})


def _type(answer: dict) -> str:
    return answer["headers"].get("content-type", "")
