"""Rate limits, so pacing can be tested offline: every API answer carries the
`x-ratelimit-limit/remaining/reset-requests/tokens` headers of configurable limits, and a request
that would exceed them gets the API's 429 with `retry-after-ms`.

    POST /sandbox/limits {"requests": 20, "tokens": 5000, "window": 1.0}   (per window of seconds)
    GET /sandbox/limits     the limits, and the requests seen and refused per path
    DELETE /sandbox/limits  no limits (the default) and the counters reset

Requests are counted (and limited) per fixed window; tokens are what the request asks for: its
embedding inputs, or its messages or prompt.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body, invalid
from .textgen import count_tokens
from .web import json_body


@dataclass
class Limits:
    requests: int | None = None
    tokens: int | None = None
    window: float = 60.0


class Meter:
    """Counts requests and tokens in the current window; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.limits = Limits()
        self.seen: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._start = time.monotonic()
        self._requests = 0
        self._tokens = 0

    def configure(self, limits: Limits) -> None:
        with self._lock:
            self.limits = limits
            self._start, self._requests, self._tokens = time.monotonic(), 0, 0

    def reset(self) -> None:
        self.configure(Limits())
        with self._lock:
            self.seen.clear()
            self.refused.clear()

    def admit(self, path: str, tokens: int) -> tuple[bool, list[tuple[bytes, bytes]], float]:
        """(allowed, the headers to send, seconds until the window resets)."""
        with self._lock:
            self.seen[path] += 1
            limits = self.limits
            if limits.requests is None and limits.tokens is None:
                return True, [], 0.0
            now = time.monotonic()
            if now - self._start >= limits.window:
                self._start, self._requests, self._tokens = now, 0, 0
            reset = max(0.0, self._start + limits.window - now)
            allowed = ((limits.requests is None or self._requests + 1 <= limits.requests)
                       and (limits.tokens is None or self._tokens + tokens <= limits.tokens))
            if allowed:
                self._requests += 1
                self._tokens += tokens
            else:
                self.refused[path] += 1
            headers = []
            for name, limit, used in (("requests", limits.requests, self._requests), ("tokens", limits.tokens, self._tokens)):
                if limit is not None:
                    headers += [(f"x-ratelimit-limit-{name}".encode(), str(limit).encode()),
                                (f"x-ratelimit-remaining-{name}".encode(), str(max(0, limit - used)).encode()),
                                (f"x-ratelimit-reset-{name}".encode(), duration(reset).encode())]
            return allowed, headers, reset


def duration(seconds: float) -> str:
    """The API's spelling of a reset time: "1m30s", "2.5s", "120ms"."""
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60)
    return (f"{int(minutes)}m" if minutes else "") + f"{rest:.3g}s"


def requested_tokens(body: Any) -> int:
    """The tokens a request asks for, as the sandbox counts them."""
    if not isinstance(body, dict):
        return 0
    value = body.get("input", body.get("prompt", ""))
    texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        texts += [content] if isinstance(content, str) else []
    return sum(count_tokens(t) for t in texts)


class RateLimitMiddleware:
    """Counts every API request, adds the headers, and refuses what exceeds the limits."""

    def __init__(self, app: ASGIApp, meter: Meter) -> None:
        self.app = app
        self.meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        tokens, body = 0, b""
        is_json = dict(scope["headers"]).get(b"content-type", b"").startswith(b"application/json")
        if scope["method"] == "POST" and is_json and self.meter.limits.tokens is not None:
            body, receive = await buffered(receive)
            try:
                tokens = requested_tokens(json.loads(body or b"{}"))
            except ValueError:
                tokens = 0
        too_large = self.meter.limits.tokens is not None and tokens > self.meter.limits.tokens
        allowed, headers, reset = self.meter.admit(scope["path"], tokens)
        if too_large:  # no wait mends it: the API refuses it at once, without a Retry-After
            payload = json.dumps(error_body(429, too_large_message(body, self.meter.limits.tokens, tokens), "tokens",
                                            None, "rate_limit_exceeded")).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"), *headers]})
            await send({"type": "http.response.body", "body": payload})
            return
        if not allowed:
            wait = max(reset, 0.001)
            limits = self.meter.limits
            message = (f"Rate limit reached in the sandbox: {limits.requests} requests and {limits.tokens} tokens "
                       f"per {limits.window:g}s. Please try again in {duration(wait)}.")
            payload = json.dumps(error_body(429, message, "requests", None, "rate_limit_exceeded")).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"retry-after-ms", str(max(1, round(wait * 1000))).encode()),
                                    (b"retry-after", str(max(1, round(wait))).encode()), *headers]})
            await send({"type": "http.response.body", "body": payload})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and headers:
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def too_large_message(body: bytes, limit: int, requested: int) -> str:
    """The API's words for a request asking more tokens than the whole window allows."""
    try:
        model = json.loads(body).get("model")
    except (ValueError, AttributeError):
        model = None
    return (f"Request too large for {model if isinstance(model, str) else 'the model'} in organization org-sandbox "
            f"on tokens per min (TPM): Limit {limit}, Requested {requested}. The input or output tokens must be "
            "reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.")


async def buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a `receive` that hands it on again."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def configure(request: Request) -> Response:
    body = await json_body(request)
    unknown = set(body) - {"requests", "tokens", "window"}
    if unknown:
        raise invalid(f"Unknown limit field(s): {', '.join(sorted(unknown))}; known: requests, tokens, window.")
    limits = Limits(**body)
    request.app.state.meter.configure(limits)
    return JSONResponse({"limits": asdict(limits)})


async def report(request: Request) -> Response:
    meter: Meter = request.app.state.meter
    return JSONResponse({"limits": asdict(meter.limits), "seen": dict(meter.seen), "refused": dict(meter.refused)})


async def clear(request: Request) -> Response:
    request.app.state.meter.reset()
    return JSONResponse({"limits": asdict(Limits())})


ROUTES = [("/sandbox/limits", configure, ["POST"]), ("/sandbox/limits", report, ["GET"]), ("/sandbox/limits", clear, ["DELETE"])]
