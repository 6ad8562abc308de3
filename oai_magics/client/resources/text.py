"""Text generation: chat completions, legacy completions (also per engine) and legacy edits."""

from __future__ import annotations

from typing import Any

from .base import Resource, seg


class ChatCompletions(Resource):
    def create(self, **params: Any) -> Any:
        """POST /chat/completions; with `stream=True` a Stream of chunk dicts."""
        return self._post("/chat/completions", params, fields={"choices": list})


class Chat:
    """`client.chat.completions`, as in the official SDK."""

    def __init__(self, requester: Any) -> None:
        self.completions = ChatCompletions(requester)


class Completions(Resource):
    def create(self, *, engine_id: str | None = None, **params: Any) -> Any:
        """POST /completions, or POST /engines/{engine_id}/completions; `stream=True` streams."""
        path = f"/engines/{seg(engine_id)}/completions" if engine_id else "/completions"
        return self._post(path, params, fields={"choices": list})


class Edits(Resource):
    def create(self, **params: Any) -> dict:
        """POST /edits (legacy)."""
        return self._post("/edits", params, fields={"choices": list})

