"""The `responses` back end: assistants as local records, threads as conversations, runs as responses.

Every request of a run sends the assistant's model, instructions and tools again (they do not carry
over between responses). Runs go in the background (`background: true`) so they can be polled and
cancelled; a round of tool outputs is a new response on the same conversation carrying
`function_call_output` items.
"""

from __future__ import annotations

import time
from typing import Any, Iterator, Mapping, Sequence

from ..client.responses_stream import ResponseAccumulator
from ..client.urls import without_userinfo
from .base import (RUN_TIMEOUT, ActionRequired, MessageRecord, RunEnded, RunEvent, RunRecord, StepChanged,
                   StepRecord, ThreadRecord, ToolCall)
from .content import responses_content, text_format
from .handle import StreamOrPollRun
from .local_assistants import LocalAssistants
from .resolve import NotFound
from .responses_records import answer_item, flat_tools, item_message, item_step, resumed_tools, run_from_response
from .store import AssistantStore

__all__ = ["ResponsesBackend", "ResponsesRun"]

# The output a call gets when its run is cancelled while waiting for it; the model reads it next turn.
CANCELLED_OUTPUT = "cancelled: the run was cancelled before this call was answered"


def _file_ids(record: dict) -> list[str]:
    return list(record.get("file_ids") or [])


def user_input(text: str, file_ids: Sequence[str], parts: Sequence[dict] = ()) -> dict:
    """A user message item: its text, images and files (chat parts, see `content`), files by id."""
    return {"type": "message", "role": "user", "content": responses_content(text, parts, file_ids)}


