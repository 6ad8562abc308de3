"""Fault injection for tests: make the next N matching requests fail in a chosen way.

    POST /sandbox/faults {"path": "/v1/chat/completions", "method": "POST", "count": 2,
                          "status": 503, "retry_after": 0.1}
    kinds: "status" (+ "retry_after", "message"), "delay" (seconds, then answer normally),
           "drop" (close the connection mid-answer), "truncate_after" (end a stream after K
           events, with no [DONE]), "malformed" (a 200 whose body is not JSON)
    GET /sandbox/faults lists what is armed; DELETE /sandbox/faults disarms everything.

It is an ASGI middleware rather than a route so it can break the connection itself.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import asdict, dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body, invalid
from .web import json_body


class DroppedConnection(Exception):
    """Raised inside the server to make it abandon a response half-way (the 'drop' fault)."""


@dataclass
class Fault:
    path: str = ""  # a prefix of the request path; "" matches every API path
    method: str = ""  # "" matches every method
    count: int = 1
    status: int | None = None
    retry_after: float | None = None
    message: str = "Injected fault from the oai_magics sandbox."
    delay: float = 0.0
    drop: bool = False
    truncate_after: int | None = None
    malformed: bool = False

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path) and (not self.method or self.method.upper() == method)


class Faults:
    """The armed faults, shared between the control routes and the middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.armed: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self.armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.armed.clear()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.armed:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.armed.remove(fault)
                    return fault
        return None


FIELDS = set(Fault.__dataclass_fields__)


async def arm(request: Request) -> Response:
    body = await json_body(request)
    unknown = set(body) - FIELDS
    if unknown:
        raise invalid(f"Unknown fault field(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(FIELDS))}.")
    fault = Fault(**body)
    request.app.state.faults.arm(fault)
    return JSONResponse({"armed": asdict(fault)})


async def listing(request: Request) -> Response:
    return JSONResponse({"armed": [asdict(f) for f in request.app.state.faults.armed]})


async def clear(request: Request) -> Response:
    request.app.state.faults.clear()
    return JSONResponse({"armed": []})


ROUTES = [("/sandbox/faults", arm, ["POST"]), ("/sandbox/faults", listing, ["GET"]), ("/sandbox/faults", clear, ["DELETE"])]


class FaultMiddleware:
    """Applies an armed fault to a matching API request."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            return await self.app(scope, receive, send)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status:
            headers = [(b"content-type", b"application/json"), (b"x-request-id", b"req_sandbox_fault")]
            if fault.retry_after is not None:
                headers.append((b"retry-after-ms", str(int(fault.retry_after * 1000)).encode()))
                headers.append((b"retry-after", str(max(0, round(fault.retry_after))).encode()))
            kind = "server_error" if fault.status >= 500 else "rate_limit_exceeded" if fault.status == 429 else "invalid_request_error"
            body = json.dumps(error_body(fault.status, fault.message, kind, None, None)).encode()
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if fault.malformed:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"object": "list", "data": [tru'})
            return
        if fault.drop:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
            raise DroppedConnection()
        if fault.truncate_after is not None:
            return await self.app(scope, receive, truncating(send, fault.truncate_after))
        return await self.app(scope, receive, send)


def truncating(send: Send, events: int) -> Send:
    """A `send` that passes `events` SSE events on, then ends the body cleanly without the rest."""
    sent = 0
    finished = False

    async def wrapped(message: Message) -> None:
        nonlocal sent, finished
        if message["type"] != "http.response.body" or finished:
            if not finished:
                await send(message)
            return
        body: bytes = message.get("body", b"")
        frames = [f + b"\n\n" for f in body.split(b"\n\n") if f]
        keep = frames[: max(0, events - sent)]
        sent += len(keep)
        if sent >= events:
            finished = True
            await send({"type": "http.response.body", "body": b"".join(keep), "more_body": False})
            return
        await send({"type": "http.response.body", "body": b"".join(keep), "more_body": message.get("more_body", False)})

    return wrapped
