"""The typed event stream of a response, in the order the API sends it.

    response.created, [response.queued], response.in_progress,
    per message:  response.output_item.added, response.content_part.added,
                  response.output_text.delta..., response.output_text.done,
                  response.content_part.done, response.output_item.done
    per function call: response.output_item.added, response.function_call_arguments.delta...,
                  response.function_call_arguments.done, response.output_item.done
    per MCP listing: response.output_item.added, response.mcp_list_tools.in_progress,
                  response.mcp_list_tools.completed | .failed, response.output_item.done
    per MCP call: response.output_item.added, response.mcp_call.in_progress,
                  response.mcp_call_arguments.delta..., response.mcp_call_arguments.done,
                  response.mcp_call.completed | .failed, response.output_item.done
    per MCP approval request: response.output_item.added, response.output_item.done
    response.completed | response.incomplete | response.failed

Every event carries its `type` and a `sequence_number` counting from 0. The events are derived
from the finished response, so a stored response can replay its stream (`starting_after`).
"""

from __future__ import annotations

from typing import Iterator

from . import textgen

__all__ = ["stream_events"]

TERMINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}


def stream_events(response: dict, *, queued: bool = False) -> list[dict]:
    """All the events of a finished response, numbered."""
    # Until it ends a response has no usage (the spec types it an object, so it is left out, not null).
    opening = {**{k: v for k, v in response.items() if k != "usage"}, "status": "queued" if queued else "in_progress",
               "output": [], "completed_at": None, "incomplete_details": None, "error": None}
    events: list[dict] = [{"type": "response.created", "response": opening}]
    if queued:
        events.append({"type": "response.queued", "response": opening})
    events.append({"type": "response.in_progress", "response": {**opening, "status": "in_progress"}})
    for index, item in enumerate(response["output"]):
        events += _item_events(index, item)
    terminal = TERMINAL_EVENTS.get(response["status"])
    if terminal is not None:
        events.append({"type": terminal, "response": response})
    return [{**event, "sequence_number": number} for number, event in enumerate(events)]


def _item_events(index: int, item: dict) -> Iterator[dict]:
    if item["type"] == "message":
        yield {"type": "response.output_item.added", "output_index": index,
               "item": {**item, "status": "in_progress", "content": []}}
        for part_index, part in enumerate(item["content"]):
            yield from _part_events(index, item["id"], part_index, part)
    elif item["type"] == "function_call":
        yield {"type": "response.output_item.added", "output_index": index,
               "item": {**item, "status": "in_progress", "arguments": ""}}
        for piece in textgen.tokens(item["arguments"]):
            yield {"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": index,
                   "delta": piece}
        yield {"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": index,
               "name": item["name"], "arguments": item["arguments"]}
    elif item["type"] == "mcp_list_tools":
        yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "tools": []}}
        yield from _progress(index, item, "response.mcp_list_tools", failed=bool(item.get("error")))
    elif item["type"] == "mcp_call":
        yield {"type": "response.output_item.added", "output_index": index,
               "item": {**item, "status": "in_progress", "arguments": "", "output": None, "error": None}}
        yield {"type": "response.mcp_call.in_progress", "item_id": item["id"], "output_index": index}
        for piece in textgen.tokens(item["arguments"]):
            yield {"type": "response.mcp_call_arguments.delta", "item_id": item["id"], "output_index": index,
                   "delta": piece}
        yield {"type": "response.mcp_call_arguments.done", "item_id": item["id"], "output_index": index,
               "arguments": item["arguments"]}
        yield from _progress(index, item, "response.mcp_call", failed=item["status"] == "failed", started=True)
    else:  # an approval request, and any other whole item: added and done
        yield {"type": "response.output_item.added", "output_index": index, "item": item}
    yield {"type": "response.output_item.done", "output_index": index, "item": item}


def _progress(index: int, item: dict, prefix: str, *, failed: bool, started: bool = False) -> Iterator[dict]:
    """An MCP item's in_progress (unless already sent) and completed or failed events."""
    where = {"item_id": item["id"], "output_index": index}
    if not started:
        yield {"type": f"{prefix}.in_progress", **where}
    yield {"type": f"{prefix}.{'failed' if failed else 'completed'}", **where}


def _part_events(index: int, item_id: str, part_index: int, part: dict) -> Iterator[dict]:
    where = {"item_id": item_id, "output_index": index, "content_index": part_index}
    yield {"type": "response.content_part.added", **where, "part": {**part, "text": ""}}
    for piece in textgen.tokens(part["text"]):
        yield {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []}
    yield {"type": "response.output_text.done", **where, "text": part["text"], "logprobs": []}
    yield {"type": "response.content_part.done", **where, "part": part}
