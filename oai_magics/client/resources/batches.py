"""The Batch API: a JSONL file of requests handed to the provider, answered within a window."""

from __future__ import annotations

from typing import Any

from ..pagination import Page
from .base import Resource, STORED, seg

__all__ = ["Batches"]


class Batches(Resource):
    answer_fields = STORED

    def create(self, *, input_file_id: str, endpoint: str, completion_window: str = "24h", **params: Any) -> dict:
        """POST /batches (metadata optional)."""
        return self._post("/batches", {"input_file_id": input_file_id, "endpoint": endpoint,
                                       "completion_window": completion_window, **params})

    def retrieve(self, batch_id: str, **params: Any) -> dict:
        """GET /batches/{batch_id}"""
        return self._get(f"/batches/{seg(batch_id)}", params)

    def cancel(self, batch_id: str, **params: Any) -> dict:
        """POST /batches/{batch_id}/cancel"""
        return self._post(f"/batches/{seg(batch_id)}/cancel", params)

    def list(self, **params: Any) -> Page:
        """GET /batches (limit, after)."""
        return self._list("/batches", params)
