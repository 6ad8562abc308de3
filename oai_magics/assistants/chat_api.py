"""The `chat` back end: assistants, threads, messages and runs kept locally, a run's rounds made
with chat completions, for every server that speaks only those (llama.cpp, Ollama, LM Studio,
vLLM ...).

The thread's messages are sent whole with every round, after the assistant's instructions as a
system message and with its function tools. Built-in tools and server-side files need a server
that keeps them: asked for here, they are refused in one line naming this back end.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..client.urls import without_userinfo
from .base import RUN_TIMEOUT, MessageRecord, RunRecord, StepRecord, Unsupported
from .chat_records import chat_tools, message_record, run_record, step_record
from .chat_run import ChatRun, new_run
from .content import chat_content
from .local_assistants import LocalAssistants, LocalThreads
from .resolve import NotFound
from .store import AssistantStore

__all__ = ["ChatBackend"]

NO_FILES = ("the chat back end has no server-side files (chat completions take none); put the text in the "
            "message, or use the responses or assistants back end (--api)")


class ChatBackend(LocalThreads, LocalAssistants):
    """Chat completions, with everything else kept in the local store."""

    name = "chat"
    shape = "message"  # messages are kept as chat messages
    no_files = NO_FILES  # what a form says before it would upload a file for a run

    def __init__(self, client: Any, store: AssistantStore, run_timeout: float = RUN_TIMEOUT) -> None:
        self.client = client
        self.store = store
        self.run_timeout = run_timeout  # nothing is polled here; kept for the interface
        self.server = without_userinfo(client.base_url)  # the store's key for this server: never a token

    def _check_tools(self, tools: Sequence[dict]) -> list[dict]:
        return chat_tools(tools)

    # -- threads and messages (local: `LocalThreads`) ------------------------------------------------
    def _user_message(self, text: str) -> dict:
        return {"message": {"role": "user", "content": text}}

    def _message_record(self, stored: dict, thread_id: str) -> MessageRecord:
        return message_record(stored, thread_id)

    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = (),
                    parts: Sequence[dict] = ()) -> MessageRecord:
        if file_ids:
            raise Unsupported(NO_FILES)
        return self._add_local_message(thread_id, {"message": {"role": "user", "content": chat_content(text, parts)}})

    # -- runs (local records) and steps -------------------------------------------------------------
    def start_run(self, assistant: str, *, thread_id: str | None = None, message: str | None = None,
                  model: str | None = None, instructions: str | None = None, tools: Sequence[dict] | None = None,
                  metadata: Mapping[str, str] | None = None, file_ids: Sequence[str] = (),
                  stream: bool = True, max_tokens: int | None = None, reasoning: str | None = None,
                  parts: Sequence[dict] = (), response_format: dict | None = None) -> ChatRun:
        record = self.get_assistant(assistant)
        if file_ids or record["raw"].get("file_ids"):
            raise Unsupported(NO_FILES)
        settings = {"model": model or record["model"], "instructions": instructions or record["instructions"],
                    "tools": chat_tools(tools if tools is not None else record["tools"]), "max_tokens": max_tokens,
                    "reasoning_effort": reasoning,
                    "response_format": response_format or record["raw"].get("response_format")}
        if thread_id is None:
            thread_id = self.create_thread(title=(message or "")[:60] or None)["id"]
        added = [self.add_message(thread_id, message, parts=parts)["id"]] if message else []
        self.get_thread(thread_id)
        handle = ChatRun(self, new_run(thread_id, record["id"], settings, metadata or {}), stream)
        try:
            handle.open()
        except BaseException:
            self.store.remove_messages(self.server, added)  # not sent: the thread is as it was
            raise
        return handle

    def resume_run(self, thread_id: str, run_id: str, *, stream: bool = True) -> ChatRun:
        return ChatRun(self, self._stored(run_id), stream)

    def _stored(self, run_id: str) -> dict:
        stored = self.store.local_run(self.server, run_id)
        if stored is None:
            raise NotFound(f"no run {run_id!r} in the local store of {self.server}")
        return stored

    def list_runs(self, thread_id: str) -> list[RunRecord]:
        return [run_record(body) for body in self.store.local_runs(self.server, thread_id)]

    def get_run(self, thread_id: str, run_id: str) -> RunRecord:
        return run_record(self._stored(run_id))

    def cancel_run(self, thread_id: str, run_id: str) -> RunRecord:
        """A run waiting for tool outputs ends here (nothing runs on the server meanwhile); a stream
        is stopped by its own handle's `cancel` (Ctrl-C, the form's Cancel)."""
        return ChatRun(self, self._stored(run_id), stream=False).cancel()

    def list_steps(self, thread_id: str, run_id: str) -> list[StepRecord]:
        return [step_record(step) for step in self._stored(run_id)["steps"]]

    # -- files: none on this back end ------------------------------------------------------------------
    def list_files(self, assistant: str) -> list[str]:
        raise Unsupported(NO_FILES)

    def attach_file(self, assistant: str, file_id: str) -> None:
        raise Unsupported(NO_FILES)

    def detach_file(self, assistant: str, file_id: str) -> None:
        raise Unsupported(NO_FILES)
