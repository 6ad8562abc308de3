"""Chat memory: what `%%chat` remembers of a named conversation, keyed by where each call was made,
and the tool-call loop. (The server-side Conversations API is another thing: `client.conversations`.)

A chat memory is a list of exchanges (a user prompt, any tool traffic, the reply). Each exchange
remembers the cell that made it and its position among that cell's calls, so a cell may ask
several times (two `%chat` lines, a loop) and each question is sent with the ones before it.
Running a cell again replaces all of that cell's exchanges, in order, where they stood: the
context a re-run sends is the conversation as it was before that cell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from .client import Client
from .client.accumulate import ChunkAccumulator, Reply, consume, reply_from_answer
from .tools import call_tool

__all__ = ["Call", "Exchange", "ChatMemory", "Reply", "open_usage_stream", "stream_reply", "streamed", "plain_reply", "run_chat", "new_exchange"]

MAX_TOOL_ROUNDS = 8
OnText = Callable[[int, str], None]


@dataclass(frozen=True)
class Call:
    """Where a prompt was asked: the cell, that cell's run, and the call's place within the run."""

    cell: str
    run: str
    position: int


@dataclass
class Exchange:
    call: Call
    messages: list[dict]  # the user's message, tool traffic, and the assistant's reply
    model: str
    at: datetime
    seconds: float
    usage: dict
    interrupted: bool = False
    # A remote MCP server's tool listing (the Responses `mcp_list_tools` item) by `RemoteServer.key`:
    # sent back with the later turns, so the API does not list the server's tools again each turn.
    listings: dict[str, dict] = field(default_factory=dict)

    @property
    def reply(self) -> str:
        last = self.messages[-1]
        return (last.get("content") or "") if last.get("role") == "assistant" else ""


class ChatMemory:
    """The exchanges of one named conversation of `%%chat`, in order."""

    def __init__(self, name: str, system: str | None = None) -> None:
        self.name = name
        self.system = system
        self.started = datetime.now(timezone.utc)  # the system prompt's row is dated from here
        self.exchanges: list[Exchange] = []

    def _slot(self, call: Call) -> tuple[int, int]:
        """Where an exchange from `call` goes, as (start, end) of the old exchanges it replaces.

        After the earlier calls of the same run; else in place of the cell's exchanges from an
        earlier run (all of them: the new run rewrites that cell's part of the conversation);
        else at the end.
        """
        for index, exchange in enumerate(self.exchanges):
            if exchange.call == call:
                return index, index + 1
        same_run = [i for i, e in enumerate(self.exchanges) if e.call.cell == call.cell and e.call.run == call.run]
        if same_run:
            earlier = [i for i in same_run if self.exchanges[i].call.position < call.position]
            at = earlier[-1] + 1 if earlier else same_run[0]
            return at, at
        older = [i for i, e in enumerate(self.exchanges) if e.call.cell == call.cell]
        if older:
            return older[0], older[-1] + 1
        return len(self.exchanges), len(self.exchanges)

    def context(self, call: Call) -> list[dict]:
        """The messages to send before the prompt of `call`."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        start, _ = self._slot(call)
        for exchange in self.exchanges[:start]:
            messages += exchange.messages
        return messages

    def listings(self, call: Call) -> dict[str, dict]:
        """The remote MCP listings of the exchanges before `call`, the latest for each server."""
        start, _ = self._slot(call)
        return {key: item for exchange in self.exchanges[:start] for key, item in exchange.listings.items()}

    def record(self, exchange: Exchange) -> None:
        """Add an exchange where its call belongs (a re-run's first call drops the cell's old ones)."""
        start, end = self._slot(exchange.call)
        self.exchanges[start:end] = [exchange]

    def rows(self) -> list[dict]:
        """One row per message, for a DataFrame."""
        rows = []
        if self.system:
            rows.append({"turn": 0, "role": "system", "content": self.system, "model": None, "at": self.started,
                         "interrupted": False})
        for turn, exchange in enumerate(self.exchanges, 1):
            for message in exchange.messages:
                content = message.get("content")
                if isinstance(content, list):  # a prompt with images: its text, and how many images
                    content = _parts_summary(content)
                if message.get("tool_calls"):
                    content = "; ".join(f"{c['function']['name']}({c['function']['arguments']})" for c in message["tool_calls"])
                rows.append({"turn": turn, "role": message["role"], "content": content,
                             "model": exchange.model if message["role"] == "assistant" else None, "at": exchange.at,
                             "interrupted": exchange.interrupted and message is exchange.messages[-1]})
        return rows


def _parts_summary(parts: list) -> str:
    """A content of parts in one line: its first text (the prompt), then what came with it
    (`[2 images, 1 file, 1 text]`: a text file goes as a text part)."""
    kinds = [p.get("type") if isinstance(p, dict) else None for p in parts]
    prompt = parts[0].get("text", "") if kinds[:1] == ["text"] else ""
    counts = {"image": kinds.count("image_url"), "file": kinds.count("file"), "text": kinds[1:].count("text")}
    extra = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items() if n)
    return prompt + (f" [{extra}]" if extra else "")


