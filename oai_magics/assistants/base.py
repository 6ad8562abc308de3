"""The interface every assistants back end implements, and what a run reports while it goes.

Three back ends sit behind it (see `oai_magics.assistants.backend_for`):

- `assistants`: the Assistants API v2 (v1 by client configuration), served by the sandbox and the
  few servers that still have it;
- `responses`: the Responses + Conversations APIs. An assistant is a local record, a thread is a
  conversation, a run is a response on it, and "requires action" is a response that completed
  with `function_call` items;
- `chat`: chat completions only (llama.cpp, Ollama, LM Studio, vLLM ...). Assistants, threads,
  messages and runs are all local records; a run is a chat completion over the thread's messages.

Everything a back end hands out is a plain dict of one of the `*Record` shapes below, the same on
every back end, so tables (`oai_magics.frames.listing_frame`) and forms read alike. Each record
keeps what the server sent under `raw`.

A run is driven through a `RunHandle`:

    handle = backend.start_run(assistant_id, thread_id=None, message="Hello", stream=True)
    for event in handle.events():          # until the run waits for tool outputs or ends
        if isinstance(event, TextDelta): show(event.text)
        elif isinstance(event, StatusChanged): status_line(event.run["status"])
        elif isinstance(event, StepChanged): steps_table(event.step)
        elif isinstance(event, ActionRequired): ask_user(event.calls)
        elif isinstance(event, RunEnded): finish(event.run)
    if handle.pending_calls:               # the run waits: answer, then iterate again
        handle.submit({call["id"]: "42" for call in handle.pending_calls})
        for event in handle.events(): ...

`events()` blocks on the network (a stream, or polling when `stream=False` or after a stream broke
off); a UI calls it from a worker thread. Polling gives up after the back end's `run_timeout`
seconds with `RunTimeout` (the run goes on at the server). `cancel()` may be called from any thread while another iterates `events()`: the
server is asked to cancel and the iteration ends with a `RunEnded` whose status is `cancelled`
(or whatever the run reached first). Network failures are raised from `events()` as the client's
`OpenAIError`s; what streamed before stays in `handle.text`.

`oai_magics.assistants.driver.drive()` runs Python tool functions and submits their outputs
automatically; it is the loop both `%assistant run` and the thread-run builder use.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Mapping, NotRequired, Protocol, Sequence, TypedDict, Union, runtime_checkable

from ..local_errors import LocalError

__all__ = [
    "AssistantRecord", "ThreadRecord", "MessageRecord", "RunRecord", "StepRecord", "ToolCall",
    "StatusChanged", "TextDelta", "StepChanged", "ActionRequired", "ToolOutput", "RunEnded", "RunEvent",
    "RunHandle", "Backend", "BackendName", "TERMINAL", "UNSUCCESSFUL", "ACTIVE", "why_ended", "reason", "RunTimeout", "RUN_TIMEOUT",
]

BackendName = Literal["responses", "assistants", "chat"]

#: Run statuses, in the Assistants API's words on every back end.
TERMINAL = ("completed", "failed", "cancelled", "expired", "incomplete")
UNSUCCESSFUL = ("failed", "expired", "incomplete")  # the terminal statuses that are a problem to report
ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")

#: Seconds a run is polled (not streamed, or after its stream broke off) before it is given up on.
RUN_TIMEOUT = 600.0


# -- records: what listings and lookups return -------------------------------------------------

class AssistantRecord(TypedDict):
    id: str
    object: str  # "assistant"
    name: str | None
    model: str
    instructions: str | None
    tools: list[dict]  # chat/Assistants shape: {"type": "function", "function": {...}} or {"type": "code_interpreter"}
    metadata: dict[str, str]
    created_at: int  # epoch seconds
    raw: dict


class ThreadRecord(TypedDict):
    id: str
    object: str  # "thread"
    title: str | None
    metadata: dict[str, str]
    created_at: int
    raw: dict


class MessageRecord(TypedDict):
    id: str
    object: str  # "thread.message"
    thread_id: str
    role: str  # "user" | "assistant" | "tool" (a function call or its output, on the responses back end)
    text: str  # the content flattened to readable text
    annotations: list[dict]  # file citations and paths, as the server sent them
    run_id: str | None
    created_at: int | None
    raw: dict


class ToolCall(TypedDict):
    id: str  # the id to answer with (tool_call_id / call_id)
    name: str
    arguments: str  # JSON text, as the model wrote it
    # An MCP approval request (responses back end) names its server; it is answered with APPROVE or
    # DENY instead of an output, and the API runs (or not) the tool itself.
    server: NotRequired[str]


APPROVE, DENY = "approve", "deny"  # the answers to a ToolCall with a `server`


class RunRecord(TypedDict):
    id: str  # the run id (responses: the id of the run's first response; `raw` is its latest)
    object: str  # "thread.run"
    thread_id: str
    assistant_id: str | None
    status: str  # one of ACTIVE or TERMINAL
    model: str | None
    created_at: int | None
    completed_at: int | None
    error: str | None  # why it failed, expired, was cut short or cancelled; None otherwise
    required_calls: list[ToolCall]  # the calls waiting for outputs when status == "requires_action"
    usage: dict | None
    raw: dict


class StepRecord(TypedDict):
    id: str
    object: str  # "thread.run.step"
    run_id: str
    type: str  # "message_creation" | "tool_calls" | another output item type
    status: str
    summary: str  # one readable line: the message id, or "name(arguments) -> output"
    created_at: int | None
    completed_at: int | None
    raw: dict


def reason(status: str, error: dict | None, incomplete_details: dict | None) -> str | None:
    """Why a run is in `status`, in words, from the server's error or incomplete details (both
    APIs name them alike); None for a run that is fine."""
    if error:
        return f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}"
    if status == "incomplete":
        cause = (incomplete_details or {}).get("reason")
        return f"stopped early ({cause})" if cause else "stopped early"
    if status == "expired":
        return "the run expired before it finished (tool outputs not submitted in time)"
    if status in ("cancelled", "cancelling"):
        return "cancelled on request"
    return None


def why_ended(run: RunRecord) -> str:
    """One line for a run that ended: 'completed', or the status and the reason."""
    status = run["status"]
    if status == "completed":
        return "completed"
    return f"{status}: {run['error']}" if run.get("error") else status


# -- run events: what a live run reports -------------------------------------------------------

@dataclass(frozen=True)
class StatusChanged:
    """The run moved to a new status (queued, in_progress, cancelling ...)."""
    run: RunRecord


@dataclass(frozen=True)
class TextDelta:
    """A piece of the assistant's reply, in order."""
    text: str
    message_id: str | None = None


@dataclass(frozen=True)
class StepChanged:
    """A run step was created, advanced or finished."""
    step: StepRecord


@dataclass(frozen=True)
class ActionRequired:
    """The run waits for tool outputs: answer each call with `RunHandle.submit`."""
    run: RunRecord
    calls: tuple[ToolCall, ...]


@dataclass(frozen=True)
class ToolOutput:
    """A tool call was answered (by a Python function, or by the user); reported by the driver."""
    call: ToolCall
    output: str
    automatic: bool = True


@dataclass(frozen=True)
class RunEnded:
    """The run reached a terminal status; `why_ended(run)` says how in one line."""
    run: RunRecord


RunEvent = Union[StatusChanged, TextDelta, StepChanged, ActionRequired, ToolOutput, RunEnded]


# -- the handle on one run ---------------------------------------------------------------------

@dataclass
class RunState:
    """What a handle knows about its run; updated as events arrive."""
    thread_id: str
    run: RunRecord | None = None
    text_parts: list[str] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)  # new messages, filled when the run ends


class RunHandle(ABC):
    """One run of an assistant on a thread, from start to a terminal status.

    Not reusable across runs. `events()` and `submit()` belong to one thread at a time; `cancel()`,
    `status`, `text` and `run` may be read or called from any thread.
    """

    def __init__(self, thread_id: str, stream: bool) -> None:
        self.state = RunState(thread_id)
        self.stream = stream
        self.cancel_requested = threading.Event()
        #: Set when a stream broke off and the run was then followed by polling instead: why it broke.
        self.stream_broken: str | None = None

    # what a UI reads
    @property
    def thread_id(self) -> str:
        return self.state.thread_id

    @property
    def run(self) -> RunRecord | None:
        """The latest known state of the run (None until the server has created it)."""
        return self.state.run

    @property
    def run_id(self) -> str | None:
        return self.state.run["id"] if self.state.run else None

    @property
    def status(self) -> str:
        return self.state.run["status"] if self.state.run else "starting"

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def pending_calls(self) -> list[ToolCall]:
        """The tool calls waiting for outputs (empty unless the run requires action)."""
        run = self.state.run
        return list(run["required_calls"]) if run and run["status"] == "requires_action" else []

    @property
    def text(self) -> str:
        """The reply text received so far (kept when a stream breaks or is interrupted)."""
        return "".join(self.state.text_parts)

    @property
    def messages(self) -> list[MessageRecord]:
        """The messages this run added to the thread, once it has ended."""
        return list(self.state.messages)

    # what a UI calls
    @abstractmethod
    def events(self) -> Iterator[RunEvent]:
        """Drive the run until it waits for tool outputs or ends, yielding what happens.

        Streams when the handle was made with stream=True, else polls with a short interval.
        Ends after an `ActionRequired` or a `RunEnded`. Call again after `submit()`.
        """

    @abstractmethod
    def submit(self, outputs: Mapping[str, str]) -> None:
        """Answer the pending tool calls: {call id: output text}. Every pending call needs one."""

    @abstractmethod
    def cancel(self) -> RunRecord:
        """Ask the server to cancel the run; returns the run as the server then reports it."""

    @abstractmethod
    def refresh(self) -> RunRecord:
        """Fetch the run's current state from the server."""


