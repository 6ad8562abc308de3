"""The chat back end's local records in the back-end-neutral shapes of `base`, and its tools.

A thread's messages are stored as the chat messages they are sent as (`{"role", "content",
"tool_calls"?, "tool_call_id"?}`) plus an id, a creation time and the run that added them; a run
is stored whole (its status, settings, steps and the tool outputs it was given).
"""

from __future__ import annotations

import json
import uuid
from typing import Sequence

from ..tools import chat_tool
from .base import MessageRecord, RunRecord, StepRecord, ToolCall, Unsupported

__all__ = ["chat_tools", "message_record", "run_record", "new_step", "calls_of", "history"]

#: What a built-in tool needs from a server, for the one line that says the chat back end lacks it.
BUILT_IN = {"code_interpreter": "a server that runs code", "file_search": "server-side files and vector stores",
            "retrieval": "server-side files", "mcp": "the Responses API, whose server calls a remote MCP server"}


def chat_tools(tools: Sequence[dict]) -> list[dict]:
    """Tool specs as chat completions take them; a built-in tool is refused in one line."""
    made = []
    for tool in tools:
        kind = tool.get("type")
        if kind != "function":
            needs = BUILT_IN.get(str(kind), "a server that offers it")
            raise Unsupported(f"the chat back end has no {kind!r} tool (it needs {needs}); use a Python function, "
                              "or the responses or assistants back end (--api)")
        made.append(chat_tool(tool))
    return made


def calls_of(message: dict) -> list[ToolCall]:
    """The function calls an assistant message asks for."""
    return [ToolCall(id=c["id"], name=c["function"]["name"], arguments=c["function"].get("arguments") or "{}")
            for c in message.get("tool_calls") or []]


def _text(message: dict) -> tuple[str, str]:
    """(role, readable text) of a stored chat message; calls and their outputs are `tool` rows."""
    calls = calls_of(message)
    if calls:
        said = "; ".join(f"{c['name']}({c['arguments']})" for c in calls)
        return "tool", f"{message['content']}\n{said}" if message.get("content") else said
    if message.get("role") == "tool":
        return "tool", f"-> {message.get('content', '')}"
    content = message.get("content")
    if isinstance(content, list):  # a message with images or files: its text, and each named as in the other back ends
        content = "\n".join(_part_text(part) for part in content)
    return str(message.get("role", "")), content if isinstance(content, str) else json.dumps(content)


def _part_text(part: dict) -> str:
    kind = part.get("type")
    if kind == "text":
        return part.get("text") or ""
    if kind == "file":
        return f"[file {part['file'].get('filename') or part['file'].get('file_id', '')}]"
    return f"[{'image' if kind == 'image_url' else kind}]"


def message_record(stored: dict, thread_id: str) -> MessageRecord:
    role, text = _text(stored["message"])
    return MessageRecord(id=stored["id"], object="thread.message", thread_id=thread_id, role=role, text=text,
                         annotations=[], run_id=stored.get("run_id"), created_at=stored.get("created_at"), raw=stored)


def history(stored: Sequence[dict]) -> list[dict]:
    """The thread as chat messages to send: tool calls that were never answered (their run was
    cancelled or failed while it waited) are left out, since a server refuses a call with no answer."""
    answered = {m["message"].get("tool_call_id") for m in stored if m["message"].get("role") == "tool"}
    return [m["message"] for m in stored
            if all(call["id"] in answered for call in calls_of(m["message"]))]


def run_record(body: dict) -> RunRecord:
    """A stored run as the back-end-neutral record (`raw` is what is stored)."""
    return RunRecord(id=body["id"], object="thread.run", thread_id=body["thread_id"], assistant_id=body["assistant_id"],
                     status=body["status"], model=body["model"], created_at=body["created_at"],
                     completed_at=body.get("completed_at"), error=body.get("error"),
                     required_calls=list(body.get("required_calls") or []), usage=body.get("usage"), raw=body)


def new_step(run_id: str, step_type: str, summary: str, created_at: int, calls: Sequence[ToolCall] = ()) -> dict:
    """A step of a run as it is stored (a `StepRecord` without `raw`; the calls it made, if any)."""
    return {"id": f"step_{uuid.uuid4().hex[:24]}", "object": "thread.run.step", "run_id": run_id, "type": step_type,
            "status": "completed", "summary": summary, "created_at": created_at, "completed_at": created_at,
            "calls": list(calls)}


def step_record(step: dict) -> StepRecord:
    return StepRecord(id=step["id"], object="thread.run.step", run_id=step["run_id"], type=step["type"],
                      status=step["status"], summary=step["summary"], created_at=step["created_at"],
                      completed_at=step.get("completed_at"), raw=step)


__all__.append("step_record")
