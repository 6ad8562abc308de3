"""The life of a run: queued -> in_progress -> requires_action (function tools) -> completed,
or cancelling -> cancelled, or expired while waiting for tool outputs; incomplete when the reply
reaches the run's max_completion_tokens; failed when the user's message holds "sandbox:fail".

Each transition is a function that updates the store and returns the stream events it makes.
Runs advance whenever anything reads them (each phase lasts `run_delay` seconds of virtual time),
and a streamed run drives its own transitions, pacing the events it sends.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from . import textgen
from .thread_messages import text_block, text_of
from .shapes import show
from .response_parts import seen_in_message
from .state import State
from .structured import structured_reply
from .store import new_id, now

Event = tuple[str, str, dict]  # (event name, object kind, stored object)
TERMINAL = ("completed", "cancelled", "failed", "expired", "incomplete")
ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")


def function_tools(run: dict) -> list[dict]:
    return [t for t in run.get("tools") or [] if t.get("type") == "function"]


def wants_tool_call(run: dict) -> bool:
    return bool(function_tools(run)) and run.get("tool_choice") != "none" and not run.get("_outputs")


def new_step(run: dict, kind: str, details: dict, status: str) -> dict:
    return {"id": new_id("step_"), "object": "thread.run.step", "created_at": now(), "assistant_id": run["assistant_id"],
            "thread_id": run["thread_id"], "run_id": run["id"], "type": kind, "status": status,
            "step_details": details, "last_error": None, "expired_at": None, "cancelled_at": None, "failed_at": None,
            "completed_at": None, "metadata": {}, "usage": None}


def save_run(app: State, run: dict, **changes: object) -> dict:
    run.update(changes)
    return app.store.save("run", run)


def start(app: State, run: dict) -> list[Event]:
    save_run(app, run, status="in_progress", started_at=now())
    return [("thread.run.in_progress", "run", run)]


def named_first(tools: list[dict], prompt: str) -> list[dict]:
    """The function tools with the one the prompt names first (`textgen.named_tool`)."""
    index = textgen.named_tool([tool["function"]["name"] for tool in tools], prompt)
    return tools[index:index + 1] + tools[:index] + tools[index + 1:]


def ask_for_tools(app: State, run: dict) -> list[Event]:
    """requires_action: one function call per function tool, arguments built from its schema."""
    prompt = latest_user_text(app, run["thread_id"])
    calls: list[dict[str, Any]] = [{"id": new_id("call_"), "type": "function",
              "function": {"name": tool["function"]["name"],
                           "arguments": json.dumps(textgen.arguments_for(tool["function"].get("parameters") or {}, prompt))}}
             for tool in named_first(function_tools(run), prompt)[:1]]
    step = new_step(run, "tool_calls", {"type": "tool_calls",
                                        "tool_calls": [{**c, "function": {**c["function"], "output": None}} for c in calls]},
                    "in_progress")
    app.store.put("run_step", step, parent=run["id"])
    save_run(app, run, status="requires_action", _step=step["id"],
             required_action={"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}})
    return [("thread.run.step.created", "run_step", step), ("thread.run.step.in_progress", "run_step", step),
            ("thread.run.requires_action", "run", run)]


@dataclass
class Draft:
    """A reply being written: what to announce, the text in pieces, and what to store at the end."""
    message: dict
    step: dict
    pieces: list[str]
    opening: list[Event]


def draft_reply(app: State, run: dict) -> Draft:
    """The assistant's message and its message_creation step, nothing stored yet. The text is cut
    to `max_completion_tokens` when the run has that limit (the run then ends incomplete)."""
    if run.get("_outputs"):
        text = textgen.tool_results_text(run["_outputs"])
    elif isinstance(run.get("response_format"), dict) and run["response_format"].get("type") == "json_schema":
        text = structured_reply(run["response_format"], latest_user_text(app, run["thread_id"]))
    else:
        asked = latest_user(app, run["thread_id"])
        text = textgen.reply_text(text_of(asked)) + seen_in_message(asked)
    pieces = textgen.tokens(text)
    if run.get("max_completion_tokens"):
        pieces = pieces[: run["max_completion_tokens"]]
    # A reply whose stream was abandoned is finished later under the ids that stream announced.
    announced = run.get("_draft") or {}
    message = {"id": announced.get("message") or new_id("msg_"), "object": "thread.message", "created_at": now(), "thread_id": run["thread_id"],
               "status": "in_progress", "incomplete_details": None, "completed_at": None, "incomplete_at": None,
               "role": "assistant", "content": [], "assistant_id": run["assistant_id"], "run_id": run["id"],
               "attachments": [], "file_ids": [], "metadata": {}}
    step = new_step(run, "message_creation", {"type": "message_creation", "message_creation": {"message_id": message["id"]}},
                    "in_progress")
    step["id"] = announced.get("step") or step["id"]
    run["_draft"] = {"message": message["id"], "step": step["id"]}
    opening: list[Event] = [("thread.run.step.created", "run_step", dict(step)), ("thread.run.step.in_progress", "run_step", dict(step)),
                            ("thread.message.created", "message", dict(message)), ("thread.message.in_progress", "message", dict(message))]
    if len(pieces) < len(textgen.tokens(text)):
        message["_cut"] = True
    return Draft(message, step, pieces, opening)


def delta_event(message: dict, piece: str) -> Event:
    return ("thread.message.delta", "delta", {"id": message["id"], "object": "thread.message.delta",
                                              "delta": {"content": [{"index": 0, "type": "text", "text": {"value": piece, "annotations": []}}]}})


def finish_reply(app: State, run: dict, draft: Draft, sent: int | None = None) -> list[Event]:
    """Store the message (its first `sent` pieces when a cancel cut it short) and end the run:
    completed, incomplete (cut by max_completion_tokens), or left for finish_cancel."""
    message, step = draft.message, draft.step
    run.pop("_draft", None)
    cut_by_cancel = sent is not None and sent < len(draft.pieces)
    text = "".join(draft.pieces[:sent] if cut_by_cancel else draft.pieces)
    created = now()
    prompt_tokens = textgen.count_tokens(latest_user_text(app, run["thread_id"])) + 20
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": textgen.count_tokens(text),
             "total_tokens": prompt_tokens + textgen.count_tokens(text)}
    cut = message.pop("_cut", False)
    if cut_by_cancel or cut:
        reason = "run_cancelled" if cut_by_cancel else "max_tokens"
        message.update(status="incomplete", incomplete_at=created, incomplete_details={"reason": reason},
                       content=[text_block(text)])
    else:
        message.update(status="completed", completed_at=created, content=[text_block(text)])
    app.store.put("message", message, parent=run["thread_id"])
    step.update(status="cancelled" if cut_by_cancel else "completed", completed_at=created, usage=usage)
    app.store.put("run_step", step, parent=run["id"])
    done = "thread.message.incomplete" if message["status"] == "incomplete" else "thread.message.completed"
    if cut_by_cancel:
        return [(done, "message", message)]
    if cut:
        save_run(app, run, status="incomplete", incomplete_details={"reason": "max_completion_tokens"}, usage=usage,
                 required_action=None)
        return [(done, "message", message), ("thread.run.step.completed", "run_step", step),
                ("thread.run.incomplete", "run", run)]
    save_run(app, run, status="completed", completed_at=created, usage=usage, required_action=None)
    return [(done, "message", message), ("thread.run.step.completed", "run_step", step),
            ("thread.run.completed", "run", run)]


def reply(app: State, run: dict) -> list[Event]:
    """The assistant's message, its message_creation step, and the completed run."""
    draft = draft_reply(app, run)
    return draft.opening + [delta_event(draft.message, p) for p in draft.pieces] + finish_reply(app, run, draft)


