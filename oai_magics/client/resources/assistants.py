"""Assistants, and the files attached to them (Assistants v1 only)."""

from __future__ import annotations

from typing import Any

from ..pagination import Page
from .base import AssistantsResource, AssistantsV1Resource, STORED, seg


class AssistantFiles(AssistantsV1Resource):
    """/assistants/{assistant_id}/files: removed in v2, so always sent as v1."""

    answer_fields = STORED

    def list(self, assistant_id: str, **params: Any) -> Page:
        """GET /assistants/{assistant_id}/files"""
        return self._list(f"/assistants/{seg(assistant_id)}/files", params)

    def create(self, assistant_id: str, *, file_id: str, **params: Any) -> dict:
        """POST /assistants/{assistant_id}/files"""
        return self._post(f"/assistants/{seg(assistant_id)}/files", {"file_id": file_id, **params})

    def retrieve(self, assistant_id: str, file_id: str, **params: Any) -> dict:
        """GET /assistants/{assistant_id}/files/{file_id}"""
        return self._get(f"/assistants/{seg(assistant_id)}/files/{seg(file_id)}", params)

    def delete(self, assistant_id: str, file_id: str, **params: Any) -> dict:
        """DELETE /assistants/{assistant_id}/files/{file_id}"""
        return self._delete(f"/assistants/{seg(assistant_id)}/files/{seg(file_id)}", params)


class Assistants(AssistantsResource):
    answer_fields = STORED

    def __init__(self, requester: Any) -> None:
        super().__init__(requester)
        self.files = AssistantFiles(requester)

    def list(self, **params: Any) -> Page:
        """GET /assistants (limit, order, after, before)."""
        return self._list("/assistants", params)

    def create(self, **params: Any) -> dict:
        """POST /assistants"""
        return self._post("/assistants", params)

    def retrieve(self, assistant_id: str, **params: Any) -> dict:
        """GET /assistants/{assistant_id}"""
        return self._get(f"/assistants/{seg(assistant_id)}", params)

    def update(self, assistant_id: str, **params: Any) -> dict:
        """POST /assistants/{assistant_id}"""
        return self._post(f"/assistants/{seg(assistant_id)}", params)

    def delete(self, assistant_id: str, **params: Any) -> dict:
        """DELETE /assistants/{assistant_id}"""
        return self._delete(f"/assistants/{seg(assistant_id)}", params)
