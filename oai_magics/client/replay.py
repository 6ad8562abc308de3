"""Replay: a transport that answers from a recording and never touches the network.

`ReplayTransport.send()` looks the request up in a `Tape` by its canonical key (method, path, query,
body; never a header) and makes the recorded answer a `requests.Response` like one off the network,
so everything above it (decoding, key masking, errors, retries, streams) runs as it does live: a
recorded 429 or 500 is the same error again. A request not in the recording is a `NotRecordedError`
naming how it differs from the nearest recorded one, and nothing is sent.

A streamed answer is handed out event by event (`iter_bytes`), at the pace it was recorded
(`speed="recorded"`: each event at its recorded time, or `UNTIMED_GAP` apart when the recording has
no times, so a reply still arrives as a stream) or as fast as it is read (`speed="full"`, where the
waits between requests, a retry's back-off or a poll's interval, are skipped too: `wait_time`). No
wait is longer than the call's read timeout: live, a longer one would have been a timeout.
"""

from __future__ import annotations

import http.client
import time
from typing import Any, Iterator, Literal, Mapping

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from .errors import APIUserAbortError, NotRecordedError
from .exchange import Masks, body_bytes, event_bytes, request_of
from .tape import Tape, describe_miss
from .transport import DEFAULT_MAX_CONNECTIONS, KeyHolder, Response, Timeout, Transport

__all__ = ["ReplayTransport", "Speed", "SPEEDS", "UNTIMED_GAP"]

Speed = Literal["recorded", "full"]
SPEEDS: tuple[str, ...] = ("recorded", "full")
UNTIMED_GAP = 0.03  # seconds between the events of a stream recorded without times


class ReplayTransport(Transport):
    """Answers every request from `tape`; the network is never used."""

    def __init__(self, tape: Tape, speed: Speed = "recorded", max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {', '.join(SPEEDS)}")
        super().__init__(max_connections)
        self.tape = tape
        self.speed = speed
        self.sleep = time.sleep  # a seam, as in the requester

    def twin(self) -> "ReplayTransport":
        return ReplayTransport(self.tape, self.speed, self.max_connections)  # one tape: its order is shared

    def wait_time(self, seconds: float) -> float:
        """At full speed no retry or poll waits: the answers are all here already."""
        return 0.0 if self.speed == "full" else seconds

    def send(self, method: str, url: str, *, headers: Mapping[str, str], params: Mapping[str, Any] | None = None,
             json: Any = None, data: Any = None, timeout: Timeout = None, stream: bool = False,
             auth: KeyHolder | None = None, userinfo: KeyHolder | None = None) -> Response:
        request = request_of(method, url, params, json, data, Masks(auth, userinfo))
        if self._connections.aborted:
            raise APIUserAbortError(f"{request['method']} {request['path']} not sent: the client's calls were stopped",
                                    sent=False)
        recorded = self.tape.answer(request)
        if recorded is None:
            raise NotRecordedError(f"not in the recording {self.tape.path.name}: "
                                   f"{describe_miss(request, self.tape.requests())}; not sent")
        response = _response(url, recorded)
        response.read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout  # type: ignore[attr-defined]
        for observe in list(self.observers):
            observe(response.status_code, response.headers)
        return response

    def iter_bytes(self, response: Response) -> Iterator[bytes]:
        events = getattr(response, "recorded_events", None)
        if events is None:
            yield response.content
            return
        longest = getattr(response, "read_timeout", None)
        started, skipped = time.monotonic(), 0.0
        for number, event in enumerate(events):
            if self._connections.aborted:
                raise APIUserAbortError("the stream was stopped: the client's calls were stopped")
            if self.speed == "recorded":
                wait = started + event.get("t", number * UNTIMED_GAP) - skipped - time.monotonic()
                if longest is not None and wait > longest:  # live, so long a gap was a read timeout (a time edited by hand)
                    skipped += wait - longest
                    wait = longest
                if wait > 0:
                    self.sleep(wait)
            yield event_bytes(event)


def _response(url: str, recorded: Mapping[str, Any]) -> Response:
    """The recorded answer as requests would have handed it over."""
    response = requests.Response()
    response.status_code = int(recorded["status"])
    response.reason = http.client.responses.get(response.status_code, "")
    response.headers = CaseInsensitiveDict(recorded.get("headers") or {})
    response.encoding = get_encoding_from_headers(response.headers)
    response.url = url
    response._content_consumed = True  # nothing to read off a socket: close() has nothing to release
    if "events" in recorded:
        response.recorded_events = recorded["events"]  # type: ignore[attr-defined]
        response._content = False
    else:
        response._content = body_bytes(recorded)
    return response
