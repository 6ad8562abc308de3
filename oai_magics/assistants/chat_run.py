"""A run on the chat back end: one chat completion per round, over the thread's messages.

The server keeps nothing, so the run is a local record (`AssistantStore.save_run`) that this handle
moves through the same statuses as on the other back ends: in_progress while the completion
streams, requires_action when the model calls functions (answered with `submit`, which adds the
`tool` messages and lets the next round begin), then completed, incomplete (cut at the token
limit), failed or cancelled. The run is recorded once the server has taken its first request; a first
request that is refused leaves the thread as it was and no run behind.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Generator, Iterator, Mapping, Protocol

from ..client.accumulate import ChunkAccumulator, Reply, pieces_of, reply_from_answer
from .base import (ACTIVE, ActionRequired, RunEnded, RunEvent, RunHandle, RunRecord, StatusChanged, StepChanged,
                   TextDelta, Unsupported, reason)
from .chat_records import calls_of, history, message_record, new_step, run_record, step_record
from .store import AssistantStore

__all__ = ["ChatRun", "RunHome"]


class RunHome(Protocol):
    """What a run needs of its back end (the chat back end): the client to ask, and where its records are kept."""

    client: Any
    store: AssistantStore
    server: str


# Statuses a server answers when it does not take a request's `tools` (llama.cpp without --jinja,
# some older servers): a run with tools then says so in one line instead of failing obscurely.
REFUSED = (400, 404, 422, 501)


def refuses_tools(exc: Any) -> bool:
    """Whether a refusal is about the request's tools (its parameter, or its words), not its model or key."""
    return exc.status in REFUSED and (str(exc.param or "").startswith("tool") or "tool" in str(exc.message).lower())


