"""A remote MCP server for the tests of the Responses `mcp` tool: the official SDK's server
(`MCPServer`, FastMCP before mcp 2) over streamable HTTP on a free loopback port, in a thread of the
test process, so the sandbox (acting as the API) can reach it. (`mcp_servers` runs the toolbox the
local MCP tests start as a process of its own.)

Its tools: `lookup` (read-only: the notes about a city), `delete_note` (changes data), `whoami`
(which `X-Team` header the request carried: proves `headers` reach the server), `explode` (a tool
that returns an error). `serve_mcp()` starts one and stops it on exit.
"""

# No `from __future__ import annotations`: the SDK reads the tools' annotations at run time,
# and `Context` is imported inside `notes_server`.
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

NOTES = {"Oslo": ["fjord walk", "opera roof"], "Bergen": ["fish market"]}


@dataclass
class RunningMcp:
    url: str  # the streamable HTTP endpoint, http://127.0.0.1:PORT/mcp
    port: int


def notes_server():  # noqa: ANN201 - the SDK's class, imported on first use
    from mcp.server.mcpserver import Context, MCPServer
    from mcp_types import ToolAnnotations

    server = MCPServer("notes")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def lookup(city: str) -> str:
        """The notes kept about a city."""
        found = NOTES.get(city, [])
        return f"{city}: {len(found)} notes ({', '.join(found) or 'none'})"

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
    def delete_note(city: str) -> str:
        """Delete the notes about a city."""
        return f"deleted the notes about {city}"

    @server.tool()
    def whoami(ctx: Context) -> str:
        """Which team the caller's X-Team header names, and whether it brought a bearer token."""
        headers = ctx.request_context.request.headers if ctx.request_context.request is not None else {}
        bearer = " with a bearer token" if headers.get("authorization", "").startswith("Bearer ") else ""
        return f"team {headers.get('x-team', 'unknown')}{bearer}"

    @server.tool()
    def explode(reason: str) -> str:
        """A tool that always fails."""
        raise ValueError(f"exploded: {reason}")

    return server


@contextmanager
def serve_mcp() -> Iterator[RunningMcp]:
    """The notes server on a free loopback port, until the block ends."""
    import uvicorn

    app = notes_server().streamable_http_app()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    started = threading.Event()
    startup = server.startup

    async def startup_then_signal(sockets: list | None = None) -> None:
        await startup(sockets)
        started.set()

    server.startup = startup_then_signal  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="mcp-test-server")
    thread.start()
    try:
        if not started.wait(30):
            raise RuntimeError("the test MCP server did not start within 30 s")
        yield RunningMcp(f"http://127.0.0.1:{port}/mcp", port)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def free_port() -> int:
    """A loopback port nothing listens on (for a server the sandbox cannot reach)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
