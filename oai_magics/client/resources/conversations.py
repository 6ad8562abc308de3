"""The Conversations API: conversations and their items."""

from __future__ import annotations

from typing import Any

from ..pagination import Page
from .base import Resource, STORED, seg

__all__ = ["Conversations", "ConversationItems"]


def _conversation(conversation_id: str) -> str:
    return f"/conversations/{seg(conversation_id)}"


class ConversationItems(Resource):
    """/conversations/{conversation_id}/items. As in the official SDK, item ids come first."""

    def create(self, conversation_id: str, **params: Any) -> dict:
        """POST /conversations/{conversation_id}/items (items: up to 20; include as a query)."""
        if "include" in params:  # a query parameter of this POST, not a body field
            params["extra_query"] = {**(params.get("extra_query") or {}), "include": params.pop("include")}
        return self._post(f"{_conversation(conversation_id)}/items", params)

    def list(self, conversation_id: str, **params: Any) -> Page:
        """GET /conversations/{conversation_id}/items (limit, order, after, include)."""
        return self._list(f"{_conversation(conversation_id)}/items", params)

    def retrieve(self, item_id: str, *, conversation_id: str, **params: Any) -> dict:
        """GET /conversations/{conversation_id}/items/{item_id}"""
        return self._get(f"{_conversation(conversation_id)}/items/{seg(item_id)}", params)

    def delete(self, item_id: str, *, conversation_id: str, **params: Any) -> dict:
        """DELETE /conversations/{conversation_id}/items/{item_id}: answers with the conversation."""
        return self._delete(f"{_conversation(conversation_id)}/items/{seg(item_id)}", params)


class Conversations(Resource):
    answer_fields = STORED

    def __init__(self, requester: Any) -> None:
        super().__init__(requester)
        self.items = ConversationItems(requester)

    def create(self, **params: Any) -> dict:
        """POST /conversations (items, metadata)."""
        return self._post("/conversations", params)

    def retrieve(self, conversation_id: str, **params: Any) -> dict:
        """GET /conversations/{conversation_id}"""
        return self._get(_conversation(conversation_id), params)

    def update(self, conversation_id: str, **params: Any) -> dict:
        """POST /conversations/{conversation_id} (metadata)."""
        return self._post(_conversation(conversation_id), params)

    def delete(self, conversation_id: str, **params: Any) -> dict:
        """DELETE /conversations/{conversation_id}: the items are kept, as in the API."""
        return self._delete(_conversation(conversation_id), params)
