"""Streamed answers put back together: one `Reply` from chat or legacy completion chunks.

    reply = consume(client.chat.completions.create(..., stream=True), ChunkAccumulator(),
                    on_text=lambda index, piece: print(piece, end=""))
    reply.text, reply.choices[1].text, reply.interrupted, reply.error

The interface is two parts, so other stream shapes (the Responses API's typed events) can be
accumulated the same way:

- an accumulator has a `reply` (the `Reply` built so far) and `add(chunk)`, which folds one
  decoded chunk into it and returns the text pieces that chunk added, as `(choice index, text)`;
- `consume(stream, accumulator, on_text)` reads the stream to its end and always returns the
  reply: Ctrl-C marks it `interrupted`, a broken stream stores the `OpenAIError` in `error`, and the
  text received so far is kept either way; the stream's connection is closed however it ends.

Text is kept as a list of parts per choice and joined once when read, so a long stream costs
linear time (appending to a growing string copies it on every chunk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

from .errors import APIError, APIResponseValidationError, OpenAIError

__all__ = ["Choice", "Reply", "Accumulator", "ChunkAccumulator", "consume", "pieces_of", "reply_from_answer",
           "checked_index", "MAX_INDEX_AHEAD"]

OnText = Callable[[int, str], None]
# How far past the last choice (or output item, or content part) a server may name a new one. Indices
# come in order with small gaps (choices of `n` interleave); the API's largest `n` is 128. A larger
# jump is a broken server, and growing a list up to it could take all memory.
MAX_INDEX_AHEAD = 128


def checked_index(index: Any, known: int, what: str) -> int:
    """`index` when it is a usable index among `known` items so far; else one clear error."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise APIError(f"the server sent {what} index {str(index)[:40]!r}, which is not an index")
    if index > known + MAX_INDEX_AHEAD:
        raise APIError(f"the server sent {what} index {index} after {known} so far: far beyond any reply, "
                       "so the reply ends here")
    return index


class _Parts:
    """Text that grows by appending; joined once when read, then kept joined."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def add(self, piece: str) -> None:
        self._parts.append(piece)

    def __str__(self) -> str:
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""


@dataclass
class Choice:
    """One of the `n` answers of a request: its text, tool calls and why it ended."""

    index: int
    finish_reason: str | None = None
    refused: bool = False  # the text is the model's refusal (the message's `refusal`), not an answer
    _text: _Parts = field(default_factory=_Parts, repr=False)
    _calls: dict[int, dict] = field(default_factory=dict, repr=False)

    @property
    def text(self) -> str:
        return str(self._text)

    @property
    def tool_calls(self) -> list[dict]:
        """Complete tool calls in the chat shape: `{id, type, function: {name, arguments}}`."""
        return [{"id": call["id"], "type": call["type"],
                 "function": {"name": str(call["name"]), "arguments": str(call["arguments"])}}
                for _, call in sorted(self._calls.items())]

    def add_text(self, piece: str) -> None:
        self._text.add(piece)

    def add_call_delta(self, delta: dict) -> None:
        """Fold one streamed tool-call fragment (the id and name arrive first, arguments in pieces)."""
        call = self._calls.setdefault(delta.get("index", 0), {"id": "", "type": "function", "name": _Parts(),
                                                              "arguments": _Parts()})
        call["id"] = delta.get("id") or call["id"]
        call["type"] = delta.get("type") or call["type"]
        function = delta.get("function") or {}
        call["name"].add(function.get("name") or "")
        call["arguments"].add(function.get("arguments") or "")

    def set_calls(self, calls: list[dict]) -> None:
        for index, call in enumerate(calls):
            self.add_call_delta({"index": index, **call})


@dataclass
class Reply:
    """A whole answer, possibly cut short (interrupted, or the stream broke off)."""

    model: str = ""
    choices: list[Choice] = field(default_factory=list)
    usage: dict = field(default_factory=dict)
    chunks: int = 0
    interrupted: bool = False
    error: OpenAIError | None = None

    def choice(self, index: int) -> Choice:
        """The choice with this index, made on first use (choices may arrive in any order, but not
        far beyond the ones so far: see `checked_index`)."""
        checked_index(index, len(self.choices), "choice")
        while len(self.choices) <= index:
            self.choices.append(Choice(len(self.choices)))
        return self.choices[index]

    @property
    def text(self) -> str:
        """The first choice's text (the one conversation memory keeps)."""
        return self.choices[0].text if self.choices else ""

    @property
    def texts(self) -> list[str]:
        return [choice.text for choice in self.choices]

    def output(self, asked: Any) -> str | list[str]:
        """The text when one choice was asked for, else the list of all `asked` choices ("" for one
        that had not begun when the reply ended): its type follows the request, not how far it got."""
        if not isinstance(asked, int) or isinstance(asked, bool) or asked <= 1:
            return self.text if len(self.choices) <= 1 else self.texts
        return self.texts + [""] * (asked - len(self.choices))

    @property
    def tool_calls(self) -> list[dict]:
        return self.choices[0].tool_calls if self.choices else []

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if self.choices else None

    @property
    def refused(self) -> bool:
        """Whether the (first) choice is a refusal rather than an answer."""
        return bool(self.choices) and self.choices[0].refused

    @property
    def complete(self) -> bool:
        return not self.interrupted and self.error is None

    def cut_short(self) -> str:
        """Why the reply is partial, in words ('' when it is complete)."""
        kept = "partial reply kept" if any(choice.text for choice in self.choices) else "nothing had arrived"
        if self.interrupted and self.tool_calls and self.error is None and self.finish_reason == "tool_calls":
            # the reply had come whole; Ctrl-C came while its tools ran (or were asked about)
            return "interrupted during the tool calls: they are not kept in the conversation"
        if self.interrupted:
            return f"interrupted: {kept}"
        if self.error is not None:
            return f"stream broken off: {kept} ({self.error})"  # the error says after how many events
        return ""


