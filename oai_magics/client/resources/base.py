"""What every endpoint group shares: splitting call options from API parameters, and the verbs."""

from __future__ import annotations

from typing import Any, Literal, Mapping
from urllib.parse import quote

from ..core import REQUEST_OPTIONS, Requester
from ..pagination import Page

__all__ = ["Resource", "AssistantsResource", "AssistantsV1Resource", "seg", "STORED"]

STORED: Mapping[str, type] = {"id": str}  # an object the API keeps, and that later calls refer to by its id


def seg(value: str) -> str:
    """One path segment, escaped so an id can never change the path.

    `/`, `?`, `#` and `%` are escaped by `quote`; the dot segments `.` and `..` are escaped by hand
    (`quote` leaves dots alone, and URLs resolve them away), and the transport keeps the `%2E`.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty id string, got {value!r}")
    escaped = quote(value, safe="")
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def split(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(API parameters, request options such as timeout and extra_headers)."""
    api = {k: v for k, v in params.items() if k not in REQUEST_OPTIONS}
    options = {k: v for k, v in params.items() if k in REQUEST_OPTIONS}
    return api, options


class Resource:
    """A group of endpoints. Subclasses build paths and bodies; the verbs below send them.

    `answer_fields` is what every JSON answer of the group has, with its type (`STORED`: an `id`, for
    objects the API keeps); a method whose answer promises other fields names them in `fields=`.
    """

    answer_fields: Mapping[str, type] = {}

    def __init__(self, requester: Requester) -> None:
        self._r = requester

    def _promised(self, kw: dict[str, Any]) -> dict[str, Any]:
        kw.setdefault("fields", self.answer_fields)
        return kw

    @property
    def _beta(self) -> str | None:
        return None

    def _get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        query, options = split(params or {})
        return self._r.request("GET", path, query=query, beta=self._beta, options=options, **self._promised(kw))

    def _list(self, path: str, params: Mapping[str, Any] | None = None) -> Page:
        query, options = split(params or {})
        return self._r.page(path, query=query, beta=self._beta, options=options)

    def _post(self, path: str, params: Mapping[str, Any] | None = None, *, events: bool = False, **kw: Any) -> Any:
        """POST a JSON body; `stream=True` in the body makes the answer a Stream."""
        body, options = split(params or {})
        stream: Literal["chunks", "events"] | None = ("events" if events else "chunks") if body.get("stream") else None
        # A POST without parameters (cancel, say) sends no body at all, as the API expects.
        return self._r.request("POST", path, body=body or None, beta=self._beta, stream=stream, options=options,
                               **self._promised(kw))

    def _upload(self, path: str, files: Mapping[str, Any], params: Mapping[str, Any], **kw: Any) -> Any:
        """POST a multipart body: `files` are uploads, `params` plain form fields."""
        fields, options = split(params)
        return self._r.request("POST", path, body=fields, files=files, beta=self._beta, options=options,
                               **self._promised(kw))

    def _delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        _, options = split(params or {})
        return self._r.request("DELETE", path, beta=self._beta, options=options, fields=self.answer_fields)


class AssistantsResource(Resource):
    """Assistants-family endpoints send `OpenAI-Beta: assistants=<configured version>`."""

    @property
    def _beta(self) -> str | None:
        return self._r.assistants_version


class AssistantsV1Resource(Resource):
    """Endpoints that exist only in Assistants v1 always send `OpenAI-Beta: assistants=v1`."""

    @property
    def _beta(self) -> str | None:
        return "v1"
