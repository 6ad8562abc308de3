"""What a sandbox response does with its `mcp` tools, decided before it says anything.

The same deterministic rules as for function tools, with the sandbox running the calls itself:
- each server's tools are listed once per response chain (an `mcp_list_tools` item), not again
  when the context already holds that server's listing; a server that cannot be reached is the
  API's 424;
- a fresh user turn calls the allowed tools named in the prompt (all of them, as parallel tool
  calls; only the first under `parallel_tool_calls: false`), else the first allowed one, with
  arguments built from its input schema; a call `require_approval` does not waive is an
  `mcp_approval_request` instead, and the response ends with the requests;
- `mcp_approval_response` items at the end of the input answer those requests: an approved call
  is made (its `mcp_call` names the request), a denied one is not;
- the reply then reports each call's result, as after function call outputs.
Function tools, when a request offers them, keep their own rule: the sandbox calls those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import textgen
from .errors import ApiError, invalid
from .items import text_of
from .mcp_items import allows, approval_request, list_tools_item, mcp_call, needs_approval
from .mcp_remote import Listed, McpFailure, McpServer, call_tool, list_tools

__all__ = ["McpStep", "mcp_step"]


@dataclass
class McpStep:
    items: list[dict] = field(default_factory=list)  # output items, before the reply
    waiting: bool = False  # an approval request ends the response
    results: list[tuple[str, str]] = field(default_factory=list)  # (tool, what came back) for the reply


async def mcp_step(servers: list[McpServer], context: list[dict], offers_functions: bool, tool_choice: Any,
                   parallel: bool = True) -> McpStep:
    """The MCP items of a response whose whole context is given."""
    step = McpStep()
    if not servers:
        return step
    catalog = {}
    for server in servers:
        catalog[server.label] = await _tools_of(server, context, step)
    answers = _trailing(context, "mcp_approval_response")
    if answers:
        for answer in answers:
            await _answer(answer, servers, catalog, context, step)
    elif context and context[-1].get("role") == "user" and not offers_functions and tool_choice != "none":
        prompt = text_of(context[-1])
        for server, tool in _choose(servers, catalog, prompt, tool_choice)[:None if parallel else 1]:
            arguments = json.dumps(textgen.arguments_for(tool.input_schema or {"type": "object"}, prompt))
            if needs_approval(server, tool):
                step.items.append(approval_request(server.label, tool.name, arguments))
                step.waiting = True
            else:
                await _call(server, tool.name, arguments, None, step)
    return step


async def _tools_of(server: McpServer, context: list[dict], step: McpStep) -> list[Listed]:
    """The server's allowed tools: from its listing in the context, else listed now (an item)."""
    earlier = next((item for item in context if item.get("type") == "mcp_list_tools"
                    and item.get("server_label") == server.label), None)
    if earlier is not None:
        return [Listed(t["name"], t.get("input_schema") or {}, t.get("description"), t.get("annotations"))
                for t in earlier.get("tools") or []]
    try:
        tools = [tool for tool in await list_tools(server) if allows(server, tool)]
    except McpFailure as exc:
        raise ApiError(424, f"Error retrieving tool list from MCP server: '{server.label}'. {exc}",
                       type="external_connector_error", param="tools", code="http_error") from None
    step.items.append(list_tools_item(server.label, tools))
    return tools


def _choose(servers: list[McpServer], catalog: dict, prompt: str, tool_choice: Any) -> list[tuple[McpServer, Listed]]:
    """The tools a fresh turn calls: those named in the prompt, else the first; `tool_choice` narrows."""
    offered = [(server, tool) for server in servers for tool in catalog[server.label]]
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "mcp":
        offered = [(s, t) for s, t in offered if s.label == tool_choice["server_label"]
                   and tool_choice.get("name") in (None, t.name)]
    named = [(s, t) for s, t in offered if t.name.lower() in prompt.lower()]
    return named or offered[:1]


async def _answer(answer: dict, servers: list[McpServer], catalog: dict, context: list[dict], step: McpStep) -> None:
    """Act on one approval answer: make the approved call, or report the denied one."""
    request_id = answer["approval_request_id"]
    request = next((item for item in context if item.get("type") == "mcp_approval_request"
                    and item.get("id") == request_id), None)
    if request is None:
        raise invalid(f"No approval request found with id '{request_id}'.", param="input")
    server = next((s for s in servers if s.label == request["server_label"]), None)
    if server is None:
        raise invalid(f"The approval request '{request_id}' is for the MCP server '{request['server_label']}', "
                      "which is not in 'tools'.", param="tools")
    if not answer["approve"]:
        step.results.append((request["name"], "not run: the call was denied"))
        return
    if not any(tool.name == request["name"] for tool in catalog[server.label]):
        raise invalid(f"The tool '{request['name']}' is not allowed on the MCP server '{server.label}'.", param="tools")
    await _call(server, request["name"], request["arguments"], request_id, step)


async def _call(server: McpServer, name: str, arguments: str, request_id: str | None, step: McpStep) -> None:
    """Run the call on the server; its `mcp_call` item has the output or the error."""
    output, error = None, None
    try:
        output, content = await call_tool(server, name, json.loads(arguments or "{}"))
        if content is not None:
            error = {"type": "mcp_tool_execution_error", "content": content}
    except McpFailure as exc:
        error = {"type": "mcp_protocol_error", "code": exc.code, "message": str(exc)}
    step.items.append(mcp_call(server.label, name, arguments, output, error, request_id))
    shown = output if error is None else f"an error: {_error_text(error)}"
    step.results.append((name, shown))


def _error_text(error: dict) -> str:
    if error["type"] == "mcp_protocol_error":
        return error["message"]
    return " ".join(str(part.get("text", "")) for part in error["content"]) or "the tool failed"


def _trailing(context: list[dict], kind: str) -> list[dict]:
    """The items of this type at the very end of the context."""
    found = []
    for item in reversed(context):
        if item.get("type") != kind:
            break
        found.append(item)
    return list(reversed(found))
