"""The Responses API: /responses, a response's input items, and waiting for a background response."""

from __future__ import annotations

import itertools
import time
from typing import Any, Callable

from ..pagination import Page
from ..polling import poll_delays
from .base import STORED, Resource, seg, split

__all__ = ["Responses", "InputItems", "TERMINAL_STATUSES"]

# A response in any other status (queued, in_progress) is still being worked on.
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "incomplete"})
RESPONSE = {**STORED, "output": list}


def _response(response_id: str) -> str:
    return f"/responses/{seg(response_id)}"


class InputItems(Resource):
    def list(self, response_id: str, **params: Any) -> Page:
        """GET /responses/{response_id}/input_items (limit, order, after, include)."""
        return self._list(f"{_response(response_id)}/input_items", params)


class Responses(Resource):
    answer_fields = STORED
    def __init__(self, requester: Any) -> None:
        super().__init__(requester)
        self.input_items = InputItems(requester)

    def create(self, **params: Any) -> Any:
        """POST /responses; `stream=True` yields the typed `response.*` event objects."""
        body, options = split(params)
        stream = "responses" if body.get("stream") else None
        return self._r.request("POST", "/responses", body=body, stream=stream, fields=RESPONSE, options=options)

    def retrieve(self, response_id: str, **params: Any) -> Any:
        """GET /responses/{response_id}; `stream=True` (with `starting_after=N`) replays its events."""
        query, options = split(params)
        stream = "responses" if query.get("stream") else None
        return self._r.request("GET", _response(response_id), query=query, stream=stream, fields=RESPONSE,
                               options=options)

    def delete(self, response_id: str, **params: Any) -> Any:
        """DELETE /responses/{response_id} (the spec gives this answer no schema: returned as sent)."""
        _, options = split(params)
        return self._r.request("DELETE", _response(response_id), expect="auto", options=options)

    def cancel(self, response_id: str, **params: Any) -> dict:
        """POST /responses/{response_id}/cancel: only a background response can be cancelled."""
        return self._post(f"{_response(response_id)}/cancel", params)

    def wait(self, response_id: str, *, poll_interval: float | None = None, timeout: float | None = 600.0,
             on_status: Callable[[dict], None] | None = None, sleep: Callable[[float], None] = time.sleep) -> dict:
        """Poll a (background) response until it reaches a terminal status, and return it.

        It is looked at on the one poll schedule (`polling.poll_delays`: soon, then less often), or
        every `poll_interval` seconds when given. `on_status` sees every polled response (a live
        status line, say). TimeoutError after `timeout` seconds; the response keeps running on the
        server (cancel it if it should not).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = poll_delays() if poll_interval is None else itertools.repeat(poll_interval)
        while True:
            response = self.retrieve(response_id)
            if on_status is not None:
                on_status(response)
            if response.get("status") in TERMINAL_STATUSES:
                return response
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"response {response_id} still {response.get('status')} after {timeout:g} s")
            sleep(self._r.transport.wait_time(next(delays)))
