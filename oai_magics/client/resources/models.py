"""Models, and the legacy engines that preceded them."""

from __future__ import annotations

from typing import Any

from ..pagination import Page
from .base import Resource, STORED, seg


class Models(Resource):
    answer_fields = STORED

    def list(self, **params: Any) -> Page:
        """GET /models"""
        return self._list("/models", params)

    def retrieve(self, model: str, **params: Any) -> dict:
        """GET /models/{model}"""
        return self._get(f"/models/{seg(model)}", params)

    def delete(self, model: str, **params: Any) -> dict:
        """DELETE /models/{model}: a fine-tuned model of your organisation."""
        return self._delete(f"/models/{seg(model)}", params)


class Engines(Resource):
    """Deprecated by the API in favour of models; kept for older servers."""

    answer_fields = STORED

    def list(self, **params: Any) -> Page:
        """GET /engines"""
        return self._list("/engines", params)

    def retrieve(self, engine_id: str, **params: Any) -> dict:
        """GET /engines/{engine_id}"""
        return self._get(f"/engines/{seg(engine_id)}", params)
