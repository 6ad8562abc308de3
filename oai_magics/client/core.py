"""The request engine: URL, headers, retries, decoding. Every endpoint method ends up here.

`Requester.request()` sends one API call: it builds the headers (the key is handed to the transport
as a `Secret`, which writes it into the `Authorization` header only as the request goes out), gives
every non-GET call an `Idempotency-Key` that all its attempts share, retries what `RetryPolicy`
allows, turns error statuses into our errors, and decodes the answer as JSON, text, bytes, a
`Stream` or a `Page`. Every JSON, text or streamed body is read through `Secret.hide` first, every
header value through `Secret.hide_text`, and decoded JSON through `Secret.hide_decoded` (an escape may
spell the key anew), so no echo of the key goes further; a JSON answer is checked to be the object its
endpoint promises (`answers`).
"""

from __future__ import annotations

import itertools
import json as jsonlib
import time
import uuid
from contextlib import ExitStack
from functools import partial
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping

from .. import __version__
from .answers import as_stream, expect_object
from .errors import (APIConnectionError, APIError, APIResponseValidationError, APIStatusError, APIUserAbortError,
                     KeyFormatError, status_error)
from .multipart import Upload, encode, uploads
from .pagination import Page
from .retries import RetryPolicy
from .secret import Secret
from .streaming import Stream
from .urls import is_web_address
from .transport import Response, Timeout, Transport

__all__ = ["Requester", "RequestRecord", "Secret", "REQUEST_OPTIONS", "idempotency_key"]

Expect = Literal["json", "text", "bytes", "auto"]
StreamKind = Literal["chunks", "events", "responses"]

# Keyword arguments that any endpoint method accepts and that never go into the API body or query.
REQUEST_OPTIONS = ("timeout", "extra_headers", "extra_query", "extra_body")

USER_AGENT = f"oai-magics/{__version__} (python-requests)"
LISTING = {"data": list}  # what every list endpoint answers with


