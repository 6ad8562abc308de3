"""MCP tools offered to a model as function tools, called by the kernel through the hub.

    --mcp data              every tool of server `data`
    --mcp data:query,describe   only these tools of it

Each tool becomes a `BridgedTool`: a callable with a `tool_spec`, so `tools.chat_tool` describes it
and `tools.call_tool` calls it like a Python function. Its function name is `server__tool`, made
valid for the API (letters, digits, _ and -, at most 64 characters) and unique; the name maps back
to the server and tool. Before each call the server's approval rule is applied (and the person
asked when the rule says so); every call is written to a `CallLog` to be shown under the reply.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .approval import ask, verdict
from .hub import McpHub, ToolInfo
from .servers import McpError

__all__ = ["BridgedTool", "CallRecord", "CallLog", "bridged_tools", "parse_selection", "function_name", "is_bridged", "offered"]

MAX_NAME = 64


@dataclass(frozen=True)
class CallRecord:
    """One call as it is shown under the reply."""

    server: str
    tool: str
    arguments: dict
    result: str
    seconds: float
    outcome: str  # "ok", "error" (the tool reported one) or "denied"


@dataclass
class CallLog:
    calls: list[CallRecord] = field(default_factory=list)


class BridgedTool:
    """One MCP tool as a function tool: its spec for the model, and the call (approval first)."""

    def __init__(self, hub: McpHub, info: ToolInfo, name: str, log: CallLog) -> None:
        self.hub, self.info, self.name, self.log = hub, info, name, log

    @property
    def tool_spec(self) -> dict:
        schema = self.info.input_schema or {"type": "object", "properties": {}}
        return {"name": self.name, "description": self.info.description or f"{self.info.server}.{self.info.name}",
                "parameters": schema, "strict": False}

    def __call__(self, **arguments: Any) -> str:
        server, tool = self.info.server, self.info.name
        rule = self.hub.spec(server).approve
        decision = verdict(rule, self.info.read_only)
        if decision == "ask":
            decision = "approve" if ask(server, tool, arguments) else "deny"
        if decision == "deny":
            why = "by the server's rule --approve never" if rule == "never" else "by the user"
            self.log.calls.append(CallRecord(server, tool, arguments, f"refused {why}", 0.0, "denied"))
            return f"error: the call to {server}.{tool} was refused {why}"
        outcome = self.hub.call(server, tool, arguments)
        self.log.calls.append(CallRecord(server, tool, arguments, outcome.text, outcome.seconds,
                                         "error" if outcome.is_error else "ok"))
        return f"error: {outcome.text}" if outcome.is_error else outcome.text

    def __repr__(self) -> str:
        return f"<MCP tool {self.info.server}.{self.info.name} as {self.name}>"


def parse_selection(values: list[str] | None) -> dict[str, list[str] | None]:
    """`--mcp a,b` and `--mcp a:t1,t2` (repeatable) -> {server: tool names, or None for all}."""
    chosen: dict[str, list[str] | None] = {}
    for value in values or []:
        server, colon, tools = value.partition(":")
        names = [n.strip() for n in (tools if colon else server).split(",") if n.strip()]
        if colon:
            if not server.strip() or not names:
                raise McpError(f"--mcp {value!r}: expected NAME:tool1,tool2")
            server = server.strip()
            if server not in chosen or chosen[server] is not None:  # a server chosen whole stays whole
                chosen[server] = (chosen.get(server) or []) + names
        else:
            chosen.update({name: None for name in names})
    return chosen


def function_name(server: str, tool: str, taken: set[str]) -> str:
    """`server__tool`, valid for the API and not in `taken` (a hash of both tells apart the rest)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")
    if len(name) <= MAX_NAME and name not in taken:
        return name
    digest = hashlib.sha1(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}_{digest}"


def bridged_tools(hub: McpHub, values: list[str] | None, log: CallLog) -> dict[str, BridgedTool]:
    """The chosen servers' tools by function name (each server started if it is not running)."""
    bridged: dict[str, BridgedTool] = {}
    for server, wanted in parse_selection(values).items():
        tools = {info.name: info for info in hub.tools(server)}
        missing = [name for name in wanted or [] if name not in tools]
        if missing:
            raise McpError(f"MCP server {server!r} has no tool {', '.join(map(repr, missing))}; "
                           f"it has: {', '.join(tools) or 'none'}")
        for info in (tools[name] for name in wanted) if wanted else tools.values():
            name = function_name(server, info.name, set(bridged))
            bridged[name] = BridgedTool(hub, info, name, log)
    return bridged


def offered(hub: McpHub, selection: list[str] | None) -> tuple[dict[str, BridgedTool], CallLog | None]:
    """`--mcp` of a magic: the chosen tools by function name, and the log their calls go to (None without --mcp)."""
    if not selection:
        return {}, None
    log = CallLog()
    return bridged_tools(hub, selection, log), log


def is_bridged(tool: Any) -> bool:
    """Whether a tool is an MCP tool (which asks for its own approval)."""
    return isinstance(tool, BridgedTool)

