"""Remote MCP servers, called by the API itself through the Responses `mcp` tool.

`RemoteServer` is what the user named: the server's URL and label, the headers it needs by the
name of the environment variable that holds each value, the tools it may use, the approval rule.
`tool()` is the `mcp` tool a request carries; the header values are read from the environment as
the request is built and kept nowhere else (not in the server record, a repr or an error).

`run_turn` sends one turn through /responses. The API lists the server's tools (`mcp_list_tools`),
calls them (`mcp_call`), or ends the response with an `mcp_approval_request`; each request is
decided by the rule (`approval.verdict`), asked in the cell when the rule says so
(`approval.ask`), and answered with an `mcp_approval_response` in a response that continues the
previous one, until the model replies.

The rule as the API's `require_approval`: `always` needs no request (`never`); `read-only` lets
the API run the tools the server marks read-only (`{"never": {"read_only": true}}`) and asks for
the rest; `ask` and `never` have every call asked (`always`): `never` answers each with a denial.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..chat_memory import add_usage
from ..client.accumulate import Reply, consume
from ..client.responses_stream import ResponseAccumulator, output_text
from ..local_errors import LocalError
from .approval import APPROVE_CHOICES, ask, verdict

__all__ = ["RemoteServer", "RemoteCall", "Turn", "MissingHeader", "EndlessApprovals", "run_turn", "listing_line",
           "decide", "error_text"]

MAX_APPROVAL_ROUNDS = 8  # responses one turn may continue through approvals
REQUIRE_APPROVAL: dict[str, Any] = {"always": "never", "read-only": {"never": {"read_only": True}},
                                    "ask": "always", "never": "always"}
OnText = Callable[[int, str], None]


class MissingHeader(LocalError):
    """A header of a remote MCP server names an environment variable that is not set."""

    hint = "set it in the kernel's environment (os.environ[NAME] = ...), never in the notebook"


class EndlessApprovals(LocalError):
    """The API still asked for approvals after a turn's last allowed round: the turn has no reply."""

    hint = "answer with --approve always (or never) to let the turn end without asking"


