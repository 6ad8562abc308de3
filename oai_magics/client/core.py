"""The request engine: every endpoint method ends up in `Requester.request()`.

`request()` sends one API call: it builds the `Call` (headers, query, body; the key is handed to the
transport as a `Secret`, which writes it into the `Authorization` header only as the request goes
out; every non-GET call gets an `Idempotency-Key` that all its attempts share), sends it as often as
`RetryPolicy` allows, and hands the answer to its `Decoder`, which masks the key in everything the
server sent and makes JSON, text, bytes, a `Stream` or an error of it. A JSON answer is checked to be
the object its endpoint promises (`answers`); listeners hear what each call cost (`records`).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from functools import partial
from typing import Any, Mapping

from .._version import __version__
from .answers import expect_object
from .calls import Call, clean_query, idempotency_key
from .decode import Decoder, Expect, StreamKind
from .errors import APIConnectionError, APIError, APIUserAbortError, KeyFormatError
from .multipart import encode, uploads
from .pagination import Page
from .records import Listener, tell
from .retries import RetryPolicy, not_resent, retry_after_seconds, say_when_to_retry
from .secret import Secret
from .streaming import Stream
from .transport import Response, Timeout, Transport
from .urls import is_web_address, split_userinfo, without_userinfo

__all__ = ["Requester", "REQUEST_OPTIONS", "USER_AGENT"]

# Keyword arguments that any endpoint method accepts and that never go into the API body or query.
REQUEST_OPTIONS = ("timeout", "extra_headers", "extra_query", "extra_body")

USER_AGENT = f"oai-magics/{__version__} (python-requests)"
LISTING = {"data": list}  # what every list endpoint answers with


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
        self.decoder = Decoder(self._api_key)  # every byte the server sends is read through it
        # A token written as the user info of the URL (https://user:TOKEN@host/v1, as some gateways
        # want) is kept apart, behind a Secret: requests go to the URL without it, and `base_url`
        # shows it masked. With a key, requests never sent it (the key's header wins), nor does this.
        bare, userinfo = split_userinfo(base_url.rstrip("/"))
        self._url = bare
        self._userinfo = _secret_or_none(userinfo) if self._api_key is None else None
        self.base_url = without_userinfo(base_url.rstrip("/"))
        self.organization = organization
        self.project = project
        self.timeout = timeout
        self.retry = retry
        self.assistants_version = assistants_version
        self.transport = transport or Transport()
        self.listeners: list[Listener] = []
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
        call = Call(
            method=method.upper(), path=path, url=self._url + path, headers=headers,
            query=clean_query({**(query or {}), **(options.get("extra_query") or {})}),
            body={**(body or {}), **(extra_body or {})} if body is not None or extra_body else None,
            uploads=uploads(files or {}),
            timeout=options.get("timeout", self.timeout), stream=bool(stream),
        )
        response = self._send_with_retries(call)
        if stream:
            return self._stream(call, response, stream)
        answer = self.decoder.whole(response, self.decoder.headers(response), raw=expect == "bytes")
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
            raise self.decoder.status_error(response, self.decoder.headers(response))
        return response.content

    # -- internals -----------------------------------------------------------------------------
    def _send_with_retries(self, call: Call) -> Response:
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
                    self.sleep(self.transport.wait_time(self.retry.delay(call.attempts - 1)))
                    call.attempts += 1
                    continue
                self._record(call, None, None, {})
                raise error if resendable else not_resent(call.what, error)
            if response.status_code < 400:
                return response
            response_headers = self.decoder.headers(response)
            if self.retry.should_retry(call.attempts - 1, response.status_code, response_headers):
                response.close()
                self.sleep(self.transport.wait_time(self.retry.delay(call.attempts - 1, response_headers)))
                call.attempts += 1
                continue
            status = self.decoder.status_error(response, response_headers)
            del response  # its body may echo the key, and this frame is in the error's traceback
            if self.retry.waits_too_long(response_headers):
                say_when_to_retry(status, retry_after_seconds(response_headers) or 0.0)
            self._record(call, status.status, status.request_id, {})
            raise status

    def _send_once(self, call: Call) -> Response:
        send = partial(self.transport.send, call.method, call.url, params=call.query or None, timeout=call.timeout,
                       stream=call.stream, auth=self._api_key, userinfo=self._userinfo)
        if not call.uploads:
            return send(headers=call.headers, json=call.body)
        with ExitStack() as stack:  # files opened for this attempt are closed after it
            encoder = encode(call.body or {}, call.uploads, stack)
            return send(headers={**call.headers, "Content-Type": encoder.content_type}, data=encoder)

    def _stream(self, call: Call, response: Response, kind: StreamKind) -> Stream:
        """The answer to a streamed call; logged when it ends, with the time to its last byte and
        the usage it reported."""
        headers = self.decoder.headers(response)
        status, request_id = response.status_code, headers.get("x-request-id")
        mask = self.decoder.stream_mask()
        chunks = self.decoder.stream_body(mask.chunks(self.transport.iter_bytes(response)), kind, call.what, headers,
                                          status)

        def ended(done: Stream) -> None:
            self._record(call, status, request_id, done.usage, done.model)

        return Stream(chunks, response.close, events=kind == "events", typed=kind == "responses",
                      request_id=request_id, on_end=ended, parse=mask.json)

    def _record(self, call: Call, status: int | None, request_id: str | None, usage: dict,
                model: str | None = None) -> None:
        tell(self.listeners, call, status, request_id, usage, model)


def _secret_or_none(userinfo: str | None) -> Secret | None:
    """The user info of a base URL behind a Secret; None when there is none or no header can carry it."""
    try:
        return Secret(userinfo) if userinfo else None
    except KeyFormatError:
        return None
