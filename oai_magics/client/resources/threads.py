"""Threads, their messages (and v1 message files), runs and run steps."""

from __future__ import annotations

from typing import Any

from ..pagination import Page
from .base import AssistantsResource, AssistantsV1Resource, STORED, seg


def _thread(thread_id: str) -> str:
    return f"/threads/{seg(thread_id)}"


class MessageFiles(AssistantsV1Resource):
    """/threads/{thread_id}/messages/{message_id}/files: Assistants v1 only."""

    answer_fields = STORED

    def list(self, thread_id: str, message_id: str, **params: Any) -> Page:
        """GET /threads/{thread_id}/messages/{message_id}/files"""
        return self._list(f"{_thread(thread_id)}/messages/{seg(message_id)}/files", params)

    def retrieve(self, thread_id: str, message_id: str, file_id: str, **params: Any) -> dict:
        """GET /threads/{thread_id}/messages/{message_id}/files/{file_id}"""
        return self._get(f"{_thread(thread_id)}/messages/{seg(message_id)}/files/{seg(file_id)}", params)


class Messages(AssistantsResource):
    answer_fields = STORED

    def __init__(self, requester: Any) -> None:
        super().__init__(requester)
        self.files = MessageFiles(requester)

    def list(self, thread_id: str, **params: Any) -> Page:
        """GET /threads/{thread_id}/messages (limit, order, after, before, run_id)."""
        return self._list(f"{_thread(thread_id)}/messages", params)

    def create(self, thread_id: str, **params: Any) -> dict:
        """POST /threads/{thread_id}/messages"""
        return self._post(f"{_thread(thread_id)}/messages", params)

    def retrieve(self, thread_id: str, message_id: str, **params: Any) -> dict:
        """GET /threads/{thread_id}/messages/{message_id}"""
        return self._get(f"{_thread(thread_id)}/messages/{seg(message_id)}", params)

    def update(self, thread_id: str, message_id: str, **params: Any) -> dict:
        """POST /threads/{thread_id}/messages/{message_id}"""
        return self._post(f"{_thread(thread_id)}/messages/{seg(message_id)}", params)

    def delete(self, thread_id: str, message_id: str, **params: Any) -> dict:
        """DELETE /threads/{thread_id}/messages/{message_id}"""
        return self._delete(f"{_thread(thread_id)}/messages/{seg(message_id)}", params)


class Steps(AssistantsResource):
    answer_fields = STORED

    def list(self, thread_id: str, run_id: str, **params: Any) -> Page:
        """GET /threads/{thread_id}/runs/{run_id}/steps"""
        return self._list(f"{_thread(thread_id)}/runs/{seg(run_id)}/steps", params)

    def retrieve(self, thread_id: str, run_id: str, step_id: str, **params: Any) -> dict:
        """GET /threads/{thread_id}/runs/{run_id}/steps/{step_id}"""
        return self._get(f"{_thread(thread_id)}/runs/{seg(run_id)}/steps/{seg(step_id)}", params)


class Runs(AssistantsResource):
    answer_fields = STORED

    def __init__(self, requester: Any) -> None:
        super().__init__(requester)
        self.steps = Steps(requester)

    def list(self, thread_id: str, **params: Any) -> Page:
        """GET /threads/{thread_id}/runs"""
        return self._list(f"{_thread(thread_id)}/runs", params)

    def create(self, thread_id: str, **params: Any) -> Any:
        """POST /threads/{thread_id}/runs; `stream=True` yields {"event", "data"} dicts."""
        return self._post(f"{_thread(thread_id)}/runs", params, events=True)

    def retrieve(self, thread_id: str, run_id: str, **params: Any) -> dict:
        """GET /threads/{thread_id}/runs/{run_id}"""
        return self._get(f"{_thread(thread_id)}/runs/{seg(run_id)}", params)

    def update(self, thread_id: str, run_id: str, **params: Any) -> dict:
        """POST /threads/{thread_id}/runs/{run_id} (metadata)."""
        return self._post(f"{_thread(thread_id)}/runs/{seg(run_id)}", params)

    def cancel(self, thread_id: str, run_id: str, **params: Any) -> dict:
        """POST /threads/{thread_id}/runs/{run_id}/cancel"""
        return self._post(f"{_thread(thread_id)}/runs/{seg(run_id)}/cancel", params)

    def submit_tool_outputs(self, thread_id: str, run_id: str, **params: Any) -> Any:
        """POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs; `stream=True` streams."""
        return self._post(f"{_thread(thread_id)}/runs/{seg(run_id)}/submit_tool_outputs", params, events=True)


class Threads(AssistantsResource):
    answer_fields = STORED

    def __init__(self, requester: Any) -> None:
        super().__init__(requester)
        self.messages = Messages(requester)
        self.runs = Runs(requester)

    def list(self, **params: Any) -> Page:
        """GET /threads (in the reference client, in no published spec)."""
        return self._list("/threads", params)

    def create(self, **params: Any) -> dict:
        """POST /threads"""
        return self._post("/threads", params)

    def retrieve(self, thread_id: str, **params: Any) -> dict:
        """GET /threads/{thread_id}"""
        return self._get(_thread(thread_id), params)

    def update(self, thread_id: str, **params: Any) -> dict:
        """POST /threads/{thread_id}"""
        return self._post(_thread(thread_id), params)

    def delete(self, thread_id: str, **params: Any) -> dict:
        """DELETE /threads/{thread_id}"""
        return self._delete(_thread(thread_id), params)

    def create_and_run(self, **params: Any) -> Any:
        """POST /threads/runs; `stream=True` yields {"event", "data"} dicts."""
        return self._post("/threads/runs", params, events=True)