@dataclass
class Probed:
    """What a server was found to speak: the back end it gets, and why, in words."""

    name: str
    why: str
    conversations: bool = True  # responses: the server keeps conversations (else a thread is a chain)
    stores_responses: bool = True  # a chain can name its last response (else its items are sent again)
    fallback: bool = False  # the probe could not tell: `chat` was taken as what works everywhere
    told: bool = False  # the fallback's line has been shown once


# -- the back end ------------------------------------------------------------------------------

@runtime_checkable
class Backend(Protocol):
    """Assistants, threads, messages, runs and steps on one server, whichever API it speaks.

    Assistants are named by id or by name wherever an `assistant` argument is taken. Tools are
    given in the chat/Assistants shape ({"type": "function", "function": {...}}, or a built-in
    such as {"type": "code_interpreter"}); a back end converts them to what its API expects and
    raises `Unsupported` (a ValueError) for a built-in tool it cannot offer.
    """

    name: BackendName
    run_timeout: float  # seconds a run is polled before `RunTimeout`

    # assistants
    def list_assistants(self) -> list[AssistantRecord]: ...
    def create_assistant(self, *, name: str | None, model: str, instructions: str | None = None,
                         tools: Sequence[dict] = (), metadata: Mapping[str, str] | None = None,
                         **extra: Any) -> AssistantRecord: ...
    def get_assistant(self, assistant: str) -> AssistantRecord: ...
    def update_assistant(self, assistant: str, **changes: Any) -> AssistantRecord: ...
    def delete_assistant(self, assistant: str) -> None: ...

    # threads and messages
    def list_threads(self) -> list[ThreadRecord]: ...
    def create_thread(self, messages: Sequence[str] = (), *, metadata: Mapping[str, str] | None = None,
                      title: str | None = None) -> ThreadRecord: ...
    def get_thread(self, thread_id: str) -> ThreadRecord: ...
    def delete_thread(self, thread_id: str) -> bool:
        """True when the server deleted it; False when only the local index still had it."""
        ...
    def list_messages(self, thread_id: str) -> list[MessageRecord]: ...
    def add_message(self, thread_id: str, text: str, *, file_ids: Sequence[str] = (),
                    parts: Sequence[dict] = ()) -> MessageRecord:
        """Add a user message; `parts` are its images and files as chat content parts
        (`oai_magics.assistants.content` says how each API is sent them)."""
        ...

    # runs and steps
    def start_run(self, assistant: str, *, thread_id: str | None = None, message: str | None = None,
                  model: str | None = None, instructions: str | None = None, tools: Sequence[dict] | None = None,
                  metadata: Mapping[str, str] | None = None, file_ids: Sequence[str] = (),
                  stream: bool = True, max_tokens: int | None = None, reasoning: str | None = None,
                  parts: Sequence[dict] = (), response_format: dict | None = None) -> RunHandle:
        """Add `message` (if any, with the images and files of `parts`) to the thread (a new one
        when None) and start a run; per-run settings override the assistant's (a `response_format`
        json_schema, the run's or else the assistant's, makes the run answer in that shape).
        `max_tokens` bounds the reply (the run ends incomplete);
        `reasoning` is a reasoning model's effort (none ... max)."""
        ...
    def resume_run(self, thread_id: str, run_id: str, *, stream: bool = True) -> RunHandle:
        """A handle on an existing run (one waiting for tool outputs, say, from an earlier cell)."""
        ...
    def list_runs(self, thread_id: str) -> list[RunRecord]: ...
    def get_run(self, thread_id: str, run_id: str) -> RunRecord: ...
    def cancel_run(self, thread_id: str, run_id: str) -> RunRecord: ...
    def list_steps(self, thread_id: str, run_id: str) -> list[StepRecord]: ...

    # files: v1 attaches to the assistant, v2 sets tool resources, responses sends input files
    def list_files(self, assistant: str) -> list[str]: ...
    def attach_file(self, assistant: str, file_id: str) -> None: ...
    def detach_file(self, assistant: str, file_id: str) -> None: ...


class RunTimeout(LocalError, TimeoutError):
    """Polling gave up on a run that had not stopped: it goes on at the server, where it can be
    looked at later (its id is `run_id`)."""

    hint = "it goes on at the server"

    def __init__(self, run: RunRecord, seconds: float) -> None:
        super().__init__(f"run {run['id']} was still {run['status']} after {seconds:g} s of waiting")
        self.run_id = run["id"]
        self.thread_id = run["thread_id"]


class Unsupported(LocalError, ValueError):
    """The back end cannot do what was asked (a built-in tool it lacks, say); one readable line."""


class OutputsMismatch(LocalError, ValueError):
    """Tool outputs that do not answer exactly the calls the run waits for; one readable line."""


__all__ += ["Unsupported", "OutputsMismatch", "Probed", "APPROVE", "DENY"]
