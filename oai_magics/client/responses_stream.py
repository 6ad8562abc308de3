"""Building a Responses API answer out of its stream of typed events.

`ResponseAccumulator` is fed the event objects of a `responses.create(stream=True)` stream one by one
and keeps the output items as they grow: message text from `response.output_text.delta`, function
call arguments from `response.function_call_arguments.delta` (an MCP call's from
`response.mcp_call_arguments.delta`), whole items (`mcp_list_tools`, `mcp_approval_request` ...) from
`response.output_item.done`, the response itself from `response.created` ... `response.completed`.
Whatever happens to the stream, what arrived is kept: `text` is the partial reply of a stream that
broke off. Unknown event and item types are carried along untouched.

After each `add()`, `new_snapshot` and `new_item` say whether the event carried the response or a
whole output item, so a reader that acts per event (the responses back end's run handle) reads
the stream through this one class too.

It is also an accumulator in the sense of `accumulate`: `add()` returns the text pieces an event
added and `reply` is the `Reply` built so far (text, function calls in the chat shape, usage), so
`accumulate.consume(stream, ResponseAccumulator(), on_text)` handles Ctrl-C and broken streams for
Responses exactly as for chat.

`output_text()` and `function_calls()` read a finished response dict: the API sends no
`output_text` (it is an SDK convenience), so it is computed here.
"""

from __future__ import annotations

import copy
from typing import Iterable, Iterator

from .accumulate import Reply, checked_index

__all__ = ["ResponseAccumulator", "output_text", "function_calls"]

# Events whose `response` is the response object as the server sees it at that moment.
_SNAPSHOT_EVENTS = frozenset({
    "response.created", "response.in_progress", "response.queued",
    "response.completed", "response.failed", "response.incomplete",
})
_TERMINAL_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete"})
# The events that stream a call's arguments, and the type of item they belong to.
_ARGUMENT_DELTAS = {"response.function_call_arguments.delta": "function_call", "response.mcp_call_arguments.delta": "mcp_call"}
_ARGUMENTS_DONE = {"response.function_call_arguments.done": "function_call", "response.mcp_call_arguments.done": "mcp_call"}
# A response's status as the finish reason chat callers know.
_FINISH_REASONS = {"completed": "stop", "incomplete": "length", "failed": "error", "cancelled": "cancelled"}


