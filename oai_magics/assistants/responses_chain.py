"""The `responses` back end on a server with /responses but no Conversations API (LiteLLM, vLLM):
a thread is a local record whose items (messages, function calls and their outputs) are kept in
the `AssistantStore`, and each response of a run continues the thread's last one
(`previous_response_id`) with the items it has not seen yet.

A server that keeps no responses (it refuses `previous_response_id`) is sent the thread's items
whole instead; that is found at the first refusal and remembered for the server. Runs are not in
the background here (few such servers have it): a run is streamed, or answered whole.
"""

from __future__ import annotations

from typing import Any, Sequence

from .base import RUN_TIMEOUT, MessageRecord, Probed, ToolCall
from .local_assistants import LocalThreads
from .responses_api import CANCELLED_OUTPUT, ResponsesBackend, user_input
from .responses_records import answer_item, item_message
from .store import AssistantStore

__all__ = ["ChainedResponsesBackend"]


# The output items a thread keeps: what the next response must be sent again (an MCP server's
# listing, so it is not listed again; an approval request, which the next input answers).
KEPT_OUTPUT = ("message", "function_call", "mcp_list_tools", "mcp_approval_request", "mcp_call")


def _replayable(item: dict) -> dict:
    """An item as input to a server that keeps nothing: without the id that server never gave (an MCP
    item keeps its id: an approval answers a request by it)."""
    dropped = ("status",) if str(item.get("type", "")).startswith("mcp_") else ("id", "status")
    return {k: v for k, v in item.items() if k not in dropped}


class ChainedResponsesBackend(LocalThreads, ResponsesBackend):
    """Responses chained by `previous_response_id`, with the threads and their items kept locally."""

    shape = "item"  # messages are kept as Responses input items

    def __init__(self, client: Any, store: AssistantStore, run_timeout: float = RUN_TIMEOUT,
                 probed: Probed | None = None) -> None:
        super().__init__(client, store, run_timeout)
        self.probed = probed or Probed("responses", "asked for", conversations=False)  # remembers a stateless server

    # -- threads and their items (local: `LocalThreads`) ----------------------------------------------
    def _user_message(self, text: str) -> dict:
        return {"item": user_input(text, ())}

    def _message_record(self, stored: dict, thread_id: str) -> MessageRecord | None:
        return item_message({"id": stored["id"], "created_at": stored.get("created_at"), **stored["item"]}, thread_id)

    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = (),
                    parts: Sequence[dict] = ()) -> MessageRecord:
        return self._add_local_message(thread_id, {"item": user_input(text, file_ids, parts)})

    def _answer_cancelled(self, thread_id: str, calls: Sequence[ToolCall]) -> None:
        """The calls a cancelled run leaves behind are answered in the thread; its next run sends that."""
        self.store.add_messages(self.server, thread_id, [
            {"item": answer_item(call, CANCELLED_OUTPUT)} for call in calls])

    # -- responses: kept locally as they came, for a server that keeps none ----------------------------
    def keep(self, response: dict) -> None:
        self.store.keep_response(self.server, response)

    def _response(self, response_id: str) -> dict:
        """The response as it came, when it came to an end here; else the server's (a run followed
        elsewhere, or one whose stream broke off)."""
        kept = self.store.kept_response(self.server, response_id)
        if kept is not None and kept.get("status") not in ("queued", "in_progress"):
            return kept
        return super()._response(response_id)

    def read_back(self, response: dict) -> dict:
        """The server's copy of a response whose stream broke; a server that keeps none cannot
        say how it ended, so it ends here as failed (nothing goes on that could be asked later)."""
        from ..client import APIStatusError

        try:
            return super().read_back(response)
        except APIStatusError as exc:
            if exc.status_code not in (400, 404):
                raise
        return {**response, "status": "failed", "error": {
            "code": "stream_broken", "message": "the server keeps no responses to read the rest of the reply from; "
                                                "what streamed is kept"}}

    # -- how a response joins its thread: after the thread's last response -----------------------------
    def respond(self, thread_id: str, items: list[dict], settings: dict) -> Any:
        """Ask for one response: the items the chain has not seen (or, on a server that keeps no
        responses, all of them) and `items`; these join the thread once the server took them."""
        from ..client import APIStatusError

        self.get_thread(thread_id)  # a thread of this store, kept in this back end's shape
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
                                    if item.get("type") in KEPT_OUTPUT])