def fail(app: State, run: dict) -> list[Event]:
    """The run fails, as a real one does on a server error; asked for with textgen.FAIL_WORD."""
    save_run(app, run, status="failed", failed_at=now(), required_action=None,
             last_error={"code": "server_error", "message": f"The sandbox failed this run on request ({textgen.FAIL_WORD})."})
    return [("thread.run.failed", "run", run)]


def end_open_steps(app: State, run: dict, status: str, stamp: str) -> None:
    for step in app.store.all("run_step", parent=run["id"], where=lambda s: s["status"] == "in_progress"):
        app.store.update("run_step", step["id"], status=status, **{stamp: now()})


def finish_cancel(app: State, run: dict) -> list[Event]:
    end_open_steps(app, run, "cancelled", "cancelled_at")
    save_run(app, run, status="cancelled", cancelled_at=now(), required_action=None)
    return [("thread.run.cancelled", "run", run)]


def expire(app: State, run: dict) -> list[Event]:
    end_open_steps(app, run, "expired", "expired_at")
    save_run(app, run, status="expired", required_action=None)
    return [("thread.run.expired", "run", run)]


def next_transition(run: dict) -> Callable[[State, dict], list[Event]] | None:
    """What happens to the run next, or None when it waits (requires_action) or has ended."""
    status = run["status"]
    if status == "queued":
        return start
    if status == "in_progress":
        if run.get("_fail"):
            return fail
        return ask_for_tools if wants_tool_call(run) else reply
    if status == "cancelling":
        return finish_cancel
    return None


def advance(app: State, run: dict) -> dict:
    """Catch the run up with the time that has passed since its last transition."""
    if run.get("_driven"):
        return run  # a streaming request is moving this run itself
    delay = app.settings.run_delay
    clock = time.time()
    while True:
        if run["status"] == "requires_action":
            if clock - run["_since"] >= app.settings.run_expiry:
                expire(app, run)
            return run
        transition = next_transition(run)
        if transition is None or clock - run["_since"] < delay:
            return run
        run["_since"] += delay
        transition(app, run)


def advance_thread(app: State, thread_id: str) -> None:
    for run in app.store.all("run", parent=thread_id, where=lambda r: r["status"] in ACTIVE):
        advance(app, run)


def latest_user(app: State, thread_id: str) -> dict:
    """The thread's last user message ({} when it has none)."""
    users = app.store.all("message", parent=thread_id, where=lambda m: m["role"] == "user")
    return users[-1] if users else {}


def latest_user_text(app: State, thread_id: str) -> str:
    return text_of(latest_user(app, thread_id))


def event_payload(kind: str, obj: dict, version: str) -> dict:
    return obj if kind == "delta" else show(kind, obj, version)
