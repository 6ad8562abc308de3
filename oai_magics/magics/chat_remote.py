"""`%%chat --mcp-url URL --mcp-label L`: a turn through the Responses API, whose `mcp` tool has the
API itself call the tools of a remote MCP server.

The conversation's memory goes as input messages and the reply is kept in it like any other, so
the conversation goes on with or without the server. What the API did with the server is shown
under the reply: one line per listing ("notes: 4 tools"), each call collapsed (name, arguments,
short result, time). Approval requests are decided by `--approve` or asked in the cell. Header
values come from environment variables named with `--mcp-header K=ENV_NAME`: the notebook only
ever holds the variable's name.
"""

from __future__ import annotations

import time
from typing import Any

from IPython.core.error import UsageError

from .common import missing_route, publish

__all__ = ["check_options", "chat_remote", "remote_servers", "NOT_WITH_MCP_URL"]

# Options of %%chat that the Responses turn does not take (yet): one line says so.
NOT_WITH_MCP_URL = {"each": "--each", "batch": "--batch", "collect": "--collect", "tools": "--tools",
                    "json": "--json", "schema": "--schema", "image": "--image", "file": "--file", "param": "--param"}


def remote_servers(args: Any) -> list:
    """The remote server of --mcp-url / --mcp-label / --mcp-header / --mcp-tools / --approve."""
    from ..mcp.remote import RemoteServer

    if not args.mcp_label:
        raise UsageError("--mcp-url needs --mcp-label L: the name the model and the calls know the server by")
    headers = {}
    for pair in args.mcp_header or []:
        header, sep, variable = pair.partition("=")
        if not sep or not header.strip() or not variable.strip().isidentifier():
            raise UsageError(f"--mcp-header {pair!r}: expected HEADER=ENV_NAME, the name of an environment variable "
                             "holding the value (the value itself is never written in the notebook)")
        headers[header.strip()] = variable.strip()
    tools = tuple(filter(None, (name.strip() for name in (args.mcp_tools or "").split(","))))
    return [RemoteServer(args.mcp_label, args.mcp_url, headers, tools, args.approve or "ask")]


def check_options(args: Any) -> None:
    """Refuse, before anything is sent, the options a remote MCP turn does not take."""
    used = [flag for name, flag in NOT_WITH_MCP_URL.items() if getattr(args, name, None)]
    if used:
        raise UsageError(f"{', '.join(used)} cannot go with --mcp-url yet: a remote MCP turn goes through the "
                         "Responses API")
    remote_servers(args)


def chat_remote(magics: Any, args: Any, prompt: str) -> None:
    """Send one %%chat turn through /responses with the remote MCP server; show and remember it."""
    servers = remote_servers(args)
    session, shell = magics.session, magics.shell
    if args.no_memory:
        conversation, call = None, None
        history, listed = [{"role": "system", "content": args.system}] if args.system else [], {}
    else:
        conversation = session.conversation(args.conversation, new=args.new, system=args.system)
        call = magics._calls.next(shell)
        history, listed = conversation.context(call), conversation.listings(call)
    # A server's listing from an earlier turn goes first: with it in the context the API does not
    # list that server's tools again (a round trip to the server, and its tokens, every turn).
    known = [listed[server.key] for server in servers if server.key in listed]
    body: dict[str, Any] = {"model": session.model("chat", args.model),
                            "input": known + as_input(history) + [{"role": "user", "content": prompt}]}
    if args.temperature is not None:
        body["temperature"] = args.temperature
    if args.max_tokens is not None:
        body["max_output_tokens"] = args.max_tokens
    if args.reasoning is not None:
        body["reasoning"] = {"effort": args.reasoning}
    reply = _ask(session, body, servers, not args.no_stream, conversation, call, prompt)
    publish(shell, reply.output(None), args.output)


def _ask(session: Any, body: dict, servers: list, stream: bool, conversation: Any, call: Any, prompt: str) -> Any:
    from ..chat_memory import new_exchange
    from ..client import NotFoundError
    from ..display.stream import ChoiceViews
    from ..display.tool_calls import show_calls
    from ..display.usage import show_usage
    from ..mcp.remote import listing_line, run_turn

    views = ChoiceViews.for_request({}, session.settings.render_interval)
    started = time.monotonic()
    try:
        turn = run_turn(session.client, body, servers, stream=stream, on_text=views.add,
                        on_listing=lambda item: print(listing_line(item)))
    except NotFoundError as exc:
        if not missing_route(exc):
            raise
        raise UsageError(f"{session.client.base_url} has no /responses: a remote MCP server (--mcp-url) is called by "
                         "the API itself through the Responses API, which this server does not have") from None
    views.finish_reply(turn.reply)
    show_calls(turn.calls)
    if conversation is not None:
        exchange = new_exchange(call, prompt, [{"role": "assistant", "content": turn.reply.text}], turn.reply, started)
        exchange.listings = {server.key: item for item in turn.listings if not item.get("error")
                             for server in servers if server.label == item.get("server_label")}
        conversation.record(exchange)
    model, usage = turn.reply.model or body["model"], chat_usage(turn.reply.usage)
    show_usage(model, time.monotonic() - started, usage, rich=views.rich, cost=session.cost(model, usage))
    return turn.reply


def chat_usage(usage: dict | None) -> dict | None:
    """Responses token counts under the names chat gives them (the reply line and memory read those)."""
    from .session import TOKEN_NAMES

    if not usage or "prompt_tokens" in usage:
        return usage
    named = {name: usage[alias] for name, alias in TOKEN_NAMES.items() if alias in usage}
    if "output_tokens_details" in usage:
        named["completion_tokens_details"] = usage["output_tokens_details"]
    return named


def as_input(messages: list[dict]) -> list[dict]:
    """Chat memory as Responses input messages: text as it is, typed parts renamed, tool traffic
    (calls of Python functions in earlier turns, which this request does not offer) left out."""
    converted = []
    for message in messages:
        if message.get("role") == "tool" or message.get("tool_calls"):
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = [_part(part, message["role"]) for part in content]
        converted.append({"role": message["role"], "content": content or ""})
    return converted


def _part(part: dict, role: str) -> dict:
    kind = part.get("type")
    if kind == "text":
        return {"type": "output_text" if role == "assistant" else "input_text", "text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url") or {}
        return {"type": "input_image", "image_url": image.get("url"), "detail": image.get("detail", "auto")}
    if kind == "file":
        return {"type": "input_file", **(part.get("file") or {})}
    return part
