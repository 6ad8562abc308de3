"""The `assistants` back end: the Assistants API v2 (v1 when the client is configured for it).

Runs stream as `thread.*` events, or are polled; requires_action is the run's own status, answered
with submit_tool_outputs. Files: v1 attaches them to the assistant, v2 puts them in the code
interpreter's tool resources.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator, Mapping, Sequence

from .assistants_records import assistant_record, message_record, run_record, step_record, thread_record
from .base import (ActionRequired, AssistantRecord, MessageRecord, RunEnded, RunEvent, RunHandle, RunRecord,
                   StatusChanged, StepChanged, StepRecord, TERMINAL, TextDelta, ThreadRecord, Unsupported)
from .polling import poll_intervals
from .resolve import pick_assistant

__all__ = ["AssistantsBackend", "AssistantsRun"]

BUILT_IN_TOOLS = {"v1": ("code_interpreter", "retrieval"), "v2": ("code_interpreter", "file_search")}


class AssistantsBackend:
    """Assistants, threads, messages, runs and steps stored on the server."""

    name = "assistants"

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def version(self) -> str:
        return self.client._requester.assistants_version

    # -- assistants ------------------------------------------------------------------------------
    def list_assistants(self) -> list[AssistantRecord]:
        return [assistant_record(a) for a in self.client.assistants.list(limit=100, order="asc").auto_paging_iter()]

    def create_assistant(self, *, name: str | None, model: str, instructions: str | None = None,
                         tools: Sequence[dict] = (), metadata: Mapping[str, str] | None = None,
                         **extra: Any) -> AssistantRecord:
        body = {"model": model, "name": name, "instructions": instructions, "tools": self._tools(tools),
                "metadata": dict(metadata or {}), **extra}
        return assistant_record(self.client.assistants.create(**{k: v for k, v in body.items() if v is not None}))

    def get_assistant(self, assistant: str) -> AssistantRecord:
        if assistant.startswith("asst_"):
            return assistant_record(self.client.assistants.retrieve(assistant))
        return pick_assistant(self.list_assistants(), assistant)

    def update_assistant(self, assistant: str, **changes: Any) -> AssistantRecord:
        if "tools" in changes:
            changes["tools"] = self._tools(changes["tools"])
        found = self.get_assistant(assistant)
        return assistant_record(self.client.assistants.update(found["id"], **changes))

    def delete_assistant(self, assistant: str) -> None:
        self.client.assistants.delete(self.get_assistant(assistant)["id"])

    def _tools(self, tools: Sequence[dict]) -> list[dict]:
        allowed = ("function",) + BUILT_IN_TOOLS[self.version]
        for tool in tools:
            if tool.get("type") not in allowed:
                raise Unsupported(f"the Assistants API {self.version} has no {tool.get('type')!r} tool "
                                  f"(it offers: {', '.join(allowed)})")
        return list(tools)

    # -- threads and messages -------------------------------------------------------------------
    def list_threads(self) -> list[ThreadRecord]:
        return [thread_record(t) for t in self.client.threads.list(limit=100, order="asc").auto_paging_iter()]

    def create_thread(self, messages: Sequence[str] = (), *, metadata: Mapping[str, str] | None = None,
                      title: str | None = None) -> ThreadRecord:
        meta = {**({"title": title} if title else {}), **dict(metadata or {})}
        body: dict[str, Any] = {"messages": [{"role": "user", "content": text} for text in messages]}
        if meta:
            body["metadata"] = meta
        return thread_record(self.client.threads.create(**body))

    def get_thread(self, thread_id: str) -> ThreadRecord:
        return thread_record(self.client.threads.retrieve(thread_id))

    def delete_thread(self, thread_id: str) -> None:
        self.client.threads.delete(thread_id)

    def list_messages(self, thread_id: str, run_id: str | None = None) -> list[MessageRecord]:
        params: dict[str, Any] = {"limit": 100, "order": "asc", **({"run_id": run_id} if run_id else {})}
        return [message_record(m) for m in self.client.threads.messages.list(thread_id, **params).auto_paging_iter()]

    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = ()) -> MessageRecord:
        body: dict[str, Any] = {"role": "user", "content": text}
        if file_ids:
            body.update({"file_ids": list(file_ids)} if self.version == "v1" else
                        {"attachments": [{"file_id": f, "tools": [{"type": "code_interpreter"}]} for f in file_ids]})
        return message_record(self.client.threads.messages.create(thread_id, **body))

    # -- runs and steps --------------------------------------------------------------------------
    def start_run(self, assistant: str, *, thread_id: str | None = None, message: str | None = None,
                  model: str | None = None, instructions: str | None = None, tools: Sequence[dict] | None = None,
                  metadata: Mapping[str, str] | None = None, file_ids: Sequence[str] = (),
                  stream: bool = True, max_tokens: int | None = None) -> "AssistantsRun":
        assistant_id = self.get_assistant(assistant)["id"]
        if thread_id is None:
            thread_id = self.create_thread(title=(message or "")[:60] or None)["id"]
        if message:
            self.add_message(thread_id, message, file_ids=file_ids)
        body = {"assistant_id": assistant_id, "model": model, "instructions": instructions,
                "tools": self._tools(tools) if tools is not None else None,
                "metadata": dict(metadata) if metadata else None, "max_completion_tokens": max_tokens}
        handle = AssistantsRun(self, thread_id, stream)
        handle.begin(self.client.threads.runs.create(thread_id, stream=stream,
                                                     **{k: v for k, v in body.items() if v is not None}))
        return handle

    def resume_run(self, thread_id: str, run_id: str, *, stream: bool = True) -> "AssistantsRun":
        handle = AssistantsRun(self, thread_id, stream)
        handle.begin(self.client.threads.runs.retrieve(thread_id, run_id))
        return handle

    def list_runs(self, thread_id: str) -> list[RunRecord]:
        pages = self.client.threads.runs.list(thread_id, limit=100, order="asc")
        return [run_record(r) for r in pages.auto_paging_iter()]

    def get_run(self, thread_id: str, run_id: str) -> RunRecord:
        return run_record(self.client.threads.runs.retrieve(thread_id, run_id))

    def cancel_run(self, thread_id: str, run_id: str) -> RunRecord:
        return run_record(self.client.threads.runs.cancel(thread_id, run_id))

    def list_steps(self, thread_id: str, run_id: str) -> list[StepRecord]:
        pages = self.client.threads.runs.steps.list(thread_id, run_id, limit=100, order="asc")
        return [step_record(s) for s in pages.auto_paging_iter()]

    # -- files -----------------------------------------------------------------------------------
    def list_files(self, assistant: str) -> list[str]:
        found = self.get_assistant(assistant)
        if self.version == "v1":
            return [f["id"] for f in self.client.assistants.files.list(found["id"]).auto_paging_iter()]
        resources = found["raw"].get("tool_resources") or {}
        return list((resources.get("code_interpreter") or {}).get("file_ids") or [])

    def attach_file(self, assistant: str, file_id: str) -> None:
        found = self.get_assistant(assistant)
        if self.version == "v1":
            self.client.assistants.files.create(found["id"], file_id=file_id)
        else:
            self._set_files(found, [*self.list_files(found["id"]), file_id])

    def detach_file(self, assistant: str, file_id: str) -> None:
        found = self.get_assistant(assistant)
        if self.version == "v1":
            self.client.assistants.files.delete(found["id"], file_id)
        else:
            self._set_files(found, [f for f in self.list_files(found["id"]) if f != file_id])

    def _set_files(self, assistant: AssistantRecord, file_ids: list[str]) -> None:
        tools = assistant["tools"]
        if not any(t.get("type") == "code_interpreter" for t in tools):
            tools = [*tools, {"type": "code_interpreter"}]
        self.client.assistants.update(assistant["id"], tools=tools,
                                      tool_resources={"code_interpreter": {"file_ids": file_ids}})


class AssistantsRun(RunHandle):
    """A run on the Assistants API: a `thread.*` event stream, or polling."""

    def __init__(self, backend: AssistantsBackend, thread_id: str, stream: bool) -> None:
        super().__init__(thread_id, stream)
        self.backend = backend
        self._stream: Any = None
        self._steps: dict[str, tuple] = {}
        self._wake = threading.Event()
        self._announced = False

    def begin(self, answer: Any) -> None:
        """Take the server's answer to create/submit: a stream to read, or the run to poll."""
        if isinstance(answer, dict):
            self._stream = None
            self.state.run = run_record(answer)
        else:
            self._stream = answer

    def events(self) -> Iterator[RunEvent]:
        if self._stream is None and self.state.run is not None and not self._announced:
            self._announced = True
            yield StatusChanged(self.state.run)  # a polled run: its first status came with its creation
        if self._stream is not None:
            yield from self._streamed()
        if self.state.run is None or self.state.run["status"] not in TERMINAL + ("requires_action",):
            yield from self._polled()  # a stream that ended early, or a polled run
        yield from self._settle()

    def _streamed(self) -> Iterator[RunEvent]:
        from ..client import APIStatusError, OpenAIError

        stream, self._stream = self._stream, None
        try:
            yield from self._read(stream)
        except APIStatusError:
            raise
        except OpenAIError as exc:  # dropped, cut short or garbled: the run goes on, so follow it by polling
            if self.run_id is None or self.cancel_requested.is_set():
                raise
            self.stream_broken = f"{type(exc).__name__}: {exc}"

    def _read(self, stream: Any) -> Iterator[RunEvent]:
        with stream:
            for item in stream:
                name, data = item["event"], item["data"]
                if name.startswith("thread.run.step."):
                    yield StepChanged(step_record(data))
                elif name.startswith("thread.run."):
                    yield from self._status(run_record(data))
                    if self.status in TERMINAL + ("requires_action",):
                        return
                elif name == "thread.message.delta":
                    for piece in (data.get("delta") or {}).get("content") or []:
                        text = (piece.get("text") or {}).get("value")
                        if text:
                            self.state.text_parts.append(text)
                            yield TextDelta(text, data.get("id"))

    def _polled(self) -> Iterator[RunEvent]:
        for interval in poll_intervals():
            if self.state.run is not None:
                if self.state.run["status"] in TERMINAL + ("requires_action",):
                    return
                yield from self._step_changes()
            if self.state.run is not None and self._wake.wait(interval):
                self._wake.clear()  # a cancel was sent: look again at once
            run_id = self.run_id
            assert run_id is not None, "a polled run was created by a non-streamed request"
            yield from self._status(self.backend.get_run(self.thread_id, run_id))

    def _step_changes(self) -> Iterator[RunEvent]:
        assert self.run_id is not None
        for step in self.backend.list_steps(self.thread_id, self.run_id):
            key = (step["status"], step["summary"])
            if self._steps.get(step["id"]) != key:
                self._steps[step["id"]] = key
                yield StepChanged(step)

    def _status(self, run: RunRecord) -> Iterator[RunEvent]:
        before = self.status
        self.state.run = run
        if run["status"] != before:
            yield StatusChanged(run)

    def _settle(self) -> Iterator[RunEvent]:
        """The closing event: tool calls to answer, or the end (with the run's messages and steps)."""
        run = self.state.run
        assert run is not None
        if run["status"] == "requires_action":
            yield ActionRequired(run, tuple(run["required_calls"]))
            return
        yield from self._step_changes()  # a stream does not report every step's end
        self.state.messages = self.backend.list_messages(self.thread_id, run_id=run["id"])
        reply = "\n\n".join(m["text"] for m in self.state.messages if m["role"] == "assistant" and m["text"])
        received = self.text
        if reply.startswith(received) and len(reply) > len(received):  # polled, or a stream broken off
            rest = reply[len(received):]
            self.state.text_parts.append(rest)
            yield TextDelta(rest)
        yield RunEnded(run)

    def submit(self, outputs: Mapping[str, str]) -> None:
        assert self.run_id is not None
        missing = [c["id"] for c in self.pending_calls if c["id"] not in outputs]
        if missing:
            raise ValueError(f"no output given for tool call(s) {', '.join(missing)}")
        answer = self.backend.client.threads.runs.submit_tool_outputs(
            self.thread_id, self.run_id, stream=self.stream,
            tool_outputs=[{"tool_call_id": call_id, "output": output} for call_id, output in outputs.items()])
        self.begin(answer)
        if not isinstance(answer, dict) and self.state.run is not None:
            self.state.run = RunRecord({**self.state.run, "status": "queued", "required_calls": []})  # type: ignore[misc]

    def cancel(self) -> RunRecord:
        self.cancel_requested.set()
        self._wake.set()
        if self.run_id is None:
            raise ValueError("the run has not started yet: nothing to cancel")
        run = self.backend.cancel_run(self.thread_id, self.run_id)
        self.state.run = run
        return run

    def refresh(self) -> RunRecord:
        assert self.run_id is not None
        self.state.run = self.backend.get_run(self.thread_id, self.run_id)
        return self.state.run
