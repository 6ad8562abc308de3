"""Routing on the path as it was sent, so an escaped `/` in an id stays inside its segment.

ASGI servers hand the application a decoded `path`: `/v1/files/a%2Fb` arrives as `/v1/files/a/b`,
matches no route, and the sandbox answered 404 "Invalid URL" where the API looks the id `a/b` up.
`RawPathRouting` gives the router the path as received (`raw_path`, escapes kept), and the route
table's `{name}` parameters use a convertor that decodes each one after matching. Only the router
sees the escaped path: the middlewares outside it (auth, faults, rate limits) keep the decoded one.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_from_bytes, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RawPathRouting", "escaped_route"]

# What a path may hold unescaped (RFC 3986 pchar and "/"); existing %XX escapes are kept as they are.
_PATH_SAFE = "/%!$&'()*+,;=:@~-._"


class _Decoded(Convertor[str]):
    """A path parameter matched escaped and decoded after matching: `a%2Fb` is the id `a/b`."""

    def __init__(self, regex: str, safe: str) -> None:
        self.regex = regex  # type: ignore[misc]  # per instance: one segment, or the rest of the path
        self.safe = safe

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe=self.safe)


register_url_convertor("oai_segment", _Decoded("[^/]+", safe=""))
register_url_convertor("oai_rest", _Decoded(".*", safe="/"))  # a model id may hold "/", escaped or not

_PARAMETER = re.compile(r"\{(\w+)(?::(str|path))?\}")


def escaped_route(path: str) -> str:
    """A route path whose `{name}` and `{name:path}` parameters are decoded after matching the raw path."""
    return _PARAMETER.sub(lambda m: "{%s:%s}" % (m.group(1), "oai_rest" if m.group(2) == "path" else "oai_segment"), path)


class RawPathRouting:
    """Hands the application inside it the path exactly as the client escaped it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw:  # (some servers leave the query on it)
            scope = {**scope, "path": quote_from_bytes(raw.partition(b"?")[0], safe=_PATH_SAFE)}
        await self.app(scope, receive, send)
