"""`%oai mcp`: local MCP servers run by the kernel, whose tools `%%chat --mcp` and `%assistant run
--mcp` offer to a model.

    %oai mcp add data -- python notebooks/mcp_servers/sample_data.py      (stdio)
    %oai mcp add search --url http://127.0.0.1:8931/mcp --header Authorization='$SEARCH_TOKEN'
    %oai mcp list
    %oai mcp remove data

Adding records the server; it starts on first use (a listing or a call). The session's hub
(`Session.mcp()`) holds the servers and stops them on `remove` and when the kernel ends.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..mcp import APPROVE_CHOICES
from .arguments import a_word, argument, at_least, magic_arguments
from .oai_table import ROUTER

__all__ = ["MCP"]

MCP = ROUTER.group("mcp", "Local MCP servers whose tools a model may call: add, list, remove.", default="list")
COLUMNS = ["server", "tool", "description", "input_schema", "read_only"]


def _headers(pairs: list[str] | None) -> dict[str, str]:
    headers = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--header {pair!r}: expected KEY=VALUE (VALUE may be $ENV_NAME)")
        headers[key.strip()] = value
    return headers


@MCP.command("add")
@magic_arguments(name="oai mcp add")
@argument("name", help="a short name for the server (letters, digits, _ and -); its tools are offered as NAME__tool")
@argument("command", nargs="*", type=a_word, help="after --: the command that runs the server over stdio, with its arguments")
@argument("--url", help="a streamable-HTTP MCP endpoint instead of a command")
@argument("--header", action="append", metavar="KEY=VALUE", help="an HTTP header for --url, repeatable; "
          "VALUE may be $ENV_NAME, read from the environment when the server is reached (never written here)")
@argument("--approve", choices=APPROVE_CHOICES, default="ask", help="which calls run without asking: ask "
          "(default: every call is shown and asked), always, never, read-only (tools the server marks read-only)")
@argument("--timeout", type=at_least(0.001), default=60.0, metavar="SECONDS",
          help="the longest a call may take (default 60); a start may take this or 30 s, whichever is longer")
def add(magics: Any, args: Any) -> None:
    """Add a local MCP server (started when first used)."""
    from ..mcp.servers import ServerSpec

    if args.header and not args.url:
        raise UsageError("--header goes with --url")
    try:
        spec = ServerSpec(args.name, command=tuple(args.command), url=args.url, headers=_headers(args.header),
                          approve=args.approve, timeout=float(args.timeout))
    except ValueError as exc:
        raise UsageError(f"%oai mcp add: {exc}") from None
    replaced = args.name in magics.session.mcp().specs
    magics.session.mcp().add(spec)
    print(f"MCP server {spec.name!r} {'replaced' if replaced else 'added'}: {spec.where} "
          f"(approve: {spec.approve}; starts on first use)")


@MCP.command("list", listing=True)
@magic_arguments(name="oai mcp list")
@argument("names", nargs="*", type=a_word, help="only these servers (default: all)")
def list_tools(magics: Any, args: Any) -> Any:
    """The servers' tools as a DataFrame (each server is started if it is not running); a server that
    cannot be reached is one line above the table, and the others are still listed."""
    import pandas as pd

    from ..mcp.servers import McpError

    hub = magics.session.mcp()
    names = args.names or sorted(hub.specs)
    for name in names:  # an unknown name is a mistake in the line, not a server that is down
        hub.spec(name)
    rows = []
    for name in names:
        try:
            tools = hub.tools(name)
        except McpError as exc:
            print(exc.line())
            continue
        rows += [{"server": t.server, "tool": t.name, "description": t.description, "input_schema": t.input_schema,
                  "read_only": t.read_only} for t in tools]
    return pd.DataFrame(rows, columns=COLUMNS)


@MCP.command("remove")
@magic_arguments(name="oai mcp remove")
@argument("name", help="the server to stop and forget")
def remove(magics: Any, args: Any) -> None:
    """Stop a server and forget it."""
    if not magics.session.mcp().remove(args.name):
        raise UsageError(f"no MCP server named {args.name!r}")
    print(f"MCP server {args.name!r} removed")