class Accumulator(Protocol):
    """Folds decoded stream chunks into a `Reply`."""

    reply: Reply

    def add(self, chunk: Any) -> list[tuple[int, str]]:
        """Fold one chunk in; the text pieces it added, as (choice index, text)."""
        ...


class ChunkAccumulator:
    """Chat completion chunks (`choices[].delta`) and legacy completion chunks (`choices[].text`)."""

    def __init__(self, model: str = "") -> None:
        self.reply = Reply(model=model)

    def add(self, chunk: dict) -> list[tuple[int, str]]:
        reply = self.reply
        reply.chunks += 1
        reply.model = chunk.get("model") or reply.model
        if chunk.get("usage"):
            reply.usage = chunk["usage"]
        pieces = []
        for part in chunk.get("choices") or []:
            choice = reply.choice(part.get("index", 0))
            delta = part.get("delta") or {}
            piece = _choice_text(part, delta)
            choice.refused = choice.refused or bool(delta.get("refusal"))
            if piece:
                choice.add_text(piece)
                pieces.append((choice.index, piece))
            for call in delta.get("tool_calls") or []:
                choice.add_call_delta(call)
            choice.finish_reason = part.get("finish_reason") or choice.finish_reason
        return pieces


def consume(stream: Iterator[Any], accumulator: Accumulator, on_text: OnText | None = None) -> Reply:
    """Read a stream to its end into the accumulator's reply; never loses what arrived.

    Ctrl-C and a broken stream (an `OpenAIError` while reading) end the reply early instead of
    raising; the stream is closed in every case, so its connection is released at once.
    """
    try:
        for chunk in stream:
            for index, piece in pieces_of(accumulator, chunk, stream):
                if on_text is not None:
                    on_text(index, piece)
    except KeyboardInterrupt:
        accumulator.reply.interrupted = True
    except OpenAIError as exc:
        accumulator.reply.error = exc
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return accumulator.reply


def pieces_of(accumulator: Accumulator, chunk: Any, stream: Any) -> list[tuple[int, str]]:
    """The accumulator's text pieces for one chunk; a chunk of a shape it cannot read (a server that
    speaks the format only roughly) ends the reply like a broken stream, keeping what came before."""
    try:
        return accumulator.add(chunk)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise APIError(f"the server sent a chunk that is not a valid stream event ({type(exc).__name__}: {exc}): "
                       f"{str(chunk)[:80]!r}", request_id=getattr(stream, "request_id", None)) from None


def message_text(message: dict) -> Any:
    """What a chat message (or delta) says: its content, given as text or as a list of text parts
    (as some compatible servers send it), else its refusal, which is the model's answer when it
    declines. Anything else is returned as it is, for the caller to refuse."""
    content = message.get("content")
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        texts = [p.get("refusal") if p.get("type") == "refusal" else p.get("text", "") for p in content
                 if p.get("type", "text") in ("text", "refusal")]
        if all(isinstance(text, str) for text in texts):
            content = "".join(texts)
    return content or message.get("refusal")


def _choice_text(part: dict, message: dict) -> str:
    """The text of one choice (a chat message or delta, or a legacy completion's `text`); TypeError
    for one that is not text, which the callers turn into their error."""
    text = message_text(message) or part.get("text") or ""
    if not isinstance(text, str):
        raise TypeError(f"text of type {type(text).__name__}")
    return text


def reply_from_answer(answer: dict) -> Reply:
    """The `Reply` of a whole (not streamed) chat or legacy completion answer; an answer with no
    choice, or with one that is not read as text, is one `APIResponseValidationError`."""
    choices = answer.get("choices")
    if not choices:
        raise APIResponseValidationError("the server answered with no choices: there is no reply to show")
    try:
        return _whole_reply(answer, choices)
    except (AttributeError, TypeError, ValueError) as exc:
        raise APIResponseValidationError(f"the server answered with a choice that is not a reply ({exc}): "
                                         f"{str(choices)[:80]!r}") from None


def _whole_reply(answer: dict, choices: list) -> Reply:
    usage = answer.get("usage")
    reply = Reply(model=str(answer.get("model") or ""), usage=usage if isinstance(usage, dict) else {})
    for part in choices:
        choice = reply.choice(part.get("index", 0))
        message = part.get("message") or {}
        choice.add_text(_choice_text(part, message))
        choice.refused = bool(message.get("refusal"))
        calls = message.get("tool_calls") or []
        if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
            raise TypeError("tool_calls that are not a list of objects")
        choice.set_calls(calls)
        choice.finish_reason = part.get("finish_reason")
    return reply