def stream_reply(client: Client, params: dict, on_text: OnText) -> Reply:
    """One streamed chat completion, accumulated; Ctrl-C or a broken stream keeps what arrived."""
    return streamed(client.chat.completions.create, params, on_text)


def streamed(create: Callable[..., Any], params: dict, on_text: OnText) -> Reply:
    """One stream from `create` (chat or legacy completions), accumulated; Ctrl-C or a broken
    stream keeps what arrived.

    A stream that fails before its first chunk (an error event, an answer that is no stream, a
    connection lost before anything came) is a failed request, raised as its error: there is no
    partial reply to keep. Ctrl-C before the first chunk gives an empty, interrupted reply, as
    `plain_reply` does.
    """
    try:  # waiting for the answer's head (a slow server, a retry's wait) is outside the stream's reading
        stream = open_usage_stream(create, params)
    except KeyboardInterrupt:
        return Reply(model=params.get("model", ""), interrupted=True)
    reply = consume(stream, ChunkAccumulator(params.get("model", "")), on_text)
    if reply.error is not None and not reply.chunks:
        raise reply.error
    return reply


def open_usage_stream(create: Callable[..., Any], params: dict) -> Any:
    """A chat or completion stream that reports its usage at the end; servers that do not know
    `stream_options` (older OpenAI-compatible ones) get the plain stream instead."""
    from .client import BadRequestError

    try:
        return create(**params, stream=True, stream_options={"include_usage": True})
    except BadRequestError as exc:
        if "stream_options" not in f"{exc.param} {exc.message}":
            raise
        return create(**params, stream=True)


def plain_reply(client: Client, params: dict, on_text: OnText) -> Reply:
    """One completion without streaming (Ctrl-C while waiting gives an empty, interrupted reply)."""
    try:
        answer = client.chat.completions.create(**params)
    except KeyboardInterrupt:
        return Reply(model=params.get("model", ""), interrupted=True)
    reply = reply_from_answer(answer)
    for choice in reply.choices:
        on_text(choice.index, choice.text)
    return reply


def add_usage(total: dict, usage: dict) -> None:
    """Add one answer's token counts to `total`, the details (reasoning tokens ...) included. A count
    a bad server got wrong (text, a fraction, below 0) stays in the total as it came, so the total is
    priced as no figure rather than as the part of it that looked right."""
    from .prices import token_count

    for key, value in usage.items():
        previous = total.get(key, 0)
        if isinstance(value, dict):
            add_usage(total.setdefault(key, {}), value)
        elif token_count(value) is not None and token_count(previous) is not None:
            total[key] = previous + value
        elif value is not None and token_count(previous) is not None:
            total[key] = value


def run_chat(client: Client, params: dict, functions: dict[str, Callable[..., Any]], *, stream: bool,
             on_text: OnText, on_tool: Callable[[str, str, str], None]) -> tuple[Reply, list[dict]]:
    """Ask, run any tools the model calls, ask again, until it answers (or is cut short).

    With `n > 1` the tools of the first choice are the ones run. Returns the final reply and the
    messages this exchange added to the first choice's thread (tool traffic included).
    """
    ask = stream_reply if stream else plain_reply
    messages = list(params["messages"])
    added: list[dict] = []
    total: dict[str, Any] = {}
    for _ in range(MAX_TOOL_ROUNDS):
        reply = ask(client, {**params, "messages": messages}, on_text)
        add_usage(total, reply.usage or {})
        if not (reply.tool_calls and reply.complete):
            break
        tool_round = [{"role": "assistant", "content": reply.text or None, "tool_calls": reply.tool_calls}]
        try:
            for call in reply.tool_calls:
                output = call_tool(functions, call["function"]["name"], call["function"]["arguments"])
                on_tool(call["function"]["name"], call["function"]["arguments"], output)
                tool_round.append({"role": "tool", "tool_call_id": call["id"], "content": output})
        except KeyboardInterrupt:  # Ctrl-C in a tool: a call without all its answers is not remembered
            reply.interrupted = True
            break
        messages += tool_round
        added += tool_round
    reply.usage = total or reply.usage
    added.append({"role": "assistant", "content": reply.text})
    return reply, added


def new_exchange(call: Call, prompt: Any, added: list[dict], reply: Reply, started: float) -> Exchange:
    """The exchange of one call; `prompt` is the user message's content as sent (text, or text and
    image parts), so a later question in the conversation sends it again."""
    return Exchange(call=call, messages=[{"role": "user", "content": prompt}] + added, model=reply.model,
                    at=datetime.now(timezone.utc), seconds=time.monotonic() - started, usage=reply.usage,
                    interrupted=not reply.complete)
