"""Fault injection for tests: make the next N matching requests fail in a chosen way; and the
traffic the API saw, so a test can count requests and see connections close.

    POST /sandbox/faults {"path": "/v1/chat/completions", "method": "POST", "count": 2,
                          "status": 503, "retry_after": 0.1}
    match: "path" (a prefix), "method", "body" (a text the request body must contain)
    kinds: "status" (+ "retry_after", "message", "html": a proxy's HTML page instead of JSON),
           "delay" (seconds, then answer normally; a client that leaves ends the wait),
           "drop" (close the connection mid-answer), "lose_response" (do the work, then close the
           connection before a byte of the answer), "truncate_after" (end a stream after K events,
           with no [DONE]), "drop_after" (break the connection after K events of a stream),
           "malformed" (a 200 whose body is not JSON), "hold" (wait up to that many seconds until
           POST /sandbox/faults/release, then answer normally: a test can act while a request, or a
           batch line, is under way; GET /sandbox/faults/held?wait=SECONDS waits until one is held)
    GET /sandbox/faults lists what is armed; DELETE /sandbox/faults disarms everything.

    GET /sandbox/requests: {"requests": [{method, path, body, idempotency_key, status}, ...],
                            "in_flight": n}; `?wait=SECONDS&until=idle` (or `busy`, or a number N)
                           first waits until no request (or at least one) is being answered, or
                           until N requests have arrived.
    DELETE /sandbox/requests forgets the log.

It is an ASGI middleware rather than a route so it can break the connection itself.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

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
    html: bool = False
    body: str = ""  # a text the request body must contain; "" matches any body
    lose_response: bool = False
    drop_after: int | None = None
    hold: float = 0.0  # seconds at most to wait for a release

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        return (path.startswith(self.path) and (not self.method or self.method.upper() == method)
                and self.body.encode() in body)


class Faults:
    """The armed faults, shared between the control routes and the middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.armed: list[Fault] = []
        self.holding = 0  # requests held now (event loop only, like the condition that guards it)
        self._releases = 0
        self._held = asyncio.Condition()

    async def hold(self, seconds: float) -> None:
        """Keep the caller waiting until the next release, or `seconds`."""
        async with self._held:
            self.holding += 1
            self._held.notify_all()
            releases = self._releases
            try:
                await asyncio.wait_for(self._held.wait_for(lambda: self._releases != releases), seconds)
            except asyncio.TimeoutError:
                pass
            finally:
                self.holding -= 1

    async def release(self) -> int:
        """Let every held request go on; how many there were."""
        async with self._held:
            held, self._releases = self.holding, self._releases + 1
            self._held.notify_all()
            return held

    async def until_held(self, seconds: float) -> int:
        """How many requests are held, once at least one is (or `seconds` have passed)."""
        async with self._held:
            try:
                await asyncio.wait_for(self._held.wait_for(lambda: self.holding > 0), seconds)
            except asyncio.TimeoutError:
                pass
            return self.holding

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self.armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.armed.clear()

    def wants_body(self, method: str, path: str) -> bool:
        """Whether an armed fault for this request looks into its body (which must then be read first)."""
        with self._lock:
            return any(fault.body and fault.matches(method, path, fault.body.encode()) for fault in self.armed)

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        with self._lock:
            for fault in self.armed:
                if fault.matches(method, path, body):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.armed.remove(fault)
                    return fault
        return None


FIELDS = set(Fault.__dataclass_fields__)
LOGGED_BODY = 4000  # characters of each request body kept in the traffic log
PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"


class Traffic:
    """The API requests seen so far, and how many are being answered right now.

    Lives in the event loop only (the middleware and the control routes), so it needs no lock.
    """

    def __init__(self) -> None:
        self.log: list[dict] = []
        self.in_flight = 0
        self._changed = asyncio.Condition()

    async def begin(self, scope: Scope) -> dict:
        headers = dict(scope["headers"])
        entry = {"method": scope["method"], "path": scope["path"], "body": "", "status": None,
                 "idempotency_key": headers.get(b"idempotency-key", b"").decode("latin-1") or None}
        self.log.append(entry)
        await self._count(+1)
        return entry

    async def end(self) -> None:
        await self._count(-1)

    async def _count(self, step: int) -> None:
        async with self._changed:
            self.in_flight += step
            self._changed.notify_all()

    async def wait(self, seconds: float, until: str) -> None:
        """Until no request is being answered (idle), at least one is (busy), or `until` requests have
        arrived; or `seconds` pass."""
        conditions = {"idle": lambda: self.in_flight == 0, "busy": lambda: self.in_flight > 0}
        reached = conditions.get(until) or (lambda: len(self.log) >= int(until))
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(reached), seconds)
            except asyncio.TimeoutError:
                pass


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
    await request.app.state.faults.release()  # nothing armed is left waiting either
    return JSONResponse({"armed": []})


async def release(request: Request) -> Response:
    return JSONResponse({"released": await request.app.state.faults.release()})


async def held(request: Request) -> Response:
    seconds = min(float(request.query_params.get("wait") or 0), 60.0)
    return JSONResponse({"held": await request.app.state.faults.until_held(seconds)})


async def requests_seen(request: Request) -> Response:
    traffic: Traffic = request.app.state.traffic
    wait = request.query_params.get("wait")
    if wait:
        until = request.query_params.get("until", "idle")
        if until not in ("idle", "busy") and not until.isdigit():
            raise invalid("'until' is idle, busy or a number of requests.")
        await traffic.wait(min(float(wait), 60.0), until)
    return JSONResponse({"requests": traffic.log, "in_flight": traffic.in_flight})