@dataclass(frozen=True)
class RemoteServer:
    """A remote MCP server as the user named it; `headers` maps a header to an environment variable's name."""

    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    tools: tuple[str, ...] = ()  # empty: all of them
    approve: str = "ask"

    def __post_init__(self) -> None:
        if self.approve not in APPROVE_CHOICES:
            raise ValueError(f"unknown approval rule {self.approve!r}; one of {', '.join(APPROVE_CHOICES)}")

    @property
    def key(self) -> str:
        """What a tool listing of this server holds for: the same label, address, allowed tools and
        header values (another token may see other tools). The values go in as a digest: the key is
        kept in memory beside the listing, and no secret needs to be."""
        values = json.dumps(sorted((header, os.environ.get(variable, "")) for header, variable in self.headers.items()))
        digest = hashlib.blake2b(values.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        return json.dumps([self.label, self.url, sorted(self.tools), digest])

    def record(self) -> dict:
        """The server as an assistant record keeps it: headers by the names of their variables only."""
        return {"type": "mcp", "server_label": self.label, "server_url": self.url, "header_env": dict(self.headers),
                "allowed_tools": list(self.tools), "approve": self.approve}

    @classmethod
    def from_record(cls, tool: dict) -> "RemoteServer":
        return cls(tool["server_label"], tool["server_url"], dict(tool.get("header_env") or {}),
                   tuple(tool.get("allowed_tools") or ()), tool.get("approve") or "ask")

    def tool(self) -> dict:
        """The Responses `mcp` tool for this server, its header values read from the environment now."""
        spec: dict[str, Any] = {"type": "mcp", "server_label": self.label, "server_url": self.url,
                                "require_approval": REQUIRE_APPROVAL[self.approve]}
        if self.tools:
            spec["allowed_tools"] = list(self.tools)
        if self.headers:
            spec["headers"] = {header: _environment(variable, header) for header, variable in self.headers.items()}
        return spec


@dataclass
class RemoteCall:
    """One MCP call of a reply, as `display.tool_calls` shows it."""

    server: str
    tool: str
    arguments: Any  # the arguments as the model gave them (a dict when they are JSON)
    result: str
    seconds: float
    outcome: str  # ok, error or denied


@dataclass
class Turn:
    reply: Reply
    calls: list[RemoteCall] = field(default_factory=list)
    listings: list[dict] = field(default_factory=list)  # the mcp_list_tools items
    responses: list[str] = field(default_factory=list)  # the ids of the responses of this turn


def listing_line(item: dict) -> str:
    """An `mcp_list_tools` item in one line: "server: N tools" (or its error)."""
    if item.get("error"):
        return f"{item.get('server_label')}: the tools could not be listed ({item['error']})"
    count = len(item.get("tools") or [])
    return f"{item.get('server_label')}: {count} tool{'s' if count != 1 else ''}"


def run_turn(client: Any, body: dict, servers: list[RemoteServer], *, stream: bool, on_text: OnText,
             on_listing: Callable[[dict], None] = lambda item: None,
             prompt: Callable[[str], str] | None = None) -> Turn:
    """Send `body` (model, input, and the servers' tools), answer approval requests, until a reply."""
    rules = {server.label: server.approve for server in servers}
    turn = Turn(Reply(model=body.get("model", "")))
    usage: dict[str, Any] = {}
    request = {**body, "tools": list(body.get("tools") or []) + [server.tool() for server in servers]}
    for rounds in range(1, MAX_APPROVAL_ROUNDS + 1):
        response, reply, timings = _respond(client, request, stream, on_text, on_listing)
        turn.reply = reply
        turn.responses.append(str(response.get("id")))
        add_usage(usage, reply.usage or {})
        output = response.get("output") or []
        turn.listings += [item for item in output if item.get("type") == "mcp_list_tools"]
        turn.calls += [_done_call(item, timings.get(item.get("id"), 0.0)) for item in output if item.get("type") == "mcp_call"]
        asked = [item for item in output if item.get("type") == "mcp_approval_request"]
        if not asked or not reply.complete:
            break
        if rounds == MAX_APPROVAL_ROUNDS:  # asking once more would go unanswered; an empty reply would pass
            raise EndlessApprovals(f"the API asked for MCP approvals in {rounds} responses in a row (last: "
                                   f"{response.get('id')}) without replying; the turn is not kept")
        answers = [_answer(item, rules, turn, prompt) for item in asked]
        request = {**request, "input": answers, "previous_response_id": response["id"]}
    turn.reply.usage = usage or turn.reply.usage
    return turn


def _respond(client: Any, request: dict, stream: bool, on_text: OnText,
             on_listing: Callable[[dict], None]) -> tuple[dict, Reply, dict[str, float]]:
    """One response: (the response, its reply, seconds each MCP call took as the stream showed it)."""
    if not stream:
        started = time.monotonic()
        response = client.responses.create(**request)
        for item in response.get("output") or []:
            if item.get("type") == "mcp_list_tools":
                on_listing(item)
        on_text(0, output_text(response))
        accumulator = ResponseAccumulator()
        accumulator.add({"type": "response.completed", "response": response})
        seconds = time.monotonic() - started
        return response, accumulator.reply, {i.get("id"): seconds for i in response.get("output") or []}
    accumulator, begun, timings = ResponseAccumulator(), {}, {}

    def watched() -> Any:
        for event in client.responses.create(**request, stream=True):
            item = event.get("item") if isinstance(event.get("item"), dict) else {}
            if event.get("type") == "response.output_item.added":
                begun[item.get("id")] = time.monotonic()
            elif event.get("type") == "response.output_item.done":
                timings[item.get("id")] = time.monotonic() - begun.get(item.get("id"), time.monotonic())
                if item.get("type") == "mcp_list_tools":
                    on_listing(item)
            yield event

    reply = consume(watched(), accumulator, on_text)
    if reply.error is not None and not accumulator.events:
        raise reply.error
    return accumulator.response, reply, timings


def _answer(request: dict, rules: dict[str, str], turn: Turn, prompt: Callable[[str], str] | None) -> dict:
    """The `mcp_approval_response` for one request, by the server's rule or the person's answer."""
    server, tool = str(request.get("server_label")), str(request.get("name"))
    rule = rules.get(server, "ask")
    if not decide(rule, server, tool, request.get("arguments"), _read_only(turn.listings, server, tool), prompt):
        why = "by the rule --approve never" if rule == "never" else "by the user"
        turn.calls.append(RemoteCall(server, tool, _arguments(request.get("arguments")), f"refused {why}", 0.0, "denied"))
        return {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": False,
                "reason": f"refused {why}"}
    return {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": True}


def decide(rule: str, server: str, tool: str, arguments: Any, read_only: bool = False,
           prompt: Callable[[str], str] | None = None) -> bool:
    """Whether an approval request is approved: by the rule, or by the person's answer when it says ask.
    (Under read-only the API runs the read-only tools itself, so what it asks about is not read-only.)"""
    decision = verdict(rule, read_only)
    if decision == "ask":
        return ask(server, tool, arguments or "{}", *([prompt] if prompt else []))
    return decision == "approve"


def error_text(error: Any) -> str:
    """An `mcp_call`'s error as a person reads it: a protocol or HTTP error's message, the text parts a
    tool's own error returned (its `content`), else the error as JSON."""
    if isinstance(error, str) or not isinstance(error, dict):
        return str(error)
    content = error.get("content")
    if isinstance(content, list):
        texts = [str(part.get("text")) for part in content if isinstance(part, dict) and part.get("text")]
        if texts:
            return " ".join(texts)
    return str(error.get("message") or json.dumps(content if content is not None else error, default=str))


def _done_call(item: dict, seconds: float) -> RemoteCall:
    error = item.get("error")
    if error:
        return RemoteCall(str(item.get("server_label")), str(item.get("name")), _arguments(item.get("arguments")),
                          error_text(error), seconds, "error")
    return RemoteCall(str(item.get("server_label")), str(item.get("name")), _arguments(item.get("arguments")),
                      str(item.get("output") or ""), seconds, "ok")


def _read_only(listings: list[dict], server: str, tool: str) -> bool:
    for listing in listings:
        if listing.get("server_label") == server:
            for entry in listing.get("tools") or []:
                if entry.get("name") == tool:
                    return bool((entry.get("annotations") or {}).get("readOnlyHint"))
    return False


def _arguments(arguments: Any) -> Any:
    try:
        return json.loads(arguments) if isinstance(arguments, str) and arguments else arguments or {}
    except ValueError:
        return arguments


def _environment(variable: str, header: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise MissingHeader(f"the header {header} of a remote MCP server comes from the environment variable "
                            f"{variable}, which is not set")
    return value

