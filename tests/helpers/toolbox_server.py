"""The tests' own MCP server: a few tools, one read-only, one that fails, one that crashes the
process, one that hangs (and one that says so first). `python toolbox_server.py` serves stdio; `--http` serves streamable HTTP
on a free loopback port and prints that port once it listens."""

from __future__ import annotations

import os
import socket
import sys
import threading

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("toolbox")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> str:
    """Add two whole numbers."""
    return str(a + b)


@server.tool()
def shout(text: str) -> str:
    """The text in capitals (not marked read-only)."""
    return text.upper()


@server.tool()
def process_id() -> str:
    """The server's process id."""
    return str(os.getpid())


@server.tool()
def fail(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ToolError(f"refused: {reason}")


@server.tool()
def crash(note: str) -> str:
    """Writes a note to stderr, then ends the process mid-call."""
    print(f"toolbox crashing: {note}", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def hang(note: str) -> str:
    """Never answers."""
    threading.Event().wait()
    return note


@server.tool()
def signal_then_hang(fifo: str) -> str:
    """Writes to the named pipe `fifo` (so a test knows the call has arrived), then never answers."""
    with open(fifo, "w") as pipe:
        pipe.write("called")
    threading.Event().wait()
    return fifo


def serve_http() -> None:
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # connections wait in the backlog until uvicorn accepts them
    print(listener.getsockname()[1], flush=True)
    config = uvicorn.Config(server.streamable_http_app(), log_level="warning")
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    serve_http() if "--http" in sys.argv else server.run()
