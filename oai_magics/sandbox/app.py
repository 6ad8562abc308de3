"""The sandbox application: one route table over the handlers, authorisation, the error envelope,
and fault injection. `create_app()` builds it; `server` runs it."""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import (assistants, audio, batches, chat, conversations, embeddings, faults, files, finetunes, images, models,
               moderations, ratelimits, responses, runs, threads)
from .errors import ApiError, error_body, error_response
from .faults import DroppedConnection, FaultMiddleware, Faults, Traffic
from .idempotency import IdempotencyMiddleware
from .raw_paths import RawPathRouting, escaped_route
from .state import Settings, State
from .store import Store

# Runs come before threads: POST /threads/runs must not be taken for an update of thread "runs".
API_MODULES = [models, chat, embeddings, images, audio, moderations, files, finetunes, assistants, runs, threads,
               responses, conversations, batches]


def api_modules(settings: Settings) -> list:
    """The API areas this sandbox serves: all of them, less the ones its settings switch off."""
    off = ({assistants, runs, threads} if not settings.assistants_api else set()) | (
        {conversations} if not settings.conversations_api else set())
    return [module for module in API_MODULES if module not in off]


def routes(settings: Settings) -> list[Route]:
    table = [Route(escaped_route("/v1" + path), handler, methods=methods)
             for module in api_modules(settings) for path, handler, methods in module.ROUTES]
    table += [Route(path, handler, methods=methods) for path, handler, methods in faults.ROUTES + ratelimits.ROUTES]
    table += [Route(escaped_route("/sandbox/images/{image_id}"), images.image_blob, methods=["GET"], name="image_blob"),
              Route("/", index, methods=["GET"]), Route("/v1", index, methods=["GET"])]
    return table


async def index(request: Request) -> Response:
    return JSONResponse({"object": "sandbox", "message": "oai_magics sandbox: an OpenAI-compatible server for demos and tests",
                         "base_url": str(request.base_url).rstrip("/") + "/v1"})


class AuthMiddleware:
    """API paths need `Authorization: Bearer <key>`; with a configured key, only that one."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            headers = dict(scope["headers"])
            auth = headers.get(b"authorization", b"").decode("latin-1")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            error = None
            if not key:
                error = ApiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                                      "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
            elif self.api_key is not None and key != self.api_key:
                error = ApiError(401, "Incorrect API key provided. The sandbox was started with a different key.",
                                 code="invalid_api_key")
            if error is not None:
                return await error_response(error)(scope, receive, send)
        await self.app(scope, receive, send)


class RequestIdMiddleware:
    """Every answer carries an `x-request-id`, as the API's do, so a client can quote it in an error
    or a usage log (an id the application already set is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = f"req_{secrets.token_hex(16)}".encode()

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    message = {**message, "headers": headers + [(b"x-request-id", request_id)]}
            await send(message)

        await self.app(scope, receive, with_id)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, in the API's words."""
    assert isinstance(exc, HTTPException)
    message = f"Invalid URL ({request.method} {request.url.path})" if exc.status_code in (404, 405) else str(exc.detail)
    return JSONResponse(error_body(exc.status_code, message, "invalid_request_error", None, None), status_code=exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DroppedConnection):
        raise exc
    logging.getLogger("oai_magics.sandbox").exception("internal error")
    return JSONResponse(error_body(500, f"The sandbox failed: {type(exc).__name__}: {exc}", "server_error", None, None),
                        status_code=500)


def create_app(settings: Settings) -> Starlette:
    store = Store(settings.data_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(routes=routes(settings), exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: server_error},
                    lifespan=lifespan)
    app.state.sandbox = State(settings=settings, store=store)
    app.state.faults = Faults()
    app.state.meter = ratelimits.Meter()
    app.add_middleware(RawPathRouting)  # innermost: only the router sees the path as sent
    app.add_middleware(ratelimits.RateLimitMiddleware, meter=app.state.meter)  # counts authorised requests
    app.add_middleware(AuthMiddleware, api_key=settings.api_key)
    app.add_middleware(RequestIdMiddleware)  # outside auth: a refused key's 401 has its id too
    app.add_middleware(IdempotencyMiddleware)  # a repeated key waits for or replays the first answer
    app.state.traffic = Traffic()
    # Outermost, as the network is: faults break any exchange (a replayed one too), and every request is logged.
    app.add_middleware(FaultMiddleware, faults=app.state.faults, traffic=app.state.traffic)
    return app