@dataclass
class RequestRecord:
    """What one finished API call cost, for `%oai usage` and similar listeners."""

    method: str
    path: str
    status: int | None
    seconds: float  # from sending to the last byte (for a stream: until it ended)
    request_id: str | None = None
    usage: dict = field(default_factory=dict)
    attempts: int = 1  # how many times the request went out; more than one means it was retried
    model: str | None = None  # the one the answer names, else the one asked for

    @property
    def retries(self) -> int:
        return self.attempts - 1


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
        # Secret takes the key without surrounding whitespace, and refuses one no header can carry:
        # said on every call, where callers (and the magics) look for API errors. Only the words are
        # kept: the refusal's traceback holds the key in its frames.
        self._key_refused: str | None = None
        try:
            self._api_key = Secret(api_key) if api_key and api_key.strip() else None
        except KeyFormatError as exc:
            self._api_key, self._key_refused = None, exc.message
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
        stream: StreamKind | None = None,
        expect: Expect = "json",
        fields: Mapping[str, type] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one API call and decode its answer. See the module docstring.

        A JSON answer must be an object with `fields` of their types (`answers.expect_object`); a
        streamed call answered with one JSON body is read as the stream it stands for (`answers.as_stream`).
        """
        if self._key_refused:
            raise KeyFormatError(self._key_refused)
        if not is_web_address(self.base_url):  # not quoted: it may hold anything
            raise APIConnectionError("not sent: the base URL must start with http:// or https://", sent=False)
        options = dict(options or {})
        headers = self.headers(beta, options.get("extra_headers"))
        if method.upper() != "GET" and not any(name.lower() == "idempotency-key" for name in headers):
            # One key for every attempt of this call: a server that honours it runs the call once.
            headers["Idempotency-Key"] = idempotency_key()
        if stream:
            headers["Accept"] = "text/event-stream"
        extra_body = options.get("extra_body")
        call = _Call(
            method=method.upper(), path=path, url=self.base_url + path, headers=headers,
            query=_clean({**(query or {}), **(options.get("extra_query") or {})}),
            body={**(body or {}), **(extra_body or {})} if body is not None or extra_body else None,
            uploads=uploads(files or {}),
            timeout=options.get("timeout", self.timeout), stream=bool(stream),
        )
        response = self._send_with_retries(call)
        if stream:
            return self._stream(call, response, stream)
        answer = _Answer(response, self._headers_of(response), self._api_key, raw=expect == "bytes")
        del response  # it keeps the body as sent, which may echo the key, and this frame is in any error's traceback
        try:
            result = answer.decode(expect)
            if expect == "json":
                result = expect_object(result, f"{call.method} {call.path}", fields, request_id=answer.request_id)
        except APIError:  # the call was made (and may be billed) even if its answer is of no use
            self._record(call, answer.status, answer.request_id, {})
            raise
        usage = result.get("usage") if isinstance(result, dict) else None
        model = result.get("model") if isinstance(result, dict) else None
        self._record(call, answer.status, answer.request_id, usage if isinstance(usage, dict) else {},
                     model if isinstance(model, str) else None)
        return result

    def page(self, path: str, *, query: Mapping[str, Any] | None = None, beta: str | None = None, options: Mapping[str, Any] | None = None) -> Page:
        """A list endpoint as a Page that can fetch the pages after it."""
        query = dict(query or {})

        def fetch_after(after: str) -> Page:
            return self.page(path, query={**query, "after": after}, beta=beta, options=options)

        return Page(self.request("GET", path, query=query, beta=beta, fields=LISTING, options=options), fetch_after)

    def download(self, url: str, timeout: Timeout = 60.0) -> bytes:
        """GET a URL the API handed out (a generated image, say) without sending the key."""
        response = self.transport.send("GET", url, headers={"User-Agent": USER_AGENT}, timeout=timeout)
        if response.status_code >= 400:
            raise self._status_error(response, self._headers_of(response))
        return response.content

    # -- internals -----------------------------------------------------------------------------
    def _send_with_retries(self, call: "_Call") -> Response:
        while True:
            error: APIConnectionError | None = None
            try:
                response = self._send_once(call)
            except APIConnectionError as exc:  # raised below, outside this block, so it has no context
                error = exc
            except APIUserAbortError as exc:  # stopped by the caller: once it went out it may be billed
                if exc.sent:
                    self._record(call, None, None, {})
                raise
            if error is not None:
                resendable = self.retry.may_resend(call.method, error.sent)
                if resendable and self.retry.should_retry(call.attempts - 1, None):
                    self.sleep(self.retry.delay(call.attempts - 1))
                    call.attempts += 1
                    continue
                self._record(call, None, None, {})
                raise error if resendable else _not_resent(call, error)
            if response.status_code < 400:
                return response
            response_headers = self._headers_of(response)
            if self.retry.should_retry(call.attempts - 1, response.status_code, response_headers):
                response.close()
                self.sleep(self.retry.delay(call.attempts - 1, response_headers))
                call.attempts += 1
                continue
            status = self._status_error(response, response_headers)
            del response  # its body may echo the key, and this frame is in the error's traceback
            if self.retry.waits_too_long(response_headers):
                _say_when_to_retry(status, self.retry.retry_after(response_headers) or 0.0)
            self._record(call, status.status, status.request_id, {})
            raise status

    def _send_once(self, call: "_Call") -> Response:
        send = partial(self.transport.send, call.method, call.url, params=call.query or None, timeout=call.timeout,
                       stream=call.stream, auth=self._api_key)
        if not call.uploads:
            return send(headers=call.headers, json=call.body)
        with ExitStack() as stack:  # files opened for this attempt are closed after it
            encoder = encode(call.body or {}, call.uploads, stack)
            return send(headers={**call.headers, "Content-Type": encoder.content_type}, data=encoder)

    def _status_error(self, response: Response, headers: Mapping[str, str]) -> APIStatusError:
        try:
            body = self._hide_key(response.content)
        except Exception:  # a body broken off mid-read still leaves the status to report
            body = b""
        finally:
            response.close()
        return status_error(response.status_code, body, headers, response.reason or "", self._api_key)

    def _headers_of(self, response: Response) -> dict[str, str]:
        """The answer's headers, names in lower case, values with the key masked: a server that echoes
        it into `x-request-id` would otherwise put it into every error line and request record."""
        hide = self._api_key.hide_text if self._api_key else (lambda value: value)
        return {name.lower(): hide(value) for name, value in response.headers.items()}

    def _hide_key(self, body: bytes) -> bytes:
        """The server's bytes with our key masked: a proxy that echoes the Authorization header
        it refused would otherwise put the key into the error shown in the notebook. Every body
        read from the server passes here (streams through `_hide_key_in_stream`)."""
        return self._api_key.hide(body) if self._api_key else body

    def _hide_key_in_stream(self, chunks: Iterable[bytes]) -> Iterable[bytes]:
        return self._api_key.hide_in_stream(chunks) if self._api_key else chunks

    def _stream(self, call: "_Call", response: Response, kind: StreamKind) -> Stream:
        """The answer to a streamed call; logged when it ends, with the time to its last byte and
        the usage it reported."""
        headers = self._headers_of(response)
        status, request_id = response.status_code, headers.get("x-request-id")
        content_type = headers.get("content-type", "")
        chunks = self._hide_key_in_stream(self.transport.iter_bytes(response))
        if "json" in content_type and "event-stream" not in content_type:
            chunks = self._whole_answer(chunks, kind, call, status, request_id)
        elif "html" in content_type:  # a web page (a login portal, a proxy): no stream at all
            chunks = self._web_page(chunks, call, content_type, status, request_id)
        elif "event-stream" not in content_type:  # text/plain, or no type: the body itself says which it is
            chunks = self._sniffed(chunks, kind, call, status, request_id)

        def ended(done: Stream) -> None:
            self._record(call, status, request_id, done.usage, done.model)

        return Stream(chunks, response.close, events=kind == "events", typed=kind == "responses",
                      request_id=request_id, on_end=ended, secret=self._api_key)

    @staticmethod
    def _web_page(chunks: Iterable[bytes], call: "_Call", content_type: str, status: int,
                  request_id: str | None) -> Iterator[bytes]:
        """A streamed call answered with a web page: one error when the stream is read, quoting its start."""
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= 80:
                break
        raise APIError(f"{call.method} {call.path}: asked for a stream, the server sent a web page ({content_type}): "
                       f"{head[:80].decode('utf-8', 'replace')!r}", status=status, request_id=request_id)
        yield b""  # a generator: the error comes when the stream is read, like any stream's

    def _sniffed(self, chunks: Iterable[bytes], kind: StreamKind, call: "_Call", status: int,
                 request_id: str | None) -> Iterator[bytes]:
        """A body whose content type does not say: one JSON object when it starts with `{` (an
        event stream starts with a field name or a comment), else events."""
        chunks = iter(chunks)
        head = opening = b""
        for chunk in chunks:
            head += chunk
            opening = head.lstrip().removeprefix(_BOM).lstrip()
            if opening:
                break
        whole = itertools.chain([head], chunks)
        if opening.startswith(b"{"):
            yield from self._whole_answer(whole, kind, call, status, request_id)
        else:
            yield from whole

    def _whole_answer(self, chunks: Iterable[bytes], kind: StreamKind, call: "_Call", status: int,
                      request_id: str | None) -> Iterator[bytes]:
        """A streamed call answered with one JSON body (a server that ignores `stream=true`): the
        events that answer stands for. A body that does not parse, or that no stream could carry,
        is one error when the stream is read, like any stream error (a run's stream that fails so
        still leaves the run to be found)."""
        body = b"".join(chunks)  # read through the transport, so a cut body is reported in words
        try:
            answer = jsonlib.loads(body)
        except ValueError:
            answer = _UNPARSED  # raised below, outside this block, so the error has no decoder error as context
        if answer is _UNPARSED:
            raise APIError(f"{call.method} {call.path}: asked for a stream, the server sent JSON that does not parse: "
                           f"{body[:80].decode('utf-8', 'replace')!r}", status=status, request_id=request_id)
        if self._api_key:
            answer = self._api_key.hide_decoded(body, answer)
        events = as_stream(answer, kind, call.path)
        if events is None:
            shape = type(answer).__name__
            if isinstance(answer, dict):
                shape = str(answer["object"]) if isinstance(answer.get("object"), str) else "object"
            raise APIResponseValidationError(f"{call.method} {call.path}: asked for a stream, the server answered with "
                                             f"one JSON {shape} that is no answer to this call", status=status,
                                             request_id=request_id)
        yield events

    def _record(self, call: "_Call", status: int | None, request_id: str | None, usage: dict,
                model: str | None = None) -> None:
        if not self.listeners:
            return
        seconds = time.monotonic() - call.started
        asked = (call.body or {}).get("model")
        model = model or (asked if isinstance(asked, str) else None)
        record = RequestRecord(call.method, call.path, status, seconds, request_id, dict(usage), call.attempts, model)
        for listener in list(self.listeners):
            listener(record)


_UNPARSED = object()
_BOM = b"\xef\xbb\xbf"  # a byte order mark some servers put before a body


def idempotency_key() -> str:
    """A new `Idempotency-Key`: every attempt of one call carries the same one."""
    return f"oai-magics-{uuid.uuid4()}"


class _Answer:
    """A whole (not streamed) answer, read off the response and masked: what `request` decodes, so
    the response itself (which keeps the body as sent) need not stay around."""

    def __init__(self, response: Response, headers: Mapping[str, str], secret: Secret | None, *, raw: bool) -> None:
        self.status = response.status_code
        self.request_id = headers.get("x-request-id")
        self.content_type = headers.get("content-type", "")
        self.encoding = response.encoding
        # Raw bytes (a file's content) are the user's data, handed back as they came.
        self.secret = secret if not raw else None
        self.content = self.secret.hide(response.content) if self.secret else response.content

    def decode(self, expect: Expect) -> Any:
        if expect == "bytes":
            return self.content
        if expect == "text" or (expect == "auto" and "json" not in self.content_type):
            return self.content.decode(self.encoding or "utf-8", "replace")
        try:
            decoded = jsonlib.loads(self.content)
        except ValueError:
            pass  # raised below, so the error has no decoder error as its context
        else:
            return self.secret.hide_decoded(self.content, decoded) if self.secret else decoded
        snippet = self.content[:80].decode("utf-8", "replace")
        raise APIError(f"expected JSON but got {self.content_type or 'no content type'}: {snippet!r}",
                       status=self.status, request_id=self.request_id)


@dataclass
class _Call:
    """One API call as it goes out, attempt after attempt."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any] | None
    uploads: dict[str, Upload | list[Upload]]
    timeout: Timeout
    stream: bool
    attempts: int = 1
    started: float = field(default_factory=time.monotonic)