async def forget_requests(request: Request) -> Response:
    request.app.state.traffic.log.clear()
    return JSONResponse({"requests": [], "in_flight": request.app.state.traffic.in_flight})


ROUTES = [("/sandbox/faults", arm, ["POST"]), ("/sandbox/faults", listing, ["GET"]), ("/sandbox/faults", clear, ["DELETE"]),
          ("/sandbox/faults/release", release, ["POST"]), ("/sandbox/faults/held", held, ["GET"]),
          ("/sandbox/requests", requests_seen, ["GET"]), ("/sandbox/requests", forget_requests, ["DELETE"])]


class FaultMiddleware:
    """Logs every API request and applies an armed fault to a matching one."""

    def __init__(self, app: ASGIApp, faults: Faults, traffic: Traffic | None = None) -> None:
        self.app = app
        self.faults = faults
        self.traffic = traffic or Traffic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        entry = await self.traffic.begin(scope)
        # ASGI has no way to close a connection without answering; uvicorn's `receive` is a method of
        # the request cycle, which holds the transport (lose_response needs it).
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        try:
            await self._answer(scope, _logging_receive(receive, entry), _logging_send(send, entry), transport)
        finally:
            await self.traffic.end()

    async def _answer(self, scope: Scope, receive: Receive, send: Send, transport: Any) -> None:
        raw, body = receive, b""
        if self.faults.wants_body(scope["method"], scope["path"]):
            body, receive = await _buffered(raw)
        fault = self.faults.take(scope["method"], scope["path"], body)
        if fault is None:
            return await self.app(scope, receive, send)
        if fault.hold:
            await self.faults.hold(fault.hold)
        if fault.delay:
            if receive is raw:  # the body is read first, so that what comes next can only be a disconnect
                body, receive = await _buffered(raw)
            if await _client_left_within(fault.delay, raw):
                return
        if fault.status:
            return await _status(send, fault)
        if fault.malformed:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"object": "list", "data": [tru'})
            return
        if fault.drop:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
            raise DroppedConnection()
        if fault.lose_response:
            return await _lose_response(self.app, scope, receive, send, transport)
        if fault.truncate_after is not None:
            return await self.app(scope, receive, truncating(send, fault.truncate_after))
        if fault.drop_after is not None:
            return await self.app(scope, receive, truncating(send, fault.drop_after, drop=True))
        return await self.app(scope, receive, send)


async def _status(send: Send, fault: Fault) -> None:
    """An error answer: the API's JSON envelope, or the HTML page a proxy in front of it would send."""
    content_type = b"text/html" if fault.html else b"application/json"
    headers = [(b"content-type", content_type), (b"x-request-id", b"req_sandbox_fault")]
    if fault.retry_after is not None:
        headers.append((b"retry-after-ms", str(int(fault.retry_after * 1000)).encode()))
        headers.append((b"retry-after", str(max(0, round(fault.retry_after))).encode()))
    assert fault.status is not None
    kind = "server_error" if fault.status >= 500 else "rate_limit_exceeded" if fault.status == 429 else "invalid_request_error"
    body = PROXY_PAGE if fault.html else json.dumps(error_body(fault.status, fault.message, kind, None, None)).encode()
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lose_response(app: ASGIApp, scope: Scope, receive: Receive, send: Send, transport: Any) -> None:
    """Do the work, then close the connection before a byte of the answer leaves: the client hears
    nothing, while the layers outside this one (a store of answers by idempotency key) still see the
    answer the app gave, as they would on a server whose reply was lost on the way."""
    if transport is None:
        raise RuntimeError("the lose_response fault needs uvicorn's request cycle")
    answer: list[Message] = []

    async def keep(message: Message) -> None:
        answer.append(message)

    await app(scope, receive, keep)
    transport.close()
    while (await receive())["type"] != "http.disconnect":  # uvicorn learns the connection is gone
        pass
    for message in answer:  # the server drops what it writes to a closed connection
        await send(message)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the app again."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return b"".join(m.get("body", b"") for m in messages), replay


async def _client_left_within(seconds: float, receive: Receive) -> bool:
    """Wait `seconds`, unless the client disconnects first (then say so)."""
    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    try:
        while not sleeper.done():
            watcher = asyncio.ensure_future(receive())
            await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not watcher.done():
                watcher.cancel()
            elif watcher.result()["type"] == "http.disconnect":
                return True
            # anything else (an empty body message) is no news: keep waiting
    finally:
        sleeper.cancel()
    return False


def _logging_receive(receive: Receive, entry: dict) -> Receive:
    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "http.request" and len(entry["body"]) < LOGGED_BODY:
            entry["body"] += message.get("body", b"")[:LOGGED_BODY].decode("utf-8", "replace")
        return message

    return wrapped


def _logging_send(send: Send, entry: dict) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry["status"] = message["status"]
        await send(message)

    return wrapped


def truncating(send: Send, events: int, drop: bool = False) -> Send:
    """A `send` that passes `events` SSE events on, then ends the body cleanly without the rest
    (or, with `drop`, breaks the connection there)."""
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
            if drop:
                await send({"type": "http.response.body", "body": b"".join(keep), "more_body": True})
                raise DroppedConnection()
            await send({"type": "http.response.body", "body": b"".join(keep), "more_body": False})
            return
        await send({"type": "http.response.body", "body": b"".join(keep), "more_body": message.get("more_body", False)})

    return wrapped
