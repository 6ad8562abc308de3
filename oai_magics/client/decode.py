"""Server bytes into objects, the key masked: the one place the client reads what a server sent.

A `Decoder` holds the client's key (a `Secret`, or None), and this module is the only caller of its
masking: every header value (`headers`), whole body (`body`), streamed read (`StreamMask`) and decoded JSON
(`json`; an escape such as `\\u0073k-...` spells the key anew once decoded) passes through it before
anything else sees it, so a server or proxy that echoes the `Authorization` header cannot put the key
into an error message, a traceback's locals, a reply shown in the notebook or a file written from it.

What it makes of the bytes:
- `status_error()`: an error status becomes its `APIStatusError` class (`_BY_STATUS`), with the
  server's message from the error envelope, or from any other body reduced to one line;
- `whole()` / `Answer.decode()`: a body as JSON, text or bytes; a body that is not the JSON it should
  be (a web page, a byte order mark, plain text) is one clear error quoting its start;
- `stream_body()`: a streamed call's body by what it turns out to be: events; a web page (one error);
  one JSON answer from a server that ignored `stream=true`, told as the events it stands for
  (`answers.as_stream`); a body of no stated type sniffed by its first byte past a byte order mark.
"""

from __future__ import annotations

import itertools
import json as jsonlib
from typing import Any, Iterable, Iterator, Literal, Mapping

from .answers import as_stream
from .envelope import error_fields, short_text
from .errors import (APIError, APIResponseValidationError, APIStatusError, AuthenticationError, BadRequestError,
                     ConflictError, InternalServerError, NotFoundError, PermissionDeniedError, RateLimitError,
                     UnprocessableEntityError)
from .secret import Secret
from .transport import Response

__all__ = ["Decoder", "Answer", "StreamMask", "Expect", "StreamKind", "status_error", "BOM"]

Expect = Literal["json", "text", "bytes", "auto"]
StreamKind = Literal["chunks", "events", "responses"]

BOM = b"\xef\xbb\xbf"  # a byte order mark some servers put before a body
_UNPARSED = object()
# Where a Server-Sent Event ends: a chunk that ends so leaves no event half read.
_EVENT_ENDS = (b"\n\n", b"\r\r", b"\r\n\r\n")
# Every JSON escape starts with one: a read without it (most reads) cannot spell the key by escapes,
# and a one-byte search is the cheapest there is (`find`, which for bytes costs less than `in`).
_BACKSLASH = b"\\"
# The scanner `json.loads` itself ends in (its C one where there is one): see `event_json`.
_SCAN = jsonlib.JSONDecoder().scan_once

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


