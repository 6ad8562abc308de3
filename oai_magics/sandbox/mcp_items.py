"""The Responses `mcp` tool's request checks and its items: `mcp_list_tools`, `mcp_approval_request`,
`mcp_approval_response` and `mcp_call`, in the shapes of the 2026 spec.

A request's `mcp` tool is checked here and echoed as the API echoes it, with its `headers` and
`authorization` left out: they are the caller's secrets (an API key for the MCP server) and a stored response must not
give them back. Items a client replays as input (a stateless chain) are validated here too.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, invalid
from .mcp_remote import Listed, McpServer, on_loopback
from .store import new_id

__all__ = ["check_mcp_tool", "mcp_servers", "echo", "list_tools_item", "approval_request", "mcp_call", "mcp_input_item",
           "MCP_INPUT_TYPES", "allows", "needs_approval"]

MCP_INPUT_TYPES = ("mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "mcp_call")
APPROVAL_SETTINGS = ("always", "never")


def check_mcp_tool(tool: dict, param: str) -> McpServer:
    """An `mcp` tool of a request, or the API's 400 naming what is wrong with it."""
    label = tool.get("server_label")
    if not isinstance(label, str) or not label:
        raise invalid(f"Missing required parameter: '{param}.server_label'.", param=f"{param}.server_label",
                      code="missing_required_parameter")
    url = tool.get("server_url")
    if url is None:
        others = [key for key in ("connector_id", "tunnel_id") if key in tool]
        if others:
            raise ApiError(400, f"The oai_magics sandbox cannot reach '{others[0]}' servers; give a 'server_url' on "
                                "loopback.", param=f"{param}.{others[0]}", code="unsupported_value")
        raise invalid(f"Missing required parameter: '{param}.server_url'.", param=f"{param}.server_url",
                      code="missing_required_parameter")
    if not isinstance(url, str) or not on_loopback(url):
        raise invalid(f"Invalid '{param}.server_url': the oai_magics sandbox reaches MCP servers on loopback only "
                      "(http://127.0.0.1:PORT/..., http://localhost:PORT/...).", param=f"{param}.server_url",
                      code="invalid_value")
    headers = tool.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise invalid(f"Invalid type for '{param}.headers': expected an object of strings.", param=f"{param}.headers")
    token = tool.get("authorization")
    if token is not None:  # an OAuth access token: the API sends it to the server as a bearer token, never echoes it
        if not isinstance(token, str):
            raise invalid(f"Invalid type for '{param}.authorization': expected a string.", param=f"{param}.authorization")
        headers = {**headers, "Authorization": f"Bearer {token}"}
    allowed = tool.get("allowed_tools")
    if allowed is not None and not _names_or_filter(allowed):
        raise invalid(f"Invalid '{param}.allowed_tools': expected an array of tool names or a filter object "
                      "{tool_names, read_only}.", param=f"{param}.allowed_tools")
    approval = "always" if tool.get("require_approval") is None else tool["require_approval"]
    if not (approval in APPROVAL_SETTINGS or isinstance(approval, dict) and set(approval) <= set(APPROVAL_SETTINGS)
            and all(_names_or_filter(value) and isinstance(value, dict) for value in approval.values())):
        raise invalid(f"Invalid '{param}.require_approval': expected 'always', 'never' or an object with "
                      "'always' and/or 'never' filters.", param=f"{param}.require_approval")
    return McpServer(label, url, dict(headers), allowed, approval)


def mcp_servers(tools: list) -> list[McpServer]:
    """The `mcp` tools of a request's (already checked) `tools`."""
    return [check_mcp_tool(tool, f"tools[{index}]") for index, tool in enumerate(tools) if tool.get("type") == "mcp"]


def echo(tool: dict, server: McpServer) -> dict:
    """The tool as a response shows it (never its headers)."""
    shown = {"type": "mcp", "server_label": server.label, "server_url": server.url, "allowed_tools": server.allowed,
             "headers": None, "require_approval": server.approval}
    if isinstance(tool.get("server_description"), str):
        shown["server_description"] = tool["server_description"]
    return shown


def _names_or_filter(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(name, str) for name in value)
    return (isinstance(value, dict) and set(value) <= {"tool_names", "read_only"}
            and _names_or_filter(value.get("tool_names", []))
            and isinstance(value.get("read_only", False), bool))


def _matches(rule: Any, tool: Listed) -> bool:
    """Whether a tool passes an allowed-tools list or filter object."""
    if isinstance(rule, list):
        return tool.name in rule
    names, read_only = rule.get("tool_names"), rule.get("read_only")
    if names is not None and tool.name not in names:
        return False
    return read_only is None or bool((tool.annotations or {}).get("readOnlyHint")) == read_only


def allows(server: McpServer, tool: Listed) -> bool:
    """Whether the request's `allowed_tools` lets the model see this tool."""
    return server.allowed is None or _matches(server.allowed, tool)


def needs_approval(server: McpServer, tool: Listed) -> bool:
    """`require_approval` for this tool: a `never` filter it matches waives it; otherwise it is asked,
    as under the API's default `always`."""
    if isinstance(server.approval, str):
        return server.approval == "always"
    never = server.approval.get("never")
    return not (never is not None and _matches(never, tool))


def list_tools_item(label: str, tools: list[Listed]) -> dict:
    return {"type": "mcp_list_tools", "id": new_id("mcpl_"), "server_label": label,
            "tools": [tool.item() for tool in tools], "error": None}


def approval_request(label: str, name: str, arguments: str) -> dict:
    return {"type": "mcp_approval_request", "id": new_id("mcpr_"), "server_label": label, "name": name,
            "arguments": arguments}


def mcp_call(label: str, name: str, arguments: str, output: str | None, error: dict | None,
             approval_request_id: str | None) -> dict:
    return {"type": "mcp_call", "id": new_id("mcp_"), "server_label": label, "name": name, "arguments": arguments,
            "output": output, "error": error, "status": "failed" if error else "completed",
            "approval_request_id": approval_request_id}


def mcp_input_item(item: dict, param: str) -> dict:
    """An MCP item given as input: an approval answer, or an earlier output replayed."""
    kind = item["type"]
    if kind == "mcp_approval_response":
        request_id = item.get("approval_request_id")
        if not isinstance(request_id, str) or not request_id:
            raise invalid(f"Missing required parameter: '{param}.approval_request_id'.",
                          param=f"{param}.approval_request_id", code="missing_required_parameter")
        if not isinstance(item.get("approve"), bool):
            raise invalid(f"Missing required parameter: '{param}.approve'.", param=f"{param}.approve",
                          code="missing_required_parameter")
        return {"type": kind, "id": new_id("mcpa_"), "approval_request_id": request_id, "approve": item["approve"],
                "reason": item.get("reason")}
    for name in ("id", "server_label"):
        if not isinstance(item.get(name), str):
            raise invalid(f"Missing required parameter: '{param}.{name}'.", param=f"{param}.{name}",
                          code="missing_required_parameter")
    return dict(item)