class ChatRun(RunHandle):
    """One run of an assistant on a thread of the chat back end."""

    def __init__(self, backend: RunHome, body: dict, stream: bool) -> None:
        super().__init__(body["thread_id"], stream)
        self.backend = backend
        self.body = body  # the run as stored (status, settings, steps ...), once the server took it
        self.state.run = run_record(body) if body.get("status") else None
        self._answer: Any = None  # the answer to the round's request (a stream, or a whole completion), unread
        self._stream: Any = None  # the completion being read, closed by cancel()
        self._lock = threading.Lock()  # one writer of the record at a time: events() and cancel()

    # -- following the run ----------------------------------------------------------------------
    def open(self) -> None:
        """Send the round's request (the thread so far); the run is in progress once the server took it.
        A refusal is raised as it came, except a server's refusal of tools, which says so in one line."""
        from ..client import APIStatusError

        from ..chat_memory import open_usage_stream

        request, create = self._request(), self.backend.client.chat.completions.create
        try:  # a stream reports its usage at its end, as a whole answer does (where the server knows how)
            self._answer = open_usage_stream(create, request) if self.stream else create(**request)
        except APIStatusError as exc:
            if request.get("tools") and refuses_tools(exc):
                raise Unsupported(f"this server does not take tools on chat completions (the chat back end): "
                                  f"{exc.status} {exc.message}") from None
            raise
        self._save(status="in_progress")

    def events(self) -> Iterator[RunEvent]:
        if self.status == "requires_action":
            yield ActionRequired(self._run(), tuple(self.pending_calls))
            return
        if self.done:
            yield RunEnded(self._run())
            return
        if self._answer is None:  # the round's request failed to go out before: send it again
            self.open()
        yield StatusChanged(self._run())
        reply = yield from self._complete()
        if reply is not None:
            yield from self._settle(reply)

    def _run(self) -> RunRecord:
        assert self.state.run is not None, "the run has been recorded"
        return self.state.run

    def _complete(self) -> Generator[RunEvent, None, Reply | None]:
        """Read the round's answer; its reply, or None when the run ended without one."""
        from ..client import APIConnectionError, APIError, APIStatusError

        answer, self._answer = self._answer, None
        if isinstance(answer, dict):
            whole = reply_from_answer(answer)
            yield from self._add_text(whole.text)
            return whole
        reply = yield from self._read(answer)
        if self.cancel_requested.is_set():
            yield RunEnded(self._end("cancelled"))
            return None
        if reply.error is not None:
            error = reply.error
            if isinstance(error, APIError) and not isinstance(error, (APIStatusError, APIConnectionError)) and error.code:
                yield RunEnded(self._end("failed", f"{error.code}: {error.message}"))  # the server's own failure
                return None
            self._end("failed", f"the stream broke off ({type(error).__name__}: {error})")
            raise error  # what streamed stays in `text`
        return reply

    def _read(self, stream: Any) -> Generator[RunEvent, None, Reply]:
        """Read a streamed completion, yielding its text; Ctrl-C and errors leave what came in `text`."""
        from ..client import OpenAIError

        accumulator = ChunkAccumulator(self.body["model"])
        self._stream = stream
        try:
            with stream:
                for chunk in stream:
                    for index, piece in pieces_of(accumulator, chunk, stream):  # a chunk of no known shape: APIError
                        if index == 0:
                            yield from self._add_text(piece)
                    if self.cancel_requested.is_set():
                        break
        except OpenAIError as exc:
            accumulator.reply.error = exc
        except Exception:  # a stream closed under the reader by cancel() fails in whatever way the socket does
            if not self.cancel_requested.is_set():
                raise
        finally:
            self._stream = None
        return accumulator.reply

    def _add_text(self, text: str) -> Iterator[RunEvent]:
        if text:
            self.state.text_parts.append(text)
            yield TextDelta(text)

    def _request(self) -> dict:
        settings = self.body  # the run's model, instructions, tools and token limit
        store, server = self.backend.store, self.backend.server
        system = [{"role": "system", "content": settings["instructions"]}] if settings.get("instructions") else []
        request: dict[str, Any] = {"model": settings["model"],
                                   "messages": system + history(store.messages(server, self.thread_id))}
        if settings.get("tools"):
            request["tools"] = settings["tools"]
        if settings.get("max_tokens"):  # the name the servers of this back end know (llama.cpp, Ollama ...)
            request["max_tokens"] = settings["max_tokens"]
        if settings.get("reasoning_effort"):
            request["reasoning_effort"] = settings["reasoning_effort"]
        if settings.get("response_format"):  # the assistant answers in a shape
            request["response_format"] = settings["response_format"]
        return request

    def _settle(self, reply: Reply) -> Iterator[RunEvent]:
        """Keep the reply in the thread, record its steps, and stop: waiting for outputs, or ended."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = reply.tool_calls
        store, server, run_id = self.backend.store, self.backend.server, self.body["id"]
        kept = store.add_messages(server, self.thread_id, [{"message": message, "run_id": run_id}])[0]
        now, calls = int(time.time()), calls_of(message)
        steps = []
        if reply.text:
            steps.append(new_step(run_id, "message_creation", f"message {kept['id']}", now))
        if calls:
            said = "; ".join(f"{c['name']}({c['arguments']})" for c in calls)
            steps.append(new_step(run_id, "tool_calls", said, now, calls))
        for step in steps:
            yield StepChanged(step_record(step))
        usage = reply.usage or self.body.get("usage")
        if calls:
            run = self._save(status="requires_action", required_calls=calls, steps=self.body["steps"] + steps, usage=usage)
            yield ActionRequired(run, tuple(calls))
            return
        if reply.text:
            self.state.messages = [message_record(kept, self.thread_id)]
        status = "incomplete" if reply.finish_reason == "length" else "completed"
        yield RunEnded(self._end(status, steps=self.body["steps"] + steps, usage=usage))

    # -- the record -------------------------------------------------------------------------------
    def _save(self, **changes: Any) -> RunRecord:
        with self._lock:
            if self.body.get("status") in ("cancelled",) and changes.get("status") != "cancelled":
                return self._run()  # cancelled meanwhile (from another thread): that stands
            self.body = {**self.body, **changes}
            self.backend.store.save_run(self.backend.server, self.body)
            self.state.run = run_record(self.body)
            return self.state.run

    def _end(self, status: str, error: str | None = None, **changes: Any) -> RunRecord:
        cause = {"reason": "max_tokens"} if status == "incomplete" else None
        return self._save(status=status, completed_at=int(time.time()), required_calls=[],
                          error=error or reason(status, None, cause), **changes)

    # -- what a UI calls --------------------------------------------------------------------------
    def submit(self, outputs: Mapping[str, str]) -> None:
        calls = self.pending_calls
        missing = [c["id"] for c in calls if c["id"] not in outputs]
        if missing:
            raise ValueError(f"no output given for tool call(s) {', '.join(missing)}")
        answers = [{"message": {"role": "tool", "tool_call_id": c["id"], "content": str(outputs[c["id"]])},
                    "run_id": self.body["id"]} for c in calls]
        self.backend.store.add_messages(self.backend.server, self.thread_id, answers)
        steps = [self._answered(step, outputs) for step in self.body["steps"]]
        self._save(status="queued", required_calls=[], steps=steps)
        self.open()

    @staticmethod
    def _answered(step: dict, outputs: Mapping[str, str]) -> dict:
        """A tool_calls step with the outputs its calls were given, in its summary."""
        answered = [c for c in step.get("calls") or [] if c["id"] in outputs]
        if not answered:
            return step
        said = "; ".join(f"{c['name']}({c['arguments']}) -> {str(outputs[c['id']])[:80]}" for c in answered)
        return {**step, "summary": said}

    def cancel(self) -> RunRecord:
        self.cancel_requested.set()
        if self.state.run is None:
            raise ValueError("the run has not started yet: nothing to cancel")
        stream = self._stream
        if stream is not None:
            stream.close()  # ends the read at once; the reader keeps what came
        if self.status in ACTIVE:
            return self._end("cancelled")
        return self._run()

    def refresh(self) -> RunRecord:
        if self.state.run is None:
            raise ValueError("the run has not started yet")
        stored = self.backend.store.local_run(self.backend.server, self.body["id"])
        if stored is not None:
            self.body, self.state.run = stored, run_record(stored)
        return self._run()


def new_run(thread_id: str, assistant_id: str, settings: dict, metadata: Mapping[str, str]) -> dict:
    """A run not yet taken by the server: no status until the first request is answered. Its
    settings (model, instructions, tools, max_tokens) sit beside its id, as on an Assistants run."""
    return {"id": f"run_{uuid.uuid4().hex[:24]}", "object": "thread.run", "thread_id": thread_id,
            "assistant_id": assistant_id, "created_at": int(time.time()), **settings,
            "metadata": dict(metadata), "steps": [], "required_calls": [], "usage": None, "error": None}


__all__.append("new_run")
