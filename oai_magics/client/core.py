"""The request engine: URL, headers, retries, decoding. Every endpoint method ends up here.

`Requester.request()` sends one API call: it builds the headers (the key only ever goes into the
`Authorization` header), retries what `RetryPolicy` allows, turns error statuses into our errors,
and decodes the answer as JSON, text, bytes, a `Stream` or a `Page`.
"""

from __future__ import annotations

import json as jsonlib
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from .. import __version__
from .errors import APIError, APIStatusError, OpenAIError, status_error
from .multipart import Upload, encode
from .pagination import Page
from .retries import RetryPolicy
from .streaming import Stream
from .transport import Response, Timeout, Transport

__all__ = ["Requester", "RequestRecord", "Secret", "REQUEST_OPTIONS"]

Expect = Literal["json", "text", "bytes", "auto"]

# Keyword arguments that any endpoint method accepts and that never go into the API body or query.
REQUEST_OPTIONS = ("timeout", "extra_headers", "extra_query", "extra_body")

USER_AGENT = f"oai-magics/{__version__} (python-requests)"


class Secret:
    """A key that does not show itself: repr, str and format all give a mask, `.value` the key."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    @property
    def value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled")


@dataclass
class RequestRecord:
    """What one finished API call cost, for `%oai usage` and similar listeners."""

    method: str
    path: str
    status: int | None
    seconds: float
    request_id: str | None = None
    usage: dict = field(default_factory=dict)


class Requester:
    """Holds connection settings and sends API calls. The key is kept out of every repr."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str,
        organization: str | None,
        project: str | None,
        timeout: Timeout,
        retry: RetryPolicy,
        assistants_version: str,
        transport: Transport | None = None,
    ) -> None:
        self._api_key = Secret(api_key) if api_key else None
        self.base_url = base_url.rstrip("/")
        self.organization = organization
        self.project = project
        self.timeout = timeout
        self.retry = retry
        self.assistants_version = assistants_version
        self.transport = transport or Transport()
        self.listeners: list[Callable[[RequestRecord], None]] = []
        self.sleep = time.sleep  # a seam so retry tests need not wait

    def __repr__(self) -> str:
        return f"<Requester {self.base_url}>"

    # -- headers -------------------------------------------------------------------------------
    def headers(self, beta: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key.value}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        if beta:
            headers["OpenAI-Beta"] = f"assistants={beta}"
        headers.update(extra or {})
        return headers

    # -- the one entry point -------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        beta: str | None = None,
        stream: Literal["chunks", "events", "responses"] | None = None,
        expect: Expect = "json",
        options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one API call and decode its answer. See the module docstring."""
        options = dict(options or {})
        query = _clean({**(query or {}), **(options.get("extra_query") or {})})
        body_dict = {**(body or {}), **(options.get("extra_body") or {})} if body is not None or options.get("extra_body") else None
        uploads = {key: Upload(value, default_name=key) for key, value in (files or {}).items() if value is not None}
        headers = self.headers(beta, options.get("extra_headers"))
        if stream:
            headers["Accept"] = "text/event-stream"
        timeout = options.get("timeout", self.timeout)
        url = self.base_url + path
        started = time.monotonic()
        response = self._send_with_retries(method, url, path, headers, query, body_dict, uploads, timeout, bool(stream))
        request_id = response.headers.get("x-request-id")
        if stream:
            self._record(method, path, response.status_code, started, request_id, {})
            return Stream(self.transport.iter_bytes(response), response.close, events=stream == "events",
                          typed=stream == "responses", request_id=request_id)
        result = self._decode(response, expect, request_id)
        usage: dict = result["usage"] if isinstance(result, dict) and isinstance(result.get("usage"), dict) else {}
        self._record(method, path, response.status_code, started, request_id, usage)
        return result

    def page(self, path: str, *, query: Mapping[str, Any] | None = None, beta: str | None = None, options: Mapping[str, Any] | None = None) -> Page:
        """A list endpoint as a Page that can fetch the pages after it."""
        query = dict(query or {})

        def fetch_after(after: str) -> Page:
            return self.page(path, query={**query, "after": after}, beta=beta, options=options)

        payload = self.request("GET", path, query=query, beta=beta, options=options)
        if not isinstance(payload, dict):
            raise APIError(f"expected a list object from {path}, got {type(payload).__name__}")
        return Page(payload, fetch_after)

    def download(self, url: str, timeout: Timeout = 60.0) -> bytes:
        """GET a URL the API handed out (a generated image, say) without sending the key."""
        response = self.transport.send("GET", url, headers={"User-Agent": USER_AGENT}, timeout=timeout)
        if response.status_code >= 400:
            raise self._status_error(response, {k.lower(): v for k, v in response.headers.items()})
        return response.content

    # -- internals -----------------------------------------------------------------------------
    def _send_with_retries(self, method, url, path, headers, query, body, uploads, timeout, stream) -> Response:
        attempt = 0
        while True:
            try:
                response = self._send_once(method, url, headers, query, body, uploads, timeout, stream)
            except OpenAIError as exc:  # connection error or timeout
                if not self.retry.should_retry(attempt, None):
                    self._record(method, path, None, 0.0, None, {})
                    raise exc
                self.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            if self.retry.should_retry(attempt, response.status_code, response_headers):
                response.close()
                self.sleep(self.retry.delay(attempt, response_headers))
                attempt += 1
                continue
            error = self._status_error(response, response_headers)
            self._record(method, path, response.status_code, 0.0, error.request_id, {})
            raise error

    def _send_once(self, method, url, headers, query, body, uploads, timeout, stream) -> Response:
        if not uploads:
            return self.transport.send(method, url, headers=headers, params=query or None, json=body, timeout=timeout, stream=stream)
        with ExitStack() as stack:  # files opened for this attempt are closed after it
            encoder = encode(body or {}, uploads, stack)
            headers = {**headers, "Content-Type": encoder.content_type}
            return self.transport.send(method, url, headers=headers, params=query or None, data=encoder, timeout=timeout, stream=stream)

    @staticmethod
    def _status_error(response: Response, headers: Mapping[str, str]) -> APIStatusError:
        try:
            body = response.content
        except Exception:  # a body broken off mid-read still leaves the status to report
            body = b""
        finally:
            response.close()
        return status_error(response.status_code, body, headers, response.reason or "")

    @staticmethod
    def _decode(response: Response, expect: Expect, request_id: str | None) -> Any:
        content = response.content
        if expect == "bytes":
            return content
        content_type = response.headers.get("content-type", "")
        if expect == "text" or (expect == "auto" and "json" not in content_type):
            return content.decode(response.encoding or "utf-8", "replace")
        try:
            return jsonlib.loads(content)
        except ValueError:
            snippet = content[:80].decode("utf-8", "replace")
            raise APIError(
                f"expected JSON but got {content_type or 'no content type'}: {snippet!r}",
                status=response.status_code, request_id=request_id,
            ) from None

    def _record(self, method: str, path: str, status: int | None, started: float, request_id: str | None, usage: dict) -> None:
        if not self.listeners:
            return
        seconds = time.monotonic() - started if started else 0.0
        record = RequestRecord(method, path, status, seconds, request_id, dict(usage))
        for listener in list(self.listeners):
            listener(record)


def _clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones; booleans as the API spells them."""
    cleaned: dict[str, Any] = {}
    for key, value in mapping.items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned
