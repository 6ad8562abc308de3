"""Assistants kept as local records, for the back ends whose server keeps none (responses, chat).

`LocalAssistants` is the part of a `Backend` that lists, makes, changes and deletes them in the
`AssistantStore`, per server, and lists the local index of threads (neither API lists them); a
back end says which tools its API can take (`_check_tools`). `LocalThreads` keeps the threads
themselves and their messages there too, for the back ends whose server keeps no thread (chat, and
responses without Conversations); a back end says how a message is stored and shown.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from typing import Any, Callable, Mapping, Sequence

from .base import AssistantRecord, MessageRecord, ThreadRecord, Unsupported
from .resolve import NotFound, pick_assistant
from .store import AssistantStore

__all__ = ["LocalAssistants", "LocalThreads", "ASSISTANT_FIELDS", "assistant_record"]

SHAPES = {"message": "chat", "item": "responses"}  # a stored message's key -> the back end that keeps it
ASSISTANT_FIELDS = ("name", "model", "instructions", "tools", "metadata", "file_ids", "response_format")


def assistant_record(record: dict) -> AssistantRecord:
    """A stored assistant as the back-end-neutral record."""
    return AssistantRecord(id=record["id"], object="assistant", name=record.get("name"), model=record["model"],
                           instructions=record.get("instructions"), tools=list(record.get("tools") or []),
                           metadata=dict(record.get("metadata") or {}), created_at=record["created_at"], raw=record)


class LocalAssistants(ABC):
    """Assistant records in `self.store`, under `self.server`."""

    store: AssistantStore
    server: str

    @abstractmethod
    def _check_tools(self, tools: Sequence[dict]) -> Any:
        """Raise `Unsupported` for a tool this back end cannot offer (checked when the assistant is
        made or changed, not at its first run)."""

    def list_assistants(self) -> list[AssistantRecord]:
        return [assistant_record(r) for r in self.store.assistants(self.server)]

    def create_assistant(self, *, name: str | None, model: str, instructions: str | None = None,
                         tools: Sequence[dict] = (), metadata: Mapping[str, str] | None = None,
                         **extra: Any) -> AssistantRecord:
        self._check_tools(tools)
        body = {"name": name, "model": model, "instructions": instructions, "tools": list(tools),
                "metadata": dict(metadata or {}), "file_ids": [], **extra}
        return assistant_record(self.store.add_assistant(self.server, body))

    def get_assistant(self, assistant: str) -> AssistantRecord:
        return pick_assistant(self.list_assistants(), assistant)

    def update_assistant(self, assistant: str, **changes: Any) -> AssistantRecord:
        unknown = set(changes) - set(ASSISTANT_FIELDS)
        if unknown:
            raise ValueError(f"an assistant has no setting {', '.join(sorted(unknown))}")
        if "tools" in changes:
            self._check_tools(changes["tools"])
        return self._change_assistant(assistant, lambda record: {**record, **changes})

    def _change_assistant(self, assistant: str, change: Callable[[dict], dict]) -> AssistantRecord:
        """Apply `change` to the stored record as it is now (another kernel may have changed it)."""
        assistant_id = self.get_assistant(assistant)["id"]
        record = self.store.change_assistant(self.server, assistant_id, change)
        if record is None:
            raise NotFound(f"assistant {assistant_id!r} was deleted meanwhile")
        return assistant_record(record)

    def delete_assistant(self, assistant: str) -> None:
        self.store.delete_assistant(self.server, self.get_assistant(assistant)["id"])

    def list_threads(self) -> list[ThreadRecord]:
        return [ThreadRecord(id=t["id"], object="thread", title=t["title"], metadata=t["metadata"],
                             created_at=t["created_at"], raw=t) for t in self.store.threads(self.server)]


class LocalThreads(ABC):
    """Threads and their messages in `self.store`, under `self.server`, in the order they were added."""

    store: AssistantStore
    server: str
    name: str  # the back end's name, for the line that says a thread is another's
    shape: str  # the key a stored message of this back end holds its body under

    @abstractmethod
    def _user_message(self, text: str) -> dict:
        """A user's message as this back end stores it."""

    @abstractmethod
    def _message_record(self, stored: dict, thread_id: str) -> MessageRecord | None:
        """A stored message as a row (None for what is no message)."""

    def create_thread(self, messages: Sequence[str] = (), *, metadata: Mapping[str, str] | None = None,
                      title: str | None = None) -> ThreadRecord:
        thread_id = f"thread_{uuid.uuid4().hex[:24]}"
        meta = {**({"title": title} if title else {}), **dict(metadata or {})}
        self.store.add_thread(self.server, thread_id, title or (messages[0][:60] if messages else None), meta,
                              int(time.time()))
        self.store.add_messages(self.server, thread_id, [self._user_message(text) for text in messages])
        return self.get_thread(thread_id)

    def get_thread(self, thread_id: str) -> ThreadRecord:
        found = next((t for t in self.store.threads(self.server) if t["id"] == thread_id), None)
        if found is None:
            raise NotFound(f"no thread {thread_id!r} in the local store of {self.server}")
        self._check_shape(thread_id)
        return ThreadRecord(id=found["id"], object="thread", title=found["title"], metadata=found["metadata"],
                            created_at=found["created_at"], raw=found)

    def _check_shape(self, thread_id: str) -> None:
        """Refuse a thread whose messages another back end keeps (both share the store): its
        messages can neither be shown nor sent in this back end's shape."""
        foreign = next((m for m in self.store.messages(self.server, thread_id) if self.shape not in m), None)
        if foreign is not None:
            other = next((name for key, name in SHAPES.items() if key in foreign), "another")
            raise Unsupported(f"thread {thread_id} is kept by the {other} back end, not the {self.name} one: "
                              f"use --api {other}")

    def delete_thread(self, thread_id: str) -> None:
        self.get_thread(thread_id)
        self.store.delete_thread(self.server, thread_id)

    def list_messages(self, thread_id: str) -> list[MessageRecord]:
        self.get_thread(thread_id)
        rows = (self._message_record(m, thread_id) for m in self.store.messages(self.server, thread_id))
        return [row for row in rows if row is not None]

    def _add_local_message(self, thread_id: str, body: dict) -> MessageRecord:
        self.get_thread(thread_id)
        row = self._message_record(self.store.add_messages(self.server, thread_id, [body])[0], thread_id)
        assert row is not None, "a user's message is a message"
        return row