class Decoder:
    """Reads the server's answers for one client, masking its key (if it has one) in all of them."""

    def __init__(self, secret: Secret | None) -> None:
        self.secret = secret

    # -- the key masked: everything the server sends passes one of these -----------------------
    def body(self, data: bytes) -> bytes:
        """Bytes the server sent, with the key masked."""
        return self.secret.hide(data) if self.secret else data

    def headers(self, response: Response) -> dict[str, str]:
        """The answer's headers, names in lower case, values with the key masked: a server that echoes
        it into `x-request-id` would otherwise put it into every error line and request record."""
        if not self.secret:
            return {name.lower(): value for name, value in response.headers.items()}
        return {name.lower(): self.secret.hide_text(value) for name, value in response.headers.items()}

    def json(self, raw: bytes | str) -> Any:
        """`raw` (already masked) decoded as JSON, the key masked again where an escape spelled it;
        ValueError when it is not JSON."""
        decoded = jsonlib.loads(raw)
        return self.secret.hide_decoded(raw, decoded) if self.secret else decoded

    def stream_mask(self) -> "StreamMask":
        """The masking of one stream, read chunk by chunk."""
        return StreamMask(self.secret)

    # -- what the bytes become -------------------------------------------------------------------
    def status_error(self, response: Response, headers: Mapping[str, str]) -> APIStatusError:
        """The error for an answer with an error status; the response is closed."""
        try:
            body = self.body(response.content)
        except Exception:  # a body broken off mid-read still leaves the status to report
            body = b""
        finally:
            response.close()
        return status_error(response.status_code, body, headers, response.reason or "", self)

    def whole(self, response: Response, headers: Mapping[str, str], *, raw: bool) -> "Answer":
        """A whole (not streamed) answer, read off the response and masked; a `raw` one (a file's
        content: the user's data) is handed back as it came."""
        return Answer(response, headers, self if not raw else _UNMASKED)

    def stream_body(self, chunks: Iterable[bytes], kind: StreamKind, what: str, headers: Mapping[str, str],
                    status: int) -> Iterable[bytes]:
        """A streamed answer's (masked) chunks as events, whatever the server sent: see the module docstring."""
        content_type, request_id = headers.get("content-type", ""), headers.get("x-request-id")
        if "json" in content_type and "event-stream" not in content_type:
            return self._whole_answer(chunks, kind, what, status, request_id)
        if "html" in content_type:  # a web page (a login portal, a proxy): no stream at all
            return _web_page(chunks, what, content_type, status, request_id)
        if "event-stream" not in content_type:  # text/plain, or no type: the body itself says which it is
            return self._sniffed(chunks, kind, what, status, request_id)
        return chunks

    def _sniffed(self, chunks: Iterable[bytes], kind: StreamKind, what: str, status: int,
                 request_id: str | None) -> Iterator[bytes]:
        """A body whose content type does not say: one JSON object when it starts with `{` (an
        event stream starts with a field name or a comment), else events."""
        chunks = iter(chunks)
        head = opening = b""
        for chunk in chunks:
            head += chunk
            opening = head.lstrip().removeprefix(BOM).lstrip()
            if opening:
                break
        whole = itertools.chain([head], chunks)
        if opening.startswith(b"{"):
            yield from self._whole_answer(whole, kind, what, status, request_id)
        else:
            yield from whole

    def _whole_answer(self, chunks: Iterable[bytes], kind: StreamKind, what: str, status: int,
                      request_id: str | None) -> Iterator[bytes]:
        """A streamed call answered with one JSON body (a server that ignores `stream=true`): the
        events that answer stands for. A body that does not parse, or that no stream could carry,
        is one error when the stream is read, like any stream error (a run's stream that fails so
        still leaves the run to be found)."""
        body = b"".join(chunks)  # read through the transport, so a cut body is reported in words
        try:
            answer = self.json(body)
        except ValueError:
            answer = _UNPARSED  # raised below, outside this block, so the error has no decoder error as context
        if answer is _UNPARSED:
            raise APIError(f"{what}: asked for a stream, the server sent JSON that does not parse: "
                           f"{body[:80].decode('utf-8', 'replace')!r}", status=status, request_id=request_id)
        events = as_stream(answer, kind, what)
        if events is None:
            shape = type(answer).__name__
            if isinstance(answer, dict):
                shape = str(answer["object"]) if isinstance(answer.get("object"), str) else "object"
            raise APIResponseValidationError(f"{what}: asked for a stream, the server answered with one JSON {shape} "
                                             "that is no answer to this call", status=status, request_id=request_id)
        yield events


class Answer:
    """A whole answer, read off the response and masked: what `request` decodes, so the response
    itself (which keeps the body as sent) need not stay around."""

    def __init__(self, response: Response, headers: Mapping[str, str], decoder: Decoder) -> None:
        self.status = response.status_code
        self.request_id = headers.get("x-request-id")
        self.content_type = headers.get("content-type", "")
        self.encoding = response.encoding
        self._decoder = decoder
        self.content = decoder.body(response.content)

    def decode(self, expect: Expect) -> Any:
        if expect == "bytes":
            return self.content
        if expect == "text" or (expect == "auto" and "json" not in self.content_type):
            return self.content.decode(self.encoding or "utf-8", "replace")
        try:
            return self._decoder.json(self.content)
        except ValueError:
            pass  # raised below, so the error has no decoder error as its context
        snippet = self.content[:80].decode("utf-8", "replace")
        raise APIError(f"expected JSON but got {self.content_type or 'no content type'}: {snippet!r}",
                       status=self.status, request_id=self.request_id)


