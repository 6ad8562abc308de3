"""Files, and the legacy fine-tunes that train on them."""

from __future__ import annotations

from typing import Any

from ..multipart import FileInput
from ..pagination import Page
from .base import Resource, STORED, seg


class Files(Resource):
    answer_fields = STORED

    def list(self, **params: Any) -> Page:
        """GET /files (purpose, limit, order, after)."""
        return self._list("/files", params)

    def create(self, file: FileInput, *, purpose: str, **params: Any) -> dict:
        """POST /files (multipart `file` + `purpose`), streamed from disk."""
        return self._upload("/files", {"file": file}, {"purpose": purpose, **params})

    def retrieve(self, file_id: str, **params: Any) -> dict:
        """GET /files/{file_id}"""
        return self._get(f"/files/{seg(file_id)}", params)

    def delete(self, file_id: str, **params: Any) -> dict:
        """DELETE /files/{file_id}"""
        return self._delete(f"/files/{seg(file_id)}", params)

    def content(self, file_id: str, **params: Any) -> bytes:
        """GET /files/{file_id}/content: the file's bytes."""
        return self._get(f"/files/{seg(file_id)}/content", params, expect="bytes")


class FineTunes(Resource):
    """The legacy /fine-tunes API."""

    answer_fields = STORED

    def list(self, **params: Any) -> Page:
        """GET /fine-tunes"""
        return self._list("/fine-tunes", params)

    def create(self, **params: Any) -> dict:
        """POST /fine-tunes"""
        return self._post("/fine-tunes", params)

    def retrieve(self, fine_tune_id: str, **params: Any) -> dict:
        """GET /fine-tunes/{fine_tune_id}"""
        return self._get(f"/fine-tunes/{seg(fine_tune_id)}", params)

    def cancel(self, fine_tune_id: str, **params: Any) -> dict:
        """POST /fine-tunes/{fine_tune_id}/cancel"""
        return self._post(f"/fine-tunes/{seg(fine_tune_id)}/cancel", params)

    def list_events(self, fine_tune_id: str, *, stream: bool = False, **params: Any) -> Any:
        """GET /fine-tunes/{fine_tune_id}/events; `stream=True` follows new events as they come."""
        path = f"/fine-tunes/{seg(fine_tune_id)}/events"
        if stream:
            return self._get(path, {**params, "stream": True}, stream="chunks")
        return self._list(path, params)