class ResponsesBackend(LocalAssistants):
    """The Responses + Conversations APIs, with assistants and the thread index kept locally."""

    name = "responses"

    def __init__(self, client: Any, store: AssistantStore, run_timeout: float = RUN_TIMEOUT) -> None:
        self.client = client
        self.store = store
        self.run_timeout = run_timeout  # seconds a run is polled before it is given up on
        self.server = without_userinfo(client.base_url)  # the store's key for this server: never a token

    def _check_tools(self, tools: Sequence[dict]) -> list[dict]:
        return flat_tools(tools)

    # -- threads (conversations, indexed locally) and messages (conversation items) -----------------
    def create_thread(self, messages: Sequence[str] = (), *, metadata: Mapping[str, str] | None = None,
                      title: str | None = None) -> ThreadRecord:
        meta = {**({"title": title} if title else {}), **dict(metadata or {})}
        body: dict[str, Any] = {"items": [user_input(text, ()) for text in messages]}
        if meta:
            body["metadata"] = meta
        raw = self.client.conversations.create(**body)
        created = raw.get("created_at") or int(time.time())
        self.store.add_thread(self.server, raw["id"], title or (messages[0][:60] if messages else None), meta, created)
        return ThreadRecord(id=raw["id"], object="thread", title=title, metadata=meta, created_at=created, raw=raw)

    def get_thread(self, thread_id: str) -> ThreadRecord:
        raw = self.client.conversations.retrieve(thread_id)
        known = {t["id"]: t for t in self.store.threads(self.server)}.get(thread_id) or {}
        return ThreadRecord(id=raw["id"], object="thread", title=known.get("title"),
                            metadata=dict(raw.get("metadata") or {}), created_at=raw.get("created_at") or 0, raw=raw)

    def delete_thread(self, thread_id: str) -> bool:
        """Delete the conversation and its row in the index; False when the server no longer had it
        (deleted elsewhere, or expired) and only the row went: else the row could never leave."""
        from ..client import NotFoundError

        try:
            self.client.conversations.delete(thread_id)
        except NotFoundError:
            if not any(t["id"] == thread_id for t in self.store.threads(self.server)):
                raise  # neither side knows it: a mistyped id
            self.store.delete_thread(self.server, thread_id)
            return False
        self.store.delete_thread(self.server, thread_id)
        return True

    def list_messages(self, thread_id: str) -> list[MessageRecord]:
        items = self.client.conversations.items.list(thread_id, limit=100, order="asc").auto_paging_iter()
        return [m for m in (item_message(i, thread_id) for i in items) if m is not None]

    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = (),
                    parts: Sequence[dict] = ()) -> MessageRecord:
        added = self.client.conversations.items.create(thread_id, items=[user_input(text, file_ids, parts)])
        message = item_message((added.get("data") or [{}])[0], thread_id)
        assert message is not None, "the server answered an added message with its item"
        return message

    # -- how a response joins its thread: on the conversation ---------------------------------------
    def respond(self, thread_id: str, items: list[dict], settings: dict) -> Any:
        """Ask for one response of a run on the thread, with `items` as its new input; in the
        background, so it can be polled and cancelled."""
        body = {**settings, "conversation": thread_id, "input": items, "background": True, "store": True}
        return self.client.responses.create(**{k: v for k, v in body.items() if v not in (None, {})})

    def answered(self, thread_id: str, response: dict) -> None:
        """A response of a run on the thread ended: the conversation keeps it by itself."""

    # -- runs (chains of responses) and steps (their output items) ----------------------------------
    def start_run(self, assistant: str, *, thread_id: str | None = None, message: str | None = None,
                  model: str | None = None, instructions: str | None = None, tools: Sequence[dict] | None = None,
                  metadata: Mapping[str, str] | None = None, file_ids: Sequence[str] = (),
                  stream: bool = True, max_tokens: int | None = None, reasoning: str | None = None,
                  parts: Sequence[dict] = (), response_format: dict | None = None) -> "ResponsesRun":
        record = self.get_assistant(assistant)
        if thread_id is None:
            thread_id = self.create_thread(title=(message or "")[:60] or None)["id"]
        settings = {"model": model or record["model"], "instructions": instructions or record["instructions"],
                    "tools": flat_tools(tools if tools is not None else record["tools"]),
                    "metadata": dict(metadata or {}), "max_output_tokens": max_tokens,
                    "reasoning": {"effort": reasoning} if reasoning else None,
                    "text": text_format(response_format or record["raw"].get("response_format"))}
        files = [*record["raw"].get("file_ids", []), *file_ids]
        handle = ResponsesRun(self, thread_id, record["id"], settings, stream)
        handle.send([user_input(message, files, parts)] if message else [])
        return handle

    def resume_run(self, thread_id: str, run_id: str, *, stream: bool = True) -> "ResponsesRun":
        indexed = self._indexed(run_id)
        record = self.get_assistant(indexed["assistant_id"])
        latest = self.client.responses.retrieve(indexed["responses"][-1])
        settings = {"model": latest.get("model") or record["model"], "instructions": latest.get("instructions"),
                    "tools": resumed_tools(latest["tools"], record["tools"]) if latest.get("tools") else flat_tools(record["tools"]),
                    "metadata": latest.get("metadata") or {}}
        effort = (latest.get("reasoning") or {}).get("effort")
        if effort:  # the run's effort goes on with it (a model that does not reason is sent none)
            settings["reasoning"] = {"effort": effort}
        if ((latest.get("text") or {}).get("format") or {}).get("type") == "json_schema":  # so does its answer's shape
            settings["text"] = {"format": latest["text"]["format"]}
        handle = ResponsesRun(self, thread_id, record["id"], settings, stream)
        handle.run_key, handle._latest_id = run_id, latest["id"]
        handle._answered.add(latest["id"])  # its end was told when it came
        handle.take(latest)
        return handle

    def _indexed(self, run_id: str) -> dict:
        indexed = self.store.run(self.server, run_id)
        if indexed is None:
            raise NotFound(f"no run {run_id!r} in the local index of {self.server}")
        return indexed

    def list_runs(self, thread_id: str) -> list[RunRecord]:
        return [self._run(indexed) for indexed in self.store.runs(self.server, thread_id)]

    def _response(self, response_id: str) -> dict:
        """A response of a run, as the server has it now."""
        return self.client.responses.retrieve(response_id)

    def read_back(self, response: dict) -> dict:
        """The response as the server has it now (a run polled, or followed after its stream broke)."""
        return self.client.responses.retrieve(response["id"])

    def keep(self, response: dict) -> None:
        """A response of a run as it came: the server keeps it (see the chained back end)."""

    def _run(self, indexed: dict) -> RunRecord:
        latest = self._response(indexed["responses"][-1])
        return run_from_response(indexed["id"], indexed["thread_id"], indexed["assistant_id"], latest,
                                 indexed["created_at"], indexed["cancelled"])

    def get_run(self, thread_id: str, run_id: str) -> RunRecord:
        return self._run(self._indexed(run_id))

    def cancel_run(self, thread_id: str, run_id: str) -> RunRecord:
        run = self.get_run(thread_id, run_id)
        if run["status"] == "requires_action":  # nothing runs on the server while it waits for tool outputs
            self._answer_cancelled(thread_id, run["required_calls"])
            self.store.cancel_run(self.server, run_id)
            return self.get_run(thread_id, run_id)
        indexed = self._indexed(run_id)
        answer = self.client.responses.cancel(indexed["responses"][-1])
        return run_from_response(run_id, thread_id, indexed["assistant_id"], answer, indexed["created_at"])

    def _answer_cancelled(self, thread_id: str, calls: Sequence[ToolCall]) -> None:
        """Answer the calls a cancelled run leaves behind: the API refuses every later turn on a
        conversation holding a function call with no output, so the thread could not go on."""
        outputs = [answer_item(call, CANCELLED_OUTPUT) for call in calls]  # an approval request: denied
        if outputs:
            self.client.conversations.items.create(thread_id, items=outputs)

    def list_steps(self, thread_id: str, run_id: str) -> list[StepRecord]:
        indexed = self._indexed(run_id)
        steps = []
        for response_id in indexed["responses"]:
            response = self._response(response_id)
            steps += [item_step(item, run_id, response.get("created_at"), indexed["outputs"])
                      for item in response.get("output") or []]
        return steps

    # -- files: sent as input files with every run's message -----------------------------------------
    def list_files(self, assistant: str) -> list[str]:
        return _file_ids(self.get_assistant(assistant)["raw"])

    def attach_file(self, assistant: str, file_id: str) -> None:
        self.client.files.retrieve(file_id)  # a file the server does not have fails now, not at the next run
        self._change_assistant(assistant, lambda record: {**record, "file_ids": [*_file_ids(record), file_id]})

    def detach_file(self, assistant: str, file_id: str) -> None:
        self._change_assistant(assistant, lambda record: {**record,
                                                          "file_ids": [f for f in _file_ids(record) if f != file_id]})


