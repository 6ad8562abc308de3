"""accumulate: chat and legacy completion chunks folded into one Reply, however the stream ends."""

from __future__ import annotations

from typing import Any, Iterator

from oai_magics.client import APIConnectionError
from oai_magics.client.accumulate import ChunkAccumulator, consume, reply_from_answer


def chat_chunk(index: int, **delta: Any) -> dict:
    return {"model": "gpt-4o-mini", "choices": [{"index": index, "delta": delta, "finish_reason": None}]}


class Recorded:
    """A stream over given chunks that can fail after them, and remembers being closed."""

    def __init__(self, chunks: list[dict], then: BaseException | None = None) -> None:
        self.chunks, self.then, self.closed = chunks, then, False

    def __iter__(self) -> Iterator[dict]:
        yield from self.chunks
        if self.then is not None:
            raise self.then

    def close(self) -> None:
        self.closed = True


def test_interleaved_choices_stay_apart_with_their_tool_calls_usage_and_model() -> None:
    chunks = [chat_chunk(0, role="assistant", content=""), chat_chunk(1, role="assistant", content=""),
              chat_chunk(0, content="Hel"), chat_chunk(1, content="Bon"), chat_chunk(0, content="lo"),
              chat_chunk(1, content="jour"),
              chat_chunk(0, tool_calls=[{"index": 0, "id": "call_1", "type": "function",
                                         "function": {"name": "get_", "arguments": ""}}]),
              chat_chunk(0, tool_calls=[{"index": 0, "function": {"name": "weather", "arguments": '{"city":'}}]),
              chat_chunk(0, tool_calls=[{"index": 0, "function": {"arguments": ' "Oslo"}'}}]),
              {"model": "gpt-4o-mini-2024", "choices": [{"index": 1, "delta": {}, "finish_reason": "stop"},
                                                         {"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
              {"model": "gpt-4o-mini-2024", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}]
    pieces: list[tuple[int, str]] = []
    reply = consume(iter(chunks), ChunkAccumulator("asked"), lambda index, piece: pieces.append((index, piece)))
    assert reply.texts == ["Hello", "Bonjour"] and reply.text == "Hello"
    assert pieces == [(0, "Hel"), (1, "Bon"), (0, "lo"), (1, "jour")]
    assert reply.tool_calls == [{"id": "call_1", "type": "function",
                                 "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]
    assert [c.finish_reason for c in reply.choices] == ["tool_calls", "stop"]
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 4} and reply.model == "gpt-4o-mini-2024"
    assert reply.complete and reply.cut_short() == "" and reply.chunks == len(chunks)


def test_legacy_completion_chunks() -> None:
    chunks = [{"model": "gpt-3.5-turbo-instruct", "choices": [{"index": i % 2, "text": t, "finish_reason": None}]}
              for i, t in enumerate(["Once", "Twice", " upon", " more"])]
    reply = consume(iter(chunks), ChunkAccumulator())
    assert reply.texts == ["Once upon", "Twice more"]


def test_ctrl_c_and_a_broken_stream_keep_the_partial_text_and_close() -> None:
    interrupted = Recorded([chat_chunk(0, content="Par"), chat_chunk(0, content="tial")], then=KeyboardInterrupt())
    reply = consume(interrupted, ChunkAccumulator())
    assert reply.text == "Partial" and reply.interrupted and interrupted.closed
    assert reply.cut_short() == "interrupted: partial reply kept"
    broken = Recorded([chat_chunk(0, content="Half")], then=APIConnectionError("the server closed the connection"))
    reply = consume(broken, ChunkAccumulator())
    assert reply.text == "Half" and not reply.complete and broken.closed
    assert reply.cut_short() == ("stream broken off: partial reply kept "
                                 "(the server closed the connection)")
    reply = consume(Recorded([], then=KeyboardInterrupt()), ChunkAccumulator())
    assert reply.interrupted and reply.cut_short() == "interrupted: nothing had arrived"


def test_a_whole_answer_gives_the_same_reply() -> None:
    answer = {"model": "m", "usage": {"total_tokens": 9}, "choices": [
        {"index": 0, "message": {"content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"},
        {"index": 1, "message": {"content": "Second"}, "finish_reason": "stop"}]}
    reply = reply_from_answer(answer)
    assert reply.texts == ["", "Second"] and reply.tool_calls[0]["function"] == {"name": "f", "arguments": "{}"}
    assert reply_from_answer({"choices": [{"index": 0, "text": " legacy", "finish_reason": "length"}]}).text == " legacy"


def test_a_long_stream_is_joined_once_and_kept_joined() -> None:
    reply = consume(iter(chat_chunk(0, content="x") for _ in range(200_000)), ChunkAccumulator())
    assert reply.text == "x" * 200_000 and reply.text is reply.text
