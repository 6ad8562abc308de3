"""Responses and Conversations objects as the back-end-neutral records of `base`, and tool shapes.

A run is a chain of responses on one conversation: its id is the first response's, its state is
the latest's. A response that completed with `function_call` items not yet answered, or with
`mcp_approval_request` items (the API waits for an approval before it calls an MCP tool), is a run
that requires action. A remote MCP server is kept in an assistant's tools by the names of the
environment variables of its headers (`header_env`); `flat_tools` reads their values as it sends.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..tools import responses_tool
from .base import APPROVE, MessageRecord, RunRecord, StepRecord, ToolCall, Unsupported, reason

__all__ = ["flat_tools", "resumed_tools", "item_message", "run_from_response", "item_step", "answer_item", "remote_server"]


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
        elif kind == "mcp" and "header_env" in tool:  # as the assistant record keeps it
            flat.append(remote_server(tool).tool())
        elif kind == "mcp":  # as a response echoes it (a run resumed): the headers are the caller's to give again
            flat.append({key: value for key, value in tool.items() if value is not None})
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


def resumed_tools(echoed: Sequence[dict], kept: Sequence[dict]) -> list[dict]:
    """A resumed run's tools as its latest response echoed them, each remote MCP server as the
    assistant keeps it instead: the echo has no headers, which are read from the environment again."""
    servers = {tool["server_label"]: tool for tool in kept if tool.get("type") == "mcp"}
    return [flat_tools([servers[tool["server_label"]]])[0]
            if tool.get("type") == "mcp" and tool.get("server_label") in servers else tool for tool in echoed]


def remote_server(tool: dict) -> Any:
    """The `RemoteServer` of an assistant's `mcp` tool, as the record keeps it."""
    from ..mcp.remote import RemoteServer

    return RemoteServer.from_record(tool)


def pending_calls(response: dict) -> list[ToolCall]:
    """The function calls and MCP approval requests a completed response waits on."""
    if response.get("status") != "completed":
        return []
    calls = []
    for item in response.get("output") or []:
        if item.get("type") == "function_call":
            calls.append(ToolCall(id=item["call_id"], name=item.get("name", ""), arguments=item.get("arguments") or "{}"))
        elif item.get("type") == "mcp_approval_request":
            calls.append(ToolCall(id=item["id"], name=item.get("name", ""), arguments=item.get("arguments") or "{}",
                                  server=item.get("server_label", "")))
    return calls


def answer_item(call: ToolCall, output: str) -> dict:
    """The input item that answers a waiting call: its output, or for an approval request the decision."""
    if "server" in call:
        return {"type": "mcp_approval_response", "approval_request_id": call["id"], "approve": output == APPROVE}
    return {"type": "function_call_output", "call_id": call["id"], "output": output}


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
    elif kind == "mcp_call":  # the API ran it: its result (or error) is in the item
        error = item.get("error")
        result = f"error: {json.dumps(error)[:80]}" if error else str(item.get("output") or "")[:80]
        step_type = "tool_calls"
        summary = f"{item.get('server_label')}.{item.get('name')}({item.get('arguments', '')}) -> {result}"
    elif kind == "mcp_list_tools":
        step_type, summary = kind, f"{item.get('server_label')}: {len(item.get('tools') or [])} tools"
    elif kind == "mcp_approval_request":
        step_type, summary = kind, f"approve {item.get('server_label')}.{item.get('name')}({item.get('arguments', '')})?"
    else:
        step_type, summary = kind, kind
    return StepRecord(id=item.get("id") or item.get("call_id", ""), object="thread.run.step", run_id=run_id,
                      type=step_type, status=item.get("status") or "completed", summary=summary,
                      created_at=created_at, completed_at=None, raw=item)