def _not_resent(call: _Call, error: APIConnectionError) -> APIConnectionError:
    """The error for a call that went out, got no answer, and must not go out twice."""
    message = (f"{call.method} {call.path} {error.message}; not re-sent because it might be billed twice. "
               "Run it again yourself if it did not take effect, or use Client(honours_idempotency_key=True) "
               "with a server that honours Idempotency-Key")
    return type(error)(message, sent=True, unanswered=f"{call.method} {call.path} {error.message}", request_id=error.request_id)


def _say_when_to_retry(error: APIStatusError, seconds: float) -> None:
    """A server asking for a longer wait than we sit through: the error tells the user when to come back."""
    error.retry_after = seconds
    error.message += f"; the server asks to wait {seconds:.0f} s, so not retried: try again {_after(seconds)}"


def _after(seconds: float) -> str:
    """When a wait of `seconds` ends, for a message: the time, with the date once it is not today."""
    try:
        when = time.localtime(time.time() + seconds)
    except (OverflowError, ValueError, OSError):  # `Retry-After: inf` or a year past the platform's time_t
        return "much later (the server gave no usable time)"
    same_day = time.localtime()[:3] == when[:3]
    return "after " + time.strftime("%H:%M:%S %Z" if same_day else "%Y-%m-%d %H:%M:%S %Z", when)


def _clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones; booleans as the API spells them."""
    cleaned: dict[str, Any] = {}
    for key, value in mapping.items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned
