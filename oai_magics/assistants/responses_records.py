"""Responses and Conversations objects as the back-end-neutral records of `base`, and tool shapes.

A run is a chain of responses on one conversation: its id is the first response's, its state is
the latest's. A response that completed with `function_call` items not yet answered is a run that
requires action.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..tools import responses_tool
from .base import MessageRecord, RunRecord, StepRecord, ToolCall, Unsupported, reason

__all__ = ["flat_tools", "item_message", "run_from_response", "item_step"]


def flat_tools(tools: Sequence[dict]) -> list[dict]:
    """Chat/Assistants tool specs in the flat Responses shape (strict only where the schema is ready)."""
    flat = []
    for tool in tools:
        kind = tool.get("type")
        if kind == "function":
            flat.append(responses_tool(tool))
        elif kind == "code_interpreter":
            flat.append({"type": "code_interpreter", "container": tool.get("container") or {"type": "auto"}})
        elif kind == "file_search" and tool.get("vector_store_ids"):
            flat.append(tool)
        elif kind == "file_search":
            raise Unsupported("file_search on the responses back end needs vector_store_ids in the tool spec")
        else:
            raise Unsupported(f"the responses back end has no {kind!r} tool")
    return flat


def _text(content: Any) -> tuple[str, list[dict]]:
    if isinstance(content, str):
        return content, []
    texts, annotations = [], []
    for part in content or []:
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            texts.append(part.get("text") or "")
            annotations.extend(part.get("annotations") or [])
        elif kind == "refusal":
            texts.append(f"[refused] {part.get('refusal', '')}")
        elif kind == "input_file":
            texts.append(f"[file {part.get('filename') or part.get('file_id', '')}]")
        elif kind == "input_image":
            texts.append(f"[image {part.get('file_id') or ''}]".replace(" ]", "]"))
        else:
            texts.append(f"[{kind}]")
    return "\n".join(texts), annotations


def item_message(item: dict, thread_id: str, run_id: str | None = None) -> MessageRecord | None:
    """A conversation item as a message row: messages, function calls and their outputs."""
    kind = item.get("type")
    if kind == "message":
        text, annotations = _text(item.get("content"))
        role = item.get("role", "")
    elif kind == "function_call":
        text, annotations, role = f"{item.get('name')}({item.get('arguments', '')})", [], "tool"
    elif kind == "function_call_output":
        output = item.get("output")
        text, annotations, role = f"-> {output if isinstance(output, str) else json.dumps(output)}", [], "tool"
    else:
        return None
    return MessageRecord(id=item.get("id") or item.get("call_id", ""), object="thread.message", thread_id=thread_id,
                         role=role, text=text, annotations=annotations, run_id=run_id,
                         created_at=item.get("created_at"), raw=item)


def pending_calls(response: dict) -> list[ToolCall]:
    if response.get("status") != "completed":
        return []
    return [ToolCall(id=i["call_id"], name=i.get("name", ""), arguments=i.get("arguments") or "{}")
            for i in response.get("output") or [] if i.get("type") == "function_call"]


def run_from_response(run_id: str, thread_id: str, assistant_id: str | None, response: dict,
                      created_at: int | None = None, cancelled: bool = False) -> RunRecord:
    """The run's state from its latest response; `cancelled`: it was cancelled while waiting for tool outputs."""
    calls = [] if cancelled else pending_calls(response)
    status = "requires_action" if calls else response.get("status") or "queued"
    if cancelled and pending_calls(response):
        status = "cancelled"
    return RunRecord(id=run_id, object="thread.run", thread_id=thread_id, assistant_id=assistant_id, status=status,
                     model=response.get("model"), created_at=created_at or response.get("created_at"),
                     completed_at=response.get("completed_at"),
                     error=reason(status, response.get("error"), response.get("incomplete_details")), required_calls=calls,
                     usage=response.get("usage"), raw=response)


def item_step(item: dict, run_id: str, created_at: int | None, outputs: dict[str, str]) -> StepRecord:
    """An output item as a run step: a message is message_creation, a function call is tool_calls."""
    kind = item.get("type", "")
    if kind == "message":
        step_type, summary = "message_creation", f"message {item.get('id', '')}"
    elif kind == "function_call":
        output = outputs.get(item.get("call_id", ""))
        step_type = "tool_calls"
        summary = f"{item.get('name')}({item.get('arguments', '')})" + (f" -> {output[:80]}" if output is not None else "")
    else:
        step_type, summary = kind, kind
    return StepRecord(id=item.get("id") or item.get("call_id", ""), object="thread.run.step", run_id=run_id,
                      type=step_type, status=item.get("status") or "completed", summary=summary,
                      created_at=created_at, completed_at=None, raw=item)
