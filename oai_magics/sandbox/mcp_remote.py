"""The sandbox as the MCP client of a remote server, as the API is for the Responses `mcp` tool.

It speaks to the server with the official `mcp` SDK over streamable HTTP, and only on loopback:
the sandbox reaches no network beyond this machine. Each listing or call opens its own session
and is bounded in time, so a server that hangs gives an error, never a hung response. The SDK is
imported on first use: a sandbox without it answers every other request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio

__all__ = ["McpServer", "McpFailure", "Listed", "on_loopback", "list_tools", "call_tool"]

LIST_TIMEOUT = 15.0  # seconds to open a session and list the tools
CALL_TIMEOUT = 60.0  # seconds for one tool call


@dataclass(frozen=True)
class McpServer:
    """One `mcp` tool of a request: where the server is and what the request allows on it."""

    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    allowed: Any = None  # allowed_tools: None, a list of names, or a filter {tool_names, read_only}
    approval: Any = "always"  # require_approval: "always", "never" or {always: filter, never: filter}


@dataclass(frozen=True)
class Listed:
    """A tool the server listed, as the `mcp_list_tools` item shows it."""

    name: str
    input_schema: dict
    description: str | None = None
    annotations: dict | None = None

    def item(self) -> dict:
        return {"name": self.name, "input_schema": self.input_schema, "description": self.description,
                "annotations": self.annotations}


class McpFailure(Exception):
    """The server could not be reached, or broke the protocol; `code` is the JSON-RPC code if any."""

    def __init__(self, message: str, code: int = -32000) -> None:
        super().__init__(message)
        self.code = code


def on_loopback(url: str) -> bool:
    """An http(s) URL whose host is this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


async def list_tools(server: McpServer) -> list[Listed]:
    """Every tool the server lists (all pages); McpFailure if it cannot be reached in time."""

    async def listing(client: Any) -> list[Listed]:
        tools, cursor = [], None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools += [_listed(tool) for tool in page.tools]
            cursor = page.next_cursor
            if not cursor:
                return tools

    return await _session(server, listing, LIST_TIMEOUT)


async def call_tool(server: McpServer, name: str, arguments: dict) -> tuple[str | None, list[dict] | None]:
    """(the text output, None) or (None, the content of the error the tool returned); McpFailure if
    the server failed on the way."""

    async def calling(client: Any) -> tuple[str | None, list[dict] | None]:
        result = await client.call_tool(name, arguments)
        content = [part.model_dump(mode="json", exclude_none=True) for part in result.content]
        if result.is_error:
            return None, content
        return "\n".join(part.get("text", "") for part in content if part.get("type") == "text"), None

    return await _session(server, calling, CALL_TIMEOUT)


async def _session(server: McpServer, work: Any, seconds: float) -> Any:
    """Open a session with the server, do the work, close it: all within `seconds`."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.exceptions import MCPError

    try:
        with anyio.fail_after(seconds):
            async with create_mcp_http_client(headers=server.headers) as http:
                async with Client(streamable_http_client(server.url, http_client=http)) as client:
                    return await work(client)
    except TimeoutError:
        raise McpFailure(f"the MCP server did not answer within {seconds:g} s") from None
    except MCPError as exc:
        raise McpFailure(exc.message, exc.code) from None
    except Exception as exc:  # noqa: BLE001 - a refused connection, an HTTP error, a broken stream: all one failure
        raise McpFailure(_reason(exc)) from None


def _listed(tool: Any) -> Listed:
    annotations = tool.annotations.model_dump(mode="json", by_alias=True, exclude_none=True) if tool.annotations else None
    return Listed(tool.name, dict(tool.input_schema), tool.description or None, annotations or None)


def _reason(exc: BaseException) -> str:
    """The innermost reason of an exception (the SDK wraps a refused connection in task groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__
