"""The `responses` back end on a server with /responses but no Conversations API (LiteLLM, vLLM):
a thread is a local record whose items (messages, function calls and their outputs) are kept in
the `AssistantStore`, and each response of a run continues the thread's last one
(`previous_response_id`) with the items it has not seen yet.

A server that keeps no responses (it refuses `previous_response_id`) is sent the thread's items
whole instead; that is found at the first refusal and remembered for the server. Runs are not in
the background here (few such servers have it): a run is streamed, or answered whole.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Mapping, Sequence

from .base import RUN_TIMEOUT, MessageRecord, ThreadRecord
from .chooser import Probed
from .resolve import NotFound
from .responses_api import ResponsesBackend, user_input
from .responses_records import item_message
from .store import AssistantStore

__all__ = ["ChainedResponsesBackend"]


def _replayable(item: dict) -> dict:
    """An item as input to a server that keeps nothing: without the id that server never gave."""
    return {k: v for k, v in item.items() if k not in ("id", "status")}


class ChainedResponsesBackend(ResponsesBackend):
    """Responses chained by `previous_response_id`, with the threads and their items kept locally."""

    def __init__(self, client: Any, store: AssistantStore, run_timeout: float = RUN_TIMEOUT,
                 probed: Probed | None = None) -> None:
        super().__init__(client, store, run_timeout)
        self.probed = probed or Probed("responses", "asked for", conversations=False)  # remembers a stateless server

    # -- threads and their items (local) ------------------------------------------------------------
    def create_thread(self, messages: Sequence[str] = (), *, metadata: Mapping[str, str] | None = None,
                      title: str | None = None) -> ThreadRecord:
        thread_id = f"thread_{uuid.uuid4().hex[:24]}"
        meta = {**({"title": title} if title else {}), **dict(metadata or {})}
        self.store.add_thread(self.server, thread_id, title or (messages[0][:60] if messages else None), meta,
                              int(time.time()))
        self.store.add_messages(self.server, thread_id, [{"item": user_input(text, ())} for text in messages])
        return self.get_thread(thread_id)

    def get_thread(self, thread_id: str) -> ThreadRecord:
        found = next((t for t in self.list_threads() if t["id"] == thread_id), None)
        if found is None:
            raise NotFound(f"no thread {thread_id!r} in the local store of {self.server}")
        return found

    def delete_thread(self, thread_id: str) -> None:
        self.get_thread(thread_id)
        self.store.delete_thread(self.server, thread_id)

    def list_messages(self, thread_id: str) -> list[MessageRecord]:
        self.get_thread(thread_id)
        found = [item_message({"id": m["id"], **m["item"]}, thread_id) for m in self.store.messages(self.server, thread_id)]
        return [m for m in found if m is not None]

    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = ()) -> MessageRecord:
        self.get_thread(thread_id)
        added = self.store.add_messages(self.server, thread_id, [{"item": user_input(text, file_ids)}])[0]
        message = item_message({"id": added["id"], **added["item"]}, thread_id)
        assert message is not None, "a user message is a message"
        return message

    # -- how a response joins its thread: after the thread's last response -----------------------------
    def respond(self, thread_id: str, items: list[dict], settings: dict) -> Any:
        """Ask for one response: the items the chain has not seen (or, on a server that keeps no
        responses, all of them) and `items`; these join the thread once the server took them."""
        from ..client import APIStatusError

        kept = self.store.messages(self.server, thread_id)
        head = next((m["response_id"] for m in reversed(kept) if m.get("response_id")), None)
        try:
            answer = self._create(kept, head, items, settings)
        except APIStatusError as exc:
            if not (head and self.probed.stores_responses and exc.status_code in (400, 404)):
                raise
            self.probed.stores_responses = False  # it did not know the last response: send the items instead
            answer = self._create(kept, head, items, settings)
        self.store.add_messages(self.server, thread_id, [{"item": item} for item in items])
        return answer

    def _create(self, kept: list[dict], head: str | None, items: list[dict], settings: dict) -> Any:
        if head and self.probed.stores_responses:
            context = {"previous_response_id": head, "input": [m["item"] for m in kept if not m.get("response_id")]}
        else:
            context = {"input": [_replayable(m["item"]) for m in kept]}
        body = {**settings, **context, "store": True}
        body["input"] = body["input"] + items
        return self.client.responses.create(**{k: v for k, v in body.items() if v not in (None, {})})

    def answered(self, thread_id: str, response: dict) -> None:
        """The response took the thread's waiting items and answered: its output joins the thread."""
        self.store.answer_messages(self.server, thread_id, response["id"],
                                   [{"item": item} for item in response.get("output") or []
                                    if item.get("type") in ("message", "function_call")])