class ResponsesRun(StreamOrPollRun):
    """A run as a chain of background responses, streamed (typed events) or polled."""

    def __init__(self, backend: ResponsesBackend, thread_id: str, assistant_id: str, settings: dict, stream: bool) -> None:
        super().__init__(thread_id, stream, backend.run_timeout)
        self.backend = backend
        self.assistant_id = assistant_id
        self.settings = settings
        self.run_key: str | None = None  # the run's id: its first response's
        self.response: dict = {}
        self._latest_id: str | None = None  # the newest response of the chain recorded in the index
        self._outputs: dict[str, str] = {}  # tool outputs sent, recorded with the response they start
        self._answered: set[str] = set()  # the responses whose end the thread has been told of
        self._reader = ResponseAccumulator()  # reads the stream of the latest response

    @property
    def client(self) -> Any:
        return self.backend.client

    def _wait_time(self, seconds: float) -> float:
        return self.backend.client.wait_time(seconds)

    def send(self, items: list[dict]) -> None:
        """One response of the run: the settings again, and the new input items in the thread's context."""
        answer = self.backend.respond(self.thread_id, items, {**self.settings, "stream": self.stream})
        if isinstance(answer, dict):
            self._stream = None
            self.take(answer)
        else:
            self._stream = answer
            self._reader = ResponseAccumulator()  # each response of the chain streams on its own

    def take(self, response: dict) -> RunRecord:
        """Note a response of this run (the first one names the run; later ones extend its chain
        in the local index, with the tool outputs that led to them) and return the run's state."""
        self.response = response
        response_id = response.get("id")
        if response_id:
            self.backend.keep(response)
        if self.run_key is None and response_id:
            self.run_key = response_id
            self.backend.store.add_run(self.backend.server, self.run_key, self.thread_id, self.assistant_id,
                                       response.get("created_at") or int(time.time()))
        elif response_id and response_id != self._latest_id:
            assert self.run_key is not None
            self.backend.store.extend_run(self.backend.server, self.run_key, response_id, self._outputs)
            self._outputs = {}
        self._latest_id = response_id
        assert self.run_key is not None, "a response without an id"
        if response.get("status") in ("completed", "incomplete") and response_id not in self._answered:
            self._answered.add(response_id)  # a stream and a poll may both bring the final response
            self.backend.answered(self.thread_id, response)
        self.state.run = run_from_response(self.run_key, self.thread_id, self.assistant_id, response)
        return self.state.run

    def _on_item(self, item: dict) -> Iterator[RunEvent]:
        """One stream event, read by the client's `ResponseAccumulator` (the one reader of the format)."""
        reader = self._reader
        pieces = reader.add(item)
        if reader.new_snapshot:
            yield from self._update(lambda: self.take(reader.response))
        if reader.new_item is not None:
            yield StepChanged(item_step(reader.new_item, self.run_key or "", None, {}))
        for _, piece in pieces:
            yield from self._add_text(piece, item.get("item_id"))

    def _fetch(self) -> RunRecord:
        return self.take(self.backend.read_back(self.response))

    def _settle(self) -> Iterator[RunEvent]:
        run = self.state.run
        assert run is not None
        outputs = (self.backend.store.run(self.backend.server, run["id"]) or {}).get("outputs", {})
        for item in self.response.get("output") or []:
            if item.get("type") != "message" or not self.stream or self.stream_broken:
                yield StepChanged(item_step(item, run["id"], self.response.get("created_at"), outputs))
        if run["status"] == "requires_action":
            yield ActionRequired(run, tuple(run["required_calls"]))
            return
        messages = [item_message(i, self.thread_id, run["id"]) for i in self.response.get("output") or []
                    if i.get("type") == "message"]
        self.state.messages = [m for m in messages if m is not None]
        yield from self._rest_of_reply("\n\n".join(m["text"] for m in self.state.messages if m["text"]))
        yield RunEnded(run)

    def submit(self, outputs: Mapping[str, str]) -> None:
        self._check_outputs(outputs)
        self._outputs = dict(outputs)
        calls = {call["id"]: call for call in self.pending_calls}
        self.send([answer_item(calls[call_id], output) for call_id, output in outputs.items()])
        self._resumed()

    def _cancel_on_server(self) -> RunRecord:
        assert self.run_key is not None
        return self.backend.cancel_run(self.thread_id, self.run_key)
