"""Request and response helpers every handler shares: bodies, parameters, lists, SSE."""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Iterable

import anyio
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .errors import invalid

__all__ = ["json_body", "require", "optional", "reject_unknown", "paginate", "sse", "sse_response", "assistants_version"]

_TYPES: dict[str, type | tuple[type, ...]] = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


async def json_body(request: Request) -> dict:
    """The JSON object the request carries, or the API's 400 for a body it cannot parse."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                       "using your HTTP library correctly. The OpenAI API expects a JSON payload.)") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def _check_type(name: str, value: Any, kind: str | tuple[str, ...]) -> None:
    kinds = (kind,) if isinstance(kind, str) else kind
    for one in kinds:
        expected = _TYPES[one]
        if isinstance(value, expected) and not (one in ("integer", "number") and isinstance(value, bool)):
            return
    raise invalid(f"Invalid type for '{name}': expected {' or '.join(kinds)}, but got {type(value).__name__}.", param=name)


def require(body: dict, name: str, kind: str | tuple[str, ...] = "string") -> Any:
    """A required parameter of the given JSON type; the API's 400 otherwise."""
    if name not in body or body[name] is None:
        raise invalid(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    _check_type(name, body[name], kind)
    return body[name]


def optional(body: dict, name: str, kind: str | tuple[str, ...], default: Any = None, *,
             minimum: float | None = None, maximum: float | None = None, choices: Iterable[Any] | None = None) -> Any:
    """An optional parameter, type-, range- and choice-checked as the API checks it."""
    value = body.get(name)
    if value is None:
        return default
    _check_type(name, value, kind)
    if minimum is not None and value < minimum:
        raise invalid(f"{value} is less than the minimum of {minimum} - '{name}'", param=name, code="integer_below_min_value"
                      if isinstance(value, int) else "decimal_below_min_value")
    if maximum is not None and value > maximum:
        raise invalid(f"{value} is greater than the maximum of {maximum} - '{name}'", param=name,
                      code="integer_above_max_value" if isinstance(value, int) else "decimal_above_max_value")
    if choices is not None and value not in list(choices):
        allowed = ", ".join(repr(c) for c in choices)
        raise invalid(f"Invalid value: '{value}'. Supported values are: {allowed}.", param=name, code="invalid_value")
    return value


def paginate(items: list[dict], query: Any, *, default_limit: int = 20, max_limit: int = 100,
             default_order: str = "desc", with_cursors: bool = True) -> dict:
    """A cursor page of `items` (oldest first on input) as `limit`, `order`, `after`, `before` ask."""
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        raise invalid("Invalid 'limit': expected an integer.", param="limit") from None
    if not 1 <= limit <= max_limit:
        raise invalid(f"Invalid 'limit': integer between 1 and {max_limit} expected, got {limit}.", param="limit")
    order = query.get("order", default_order)
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.", param="order")
    ordered = list(items) if order == "asc" else list(reversed(items))
    ids = [item["id"] for item in ordered]
    if query.get("after"):
        after = query["after"]
        ordered = ordered[ids.index(after) + 1:] if after in ids else []
    if query.get("before"):
        before = query["before"]
        ids = [item["id"] for item in ordered]
        ordered = ordered[:ids.index(before)] if before in ids else ordered
        ordered = ordered[-limit:]  # the items just before the cursor
    page = ordered[:limit]
    body: dict[str, Any] = {"object": "list", "data": page}
    if with_cursors:
        body["first_id"] = page[0]["id"] if page else None
        body["last_id"] = page[-1]["id"] if page else None
        body["has_more"] = len(ordered) > limit
    return body


def sse(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event, framed as the API frames it."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


class ClosingStream(StreamingResponse):
    """A stream that closes its source however the answer ends: finished, broken by the network, or
    abandoned by a client that hung up. The source's own clean-up (a streamed run handing itself back
    to the clock, say) then happens at once, not whenever the garbage collector finds the generator."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):  # the request may be cancelled already
                    await close()


def sse_response(events: AsyncIterator[bytes]) -> StreamingResponse:
    return ClosingStream(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def assistants_version(request: Request) -> str:
    """'v1' or 'v2', from the `OpenAI-Beta: assistants=...` header (v2 when absent)."""
    beta = request.headers.get("openai-beta", "")
    return "v1" if "assistants=v1" in beta.replace(" ", "") else "v2"


def reject_unknown(body: dict, allowed: Iterable[str]) -> None:
    """The API answers an unknown parameter with 400 `unknown_parameter`."""
    allowed = set(allowed)
    for name in body:
        if name not in allowed:
            raise invalid(f"Unrecognized request argument supplied: {name}", param=name, code="unknown_parameter")

