"""The OpenAI error envelope, rendered in one place.

Handlers raise `ApiError`; the app turns it into
`{"error": {"message", "type", "param", "code"}}` with the right status.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ApiError", "invalid", "not_found", "error_response"]


class ApiError(Exception):
    """An error answer, as the OpenAI API would give it."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """400 invalid_request_error, naming the parameter at fault."""
    return ApiError(400, message, param=param, code=code)


def not_found(kind: str, object_id: str, param: str | None = None) -> ApiError:
    """404 for an id that does not exist, worded as the API words it."""
    return ApiError(404, f"No {kind} found with id '{object_id}'.", param=param)


def error_body(status: int, message: str, type: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(error: ApiError) -> JSONResponse:
    body = error_body(error.status, error.message, error.type, error.param, error.code)
    return JSONResponse(body, status_code=error.status, headers=error.headers)