class StreamMask:
    """The key masked in one stream: looked for once per network read, and in the JSON of an event
    only when the bytes it came in hold an escape (the one way decoding can spell the key anew).

    A key holds no line break, so each copy lies within one line: `chunks()` hands on each read up
    to its last line break, masked, and the bytes after it wait for the rest of their line (the
    usual read ends with a line break and passes at once; nothing that could be shown waits longer,
    as a Server-Sent Event is complete only at a blank line; a long line arriving in many reads is
    joined once, when its end comes). It notes whether the event being read may hold an escape;
    `json()` masks an event's strings only then. Without a key both hand everything on as it came.
    """

    def __init__(self, secret: Secret | None) -> None:
        self.secret = secret
        self.escaped = False  # an escape in the bytes of the events now being read

    def chunks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        if not self.secret:
            yield from chunks
            return
        hide = self.secret.hide
        held: list[bytes] = []
        carried = False  # an escape in an event that began in an earlier read and is not over yet
        for chunk in chunks:
            if held or not chunk.endswith(b"\n"):  # a line cut off: its start waits for the rest
                cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
                if not cut:
                    held.append(chunk)
                    continue
                lines = chunk if cut == len(chunk) else chunk[:cut]
                if held:
                    lines = b"".join(held) + lines
                held = [chunk[cut:]] if cut < len(chunk) else []
                chunk = lines
            chunk = hide(chunk)
            self.escaped = carried or chunk.find(_BACKSLASH) != -1
            yield chunk
            carried = self.escaped and not chunk.endswith(_EVENT_ENDS)
        if held:
            rest = hide(b"".join(held))
            self.escaped = carried or rest.find(_BACKSLASH) != -1
            yield rest

    def json(self, data: str) -> Any:
        """An event's data decoded (ValueError when it is not JSON), the key masked where an escape spelled it."""
        decoded = event_json(data)
        return self.secret.hide_decoded(data, decoded) if self.escaped and self.secret else decoded


def event_json(data: str) -> Any:
    """`json.loads(data)` for the data of one event, the same values and errors, at less cost.

    `json.loads` ends in its decoder's scanner, after two calls and two whitespace matches; data that
    is one JSON value from its first character to its last (every event an API sends) is handed to
    that scanner directly, and anything else (whitespace around it, more after it, no JSON at all) to
    `json.loads`, for its value or its error.
    """
    try:
        value, end = _SCAN(data, 0)
    except (StopIteration, ValueError):  # no JSON value at the start: json.loads says why
        end = -1
    return value if end == len(data) else jsonlib.loads(data)


def status_error(status: int, body: bytes, headers: Mapping[str, str], reason: str = "",
                 decoder: Decoder | None = None) -> APIStatusError:
    """The right APIStatusError subclass for a status, raw body and headers (both already masked);
    `decoder` masks the key again in the decoded JSON, where an escape may have spelled it."""
    text = body.decode("utf-8", "replace") if body else ""
    try:
        payload = (decoder or _UNMASKED).json(text) if text else None
    except ValueError:
        payload = None
    fields = error_fields(payload)
    message = fields.pop("message", None)
    if not message:
        message = short_text(text) if text and payload is None else ""
    if not message:
        message = reason or "the server gave no error message"
    cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    request_id = headers.get("x-request-id") or None
    return cls(message, status=status, request_id=request_id, headers=headers, body=payload, **fields)


_UNMASKED = Decoder(None)


def _web_page(chunks: Iterable[bytes], what: str, content_type: str, status: int,
              request_id: str | None) -> Iterator[bytes]:
    """A streamed call answered with a web page: one error when the stream is read, quoting its start."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 80:
            break
    raise APIError(f"{what}: asked for a stream, the server sent a web page ({content_type}): "
                   f"{head[:80].decode('utf-8', 'replace')!r}", status=status, request_id=request_id)
    yield b""  # a generator: the error comes when the stream is read, like any stream's
