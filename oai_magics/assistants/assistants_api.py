"""The `assistants` back end: the Assistants API v2 (v1 when the client is configured for it).

Runs stream as `thread.*` events, or are polled; requires_action is the run's own status, answered
with submit_tool_outputs. Files: v1 attaches them to the assistant, v2 puts them in the code
interpreter's tool resources.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from .assistants_records import assistant_record, message_record, run_record, step_record, thread_record
from .base import (RUN_TIMEOUT, ActionRequired, AssistantRecord, MessageRecord, RunEnded, RunEvent, RunRecord,
                   StepChanged, StepRecord, ThreadRecord, Unsupported)
from .content import assistants_content
from .handle import StreamOrPollRun
from .resolve import NotFound, pick_assistant

__all__ = ["AssistantsBackend", "AssistantsRun"]

BUILT_IN_TOOLS = {"v1": ("code_interpreter", "retrieval"), "v2": ("code_interpreter", "file_search")}


class AssistantsBackend:
    """Assistants, threads, messages, runs and steps stored on the server."""

    name = "assistants"

    def __init__(self, client: Any, run_timeout: float = RUN_TIMEOUT) -> None:
        self.client = client
        self.run_timeout = run_timeout  # seconds a run is polled before it is given up on

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
        from ..client import NotFoundError

        try:
            if assistant.startswith("asst_"):
                return assistant_record(self.client.assistants.retrieve(assistant))
            return pick_assistant(self.list_assistants(), assistant)
        except (NotFound, NotFoundError) as exc:
            hint = _kept_locally(self.client.base_url, assistant)
            if hint:
                raise NotFound(f"{str(exc).splitlines()[0]}; {hint}") from None
            raise

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

    def delete_thread(self, thread_id: str) -> bool:
        """The server keeps the only list of threads: a thread it does not have is its 404."""
        self.client.threads.delete(thread_id)
        return True

    def list_messages(self, thread_id: str, run_id: str | None = None) -> list[MessageRecord]:
        params: dict[str, Any] = {"limit": 100, "order": "asc", **({"run_id": run_id} if run_id else {})}
        return [message_record(m) for m in self.client.threads.messages.list(thread_id, **params).auto_paging_iter()]

    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = (),
                    parts: Sequence[dict] = ()) -> MessageRecord:
        content, uploaded = assistants_content(self.client, text, parts)
        file_ids = [*file_ids, *uploaded]
        body: dict[str, Any] = {"role": "user", "content": content}
        if file_ids:
            body.update({"file_ids": list(file_ids)} if self.version == "v1" else
                        {"attachments": [{"file_id": f, "tools": [{"type": "code_interpreter"}]} for f in file_ids]})
        return message_record(self.client.threads.messages.create(thread_id, **body))

    # -- runs and steps --------------------------------------------------------------------------
    def start_run(self, assistant: str, *, thread_id: str | None = None, message: str | None = None,
                  model: str | None = None, instructions: str | None = None, tools: Sequence[dict] | None = None,
                  metadata: Mapping[str, str] | None = None, file_ids: Sequence[str] = (),
                  stream: bool = True, max_tokens: int | None = None, reasoning: str | None = None,
                  parts: Sequence[dict] = (), response_format: dict | None = None) -> "AssistantsRun":
        assistant_id = self.get_assistant(assistant)["id"]
        if thread_id is None:
            thread_id = self.create_thread(title=(message or "")[:60] or None)["id"]
        if message:
            self.add_message(thread_id, message, file_ids=file_ids, parts=parts)
        body = {"assistant_id": assistant_id, "model": model, "instructions": instructions,
                "tools": self._tools(tools) if tools is not None else None,
                "metadata": dict(metadata) if metadata else None, "max_completion_tokens": max_tokens,
                "reasoning_effort": reasoning, "response_format": response_format}
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


class AssistantsRun(StreamOrPollRun):
    """A run on the Assistants API: a `thread.*` event stream, or polling."""

    def __init__(self, backend: AssistantsBackend, thread_id: str, stream: bool) -> None:
        super().__init__(thread_id, stream, backend.run_timeout)
        self.backend = backend
        self._steps: dict[str, tuple] = {}

    def _wait_time(self, seconds: float) -> float:
        return self.backend.client.wait_time(seconds)

    def begin(self, answer: Any) -> None:
        """Take the server's answer to create/submit: a stream to read, or the run to poll."""
        if isinstance(answer, dict):
            self._stream = None
            self.state.run = run_record(answer)
        else:
            self._stream = answer

    def _on_item(self, item: dict) -> Iterator[RunEvent]:
        name, data = item["event"], item["data"]
        if name.startswith("thread.run.step."):
            yield StepChanged(step_record(data))
        elif name.startswith("thread.run."):
            yield from self._update(lambda: run_record(data))
        elif name == "thread.message.delta":
            for piece in (data.get("delta") or {}).get("content") or []:
                yield from self._add_text((piece.get("text") or {}).get("value") or "", data.get("id"))

    def _fetch(self) -> RunRecord:
        assert self.run_id is not None, "a polled run was created by a non-streamed request"
        return self.backend.get_run(self.thread_id, self.run_id)

    def _between_polls(self) -> Iterator[RunEvent]:
        assert self.run_id is not None
        for step in self.backend.list_steps(self.thread_id, self.run_id):
            key = (step["status"], step["summary"])
            if self._steps.get(step["id"]) != key:
                self._steps[step["id"]] = key
                yield StepChanged(step)

    def _settle(self) -> Iterator[RunEvent]:
        run = self.state.run
        assert run is not None
        if run["status"] == "requires_action":
            yield ActionRequired(run, tuple(run["required_calls"]))
            return
        yield from self._between_polls()  # a stream does not report every step's end
        self.state.messages = self.backend.list_messages(self.thread_id, run_id=run["id"])
        yield from self._rest_of_reply("\n\n".join(m["text"] for m in self.state.messages
                                                     if m["role"] == "assistant" and m["text"]))
        yield RunEnded(run)

    def submit(self, outputs: Mapping[str, str]) -> None:
        assert self.run_id is not None
        self._check_outputs(outputs)
        self.begin(self.backend.client.threads.runs.submit_tool_outputs(
            self.thread_id, self.run_id, stream=self.stream,
            tool_outputs=[{"tool_call_id": call_id, "output": output} for call_id, output in outputs.items()]))
        self._resumed()

    def _cancel_on_server(self) -> RunRecord:
        assert self.run_id is not None
        return self.backend.cancel_run(self.thread_id, self.run_id)


def _kept_locally(base_url: str, wanted: str) -> str:
    """What to add when `wanted` is not on the server but is an assistant the responses and chat back
    ends keep for it in the local store (made with `--api responses` or `--api chat`); else ""."""
    from contextlib import closing

    from ..client.urls import without_userinfo
    from .store import AssistantStore

    path = AssistantStore.default_path()
    if not path.exists():  # nothing was ever kept: no file is made for a hint
        return ""
    try:  # closed at once: a lookup per mistyped name leaves no connection open
        with closing(AssistantStore(path)) as store:
            kept = store.assistants(without_userinfo(base_url))
    except Exception:  # an unreadable store gives no hint, never a second error
        return ""
    if not any(wanted in (record["id"], record.get("name")) for record in kept):
        return ""
    return (f"{wanted!r} is an assistant of the responses and chat back ends, kept on this machine, not on the "
            "server: add --api responses (or --api chat)")
