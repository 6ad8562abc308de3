"""Every error the client raises, in one place.

    OpenAIError                      base: message, status, type, code, param, request_id
    └── APIError                     the server (or a stream) reported an error
        ├── APIStatusError           an HTTP status >= 400
        │   ├── BadRequestError              400
        │   ├── AuthenticationError          401
        │   ├── PermissionDeniedError        403
        │   ├── NotFoundError                404
        │   ├── ConflictError                409
        │   ├── UnprocessableEntityError     422
        │   ├── RateLimitError               429
        │   └── InternalServerError          >= 500
        ├── APIResponseValidationError  an answer that is not the object the endpoint promises
        ├── APIConnectionError       no usable answer: refused, reset, DNS, broken stream
        │   └── APITimeoutError      the connect or read timeout ran out
        ├── APIUserAbortError        the caller stopped the call (its client was aborted): never retried
        └── NotRecordedError         replaying, and the call is not in the recording: never sent
    KeyFormatError                   (also a ValueError) a key no HTTP header can carry: refused before any call

`str(error)` is one short line: the status, the error type or code, the server's message and the
request id. The API key never appears in any of them: messages come from us or from the server's
bytes and headers, which `decode` masks the key out of as it reads them (JSON text again once
decoded, since an escape can spell the key anew), and never from request headers. Which class a
status becomes is decided there too; this module holds the classes only and imports nothing of ours.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = [
    "OpenAIError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "APIUserAbortError",
    "NotRecordedError",
    "KeyFormatError",
]

class OpenAIError(Exception):
    """Base of every oai_magics client error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.body = body

    @property
    def status_code(self) -> int | None:
        """The HTTP status, under the official SDK's name."""
        return self.status

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(str(self.status))
        kind = self.code or self.type
        if kind:
            parts.append(f"({kind})")
        head = " ".join(parts)
        line = f"{head}: {self.message}" if head else self.message
        if self.param:
            line += f" [param: {self.param}]"
        if self.request_id:
            line += f" [request id: {self.request_id}]"
        return line


class APIError(OpenAIError):
    """The server, or an error event in a stream, reported a failure."""


class APIStatusError(APIError):
    """The server answered with an HTTP status of 400 or more."""

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers = dict(headers or {})
        self.retry_after: float | None = None  # seconds the server asked us to wait, when too long to wait


class BadRequestError(APIStatusError):
    """400: the request was malformed or a parameter is invalid."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (region, organisation, project)."""


class NotFoundError(APIStatusError):
    """404: unknown path, object id or model."""


class ConflictError(APIStatusError):
    """409: the object is in a state that forbids this (a run already finished, say)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was understood but cannot be processed."""


class RateLimitError(APIStatusError):
    """429: too many requests or tokens, or the quota is used up."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class APIResponseValidationError(APIError):
    """The server answered, but not with the object the endpoint promises (`null`, a bare list, a
    field of the wrong type): named as in the official SDK."""


class APIConnectionError(APIError):
    """No usable answer: the connection was refused, reset or cut off mid-stream.

    `sent` is False when the request surely never reached the server (refused, no route, connect
    timeout), so sending it again cannot do the work twice; True when it may have arrived.
    `unanswered` is set on a call that went out, got no answer and was not sent again (it may have
    done its work): what happened to it, in a few words, for callers that explain it their own way.
    """

    def __init__(self, message: str, *, sent: bool = True, unanswered: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent
        self.unanswered = unanswered


class APITimeoutError(APIConnectionError):
    """The connect or read timeout ran out."""


class APIUserAbortError(APIError):
    """The call was cut off, or not sent, because its client was aborted (a job being stopped).

    Not a connection error: the caller wanted it, so nothing sends it again. `sent` is False when
    the call was refused before it went out (nothing to count in the usage).
    """

    def __init__(self, message: str, *, sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent


class NotRecordedError(APIError):
    """Replaying a recording, a call that is not in it: it is not sent (there is no network to send it
    to); the message names how it differs from the nearest recorded call. Nothing retries it."""


class KeyFormatError(OpenAIError, ValueError):
    """The API key holds a character no HTTP header can carry (a line break, a control character,
    one outside Latin-1). Raised when the client is made, before anything is sent; never quotes the key."""