def output_text(response: dict) -> str:
    """The text of every `output_text` part of the response's messages, joined."""
    return "".join(
        part.get("text") or ""
        for item in response.get("output") or []
        if item.get("type") == "message"
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


def function_calls(response: dict) -> list[dict]:
    """The `function_call` items a response asks the caller to run (name, call_id, arguments)."""
    return [item for item in response.get("output") or [] if item.get("type") == "function_call"]


class ResponseAccumulator:
    """Feed it stream events (`add`, or iterate `consume(stream)`); read the response as it grows."""

    def __init__(self) -> None:
        self.snapshot: dict | None = None  # the latest `response` a snapshot event carried
        self.items: list[dict] = []  # output items, in output_index order
        self.events = 0
        self.finished = False  # a terminal event arrived
        self.reply = Reply()
        # What the latest event brought, for a reader that reacts per event (a run's handle):
        self.new_snapshot = False  # it carried the response (status, and at the end its output)
        self.new_item: dict | None = None  # the whole output item it added or finished
        # Text deltas are collected as pieces per (output index, content index) and joined when
        # read, so a long reply costs linear time.
        self._texts: dict[tuple[int, int], list[str]] = {}

    # -- feeding -------------------------------------------------------------------------------
    def consume(self, events: Iterable[dict]) -> Iterator[dict]:
        """Pass the events through, adding each; the accumulator keeps what came if they fail."""
        for event in events:
            self.add(event)
            yield event

    def add(self, event: dict) -> list[tuple[int, str]]:
        """Take one event into account; the text pieces it added, as (0, text).

        Unknown event types are counted and otherwise ignored.
        """
        self.events += 1
        self.reply.chunks += 1
        self.new_snapshot, self.new_item = False, None
        kind = event.get("type", "")
        if kind in _SNAPSHOT_EVENTS and isinstance(event.get("response"), dict):
            self._snapshot(event["response"], kind in _TERMINAL_EVENTS)
            self.new_snapshot = True
        elif kind in ("response.output_item.added", "response.output_item.done") and isinstance(event.get("item"), dict):
            self._set_item(event, copy.deepcopy(event["item"]))
            self.new_item = event["item"]
        elif kind in ("response.content_part.added", "response.content_part.done") and isinstance(event.get("part"), dict):
            self._set_part(event, copy.deepcopy(event["part"]))
        elif kind == "response.output_text.delta":
            piece = str(event.get("delta") or "")
            self._pieces(event).append(piece)
            if piece:
                self.reply.choice(0).add_text(piece)
                return [(0, piece)]
        elif kind == "response.output_text.done" and isinstance(event.get("text"), str):
            self._pieces(event)[:] = [event["text"]]
        elif kind == "response.refusal.delta":
            part = self._part(event, {"type": "refusal", "refusal": ""})
            part["refusal"] = (part.get("refusal") or "") + str(event.get("delta") or "")
        elif kind in _ARGUMENT_DELTAS:
            item = self._item(event, {"type": _ARGUMENT_DELTAS[kind], "arguments": ""})
            item["arguments"] = (item.get("arguments") or "") + str(event.get("delta") or "")
        elif kind in _ARGUMENTS_DONE and "arguments" in event:
            self._item(event, {"type": _ARGUMENTS_DONE[kind]})["arguments"] = event["arguments"]
        return []

    def _snapshot(self, response: dict, terminal: bool) -> None:
        self.snapshot = response
        self.reply.model = response.get("model") or self.reply.model
        if not terminal:
            return
        self.finished = True
        self.reply.usage = response.get("usage") or self.reply.usage
        choice = self.reply.choice(0)
        final = self.response
        if not choice.text and output_text(final):  # a server that sent the text only at the end
            choice.add_text(output_text(final))
        # Function calls join the reply once the response is over: only then are they complete.
        for index, item in enumerate(final.get("output") or []):
            if item.get("type") == "function_call":
                self._reply_call(index, item)
        choice.finish_reason = "tool_calls" if choice.tool_calls else _FINISH_REASONS.get(str(response.get("status")))

    def _reply_call(self, index: int, item: dict) -> None:
        """A finished function call, in the chat shape the `Reply` keeps (its id is the call_id)."""
        self.reply.choice(0).add_call_delta({"index": index, "id": item.get("call_id") or item.get("id") or "",
                                             "type": "function", "function": {"name": item.get("name") or "",
                                                                              "arguments": item.get("arguments") or ""}})

    # -- reading -------------------------------------------------------------------------------
    @property
    def response(self) -> dict:
        """The response as far as it is known; its output is what the stream delivered."""
        self._settle()
        response = dict(self.snapshot or {"object": "response", "status": "in_progress"})
        final_output = response.get("output")
        # A terminal snapshot carries the full output; before it (or from a rough server that
        # leaves it empty) the items built from the deltas are the best account.
        if not (self.finished and final_output):
            response["output"] = copy.deepcopy(self.items)
        return response

    @property
    def text(self) -> str:
        """The reply text so far (complete once `finished`)."""
        return output_text(self.response)

    @property
    def function_calls(self) -> list[dict]:
        """The function calls asked for so far."""
        return function_calls(self.response)

    @property
    def status(self) -> str | None:
        return (self.snapshot or {}).get("status")

    # -- internals -----------------------------------------------------------------------------
    def _pieces(self, event: dict) -> list[str]:
        """The text pieces of the part an event refers to (the part is made if missing)."""
        part = self._part(event, {"type": "output_text", "text": "", "annotations": []})
        key = (self._index(event), self._content_index(event, self._content(event)))
        return self._texts.setdefault(key, [part.get("text") or ""])

    def _settle(self) -> None:
        """Join the collected text pieces into their parts."""
        for (index, content_index), pieces in self._texts.items():
            if len(pieces) != 1:
                pieces[:] = ["".join(pieces)]
            self.items[index]["content"][content_index]["text"] = pieces[0]

    def _index(self, event: dict, item_id: str | None = None, new: bool = False) -> int:
        """The output index an event refers to: by `output_index`, else by item id, else a new
        item (for a whole item) or the last one (for a delta)."""
        index = event.get("output_index")
        if isinstance(index, int) and index >= 0:
            return checked_index(index, len(self.items), "output")
        wanted = item_id or event.get("item_id")
        for position, item in enumerate(self.items):
            if wanted is not None and item.get("id") == wanted:
                return position
        return len(self.items) if new or not self.items else len(self.items) - 1

    def _set_item(self, event: dict, item: dict) -> None:
        index = self._index(event, item.get("id"), new=True)
        while len(self.items) <= index:
            self.items.append({})
        self.items[index] = item
        # A whole item is the truth about its text: collected pieces give way to its parts.
        self._texts = {key: pieces for key, pieces in self._texts.items() if key[0] != index}
        for content_index, part in enumerate(item.get("content") or []):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                self._texts[(index, content_index)] = [part["text"]]

    def _item(self, event: dict, default: dict) -> dict:
        index = self._index(event)
        while len(self.items) <= index:
            self.items.append({})
        if not self.items[index]:
            self.items[index] = {**default, **({"id": event["item_id"]} if event.get("item_id") else {})}
        return self.items[index]

    def _set_part(self, event: dict, part: dict) -> None:
        content = self._content(event)
        index = self._content_index(event, content)
        while len(content) <= index:
            content.append({})
        content[index] = part
        key = (self._index(event), index)
        if isinstance(part.get("text"), str) and (part["text"] or key not in self._texts):
            self._texts[key] = [part["text"]]  # a whole part (content_part.done) replaces the pieces

    def _part(self, event: dict, default: dict) -> dict:
        content = self._content(event)
        index = self._content_index(event, content)
        while len(content) <= index:
            content.append({})
        if not content[index]:
            content[index] = dict(default)
        return content[index]

    def _content(self, event: dict) -> list:
        item = self._item(event, {"type": "message", "role": "assistant", "content": []})
        if not isinstance(item.get("content"), list):
            item["content"] = []
        return item["content"]

    @staticmethod
    def _content_index(event: dict, content: list) -> int:
        index = event.get("content_index")
        if isinstance(index, int) and index >= 0:
            return checked_index(index, len(content), "content part")
        return max(len(content) - 1, 0)
