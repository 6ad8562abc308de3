"""Runs and run steps: create (also with a new thread), retrieve, list, update, cancel, submit
tool outputs; streamed as `thread.*` events when asked."""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import textgen
from .assistants import get_assistant
from .catalog import require_model
from .reasoning import effort_of
from .thread_messages import get_thread, make_message
from .errors import invalid, not_found
from .finetunes import fine_tuned_models
from .runs_life import (ACTIVE, advance, delta_event, draft_reply, event_payload, finish_reply,
                        latest_user_text, next_transition, reply, save_run)
from .shapes import check_metadata, check_tools, show, show_page
from .state import State, find, state
from .store import new_id, now
from .threads import new_thread
from .web import assistants_version, json_body, sse, sse_response

RUN_PARAMS = {"assistant_id", "model", "instructions", "additional_instructions", "additional_messages", "tools",
              "metadata", "stream", "temperature", "top_p", "max_prompt_tokens", "max_completion_tokens",
              "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format", "file_ids",
              "tool_resources", "reasoning_effort", "thread"}


def get_run(app: State, thread_id: str, run_id: str) -> dict:
    return advance(app, find(app, "run", run_id, what="run", param="run_id", parent=thread_id))


def new_run(app: State, thread_id: str, body: dict, version: str) -> dict:
    unknown = [key for key in body if key not in RUN_PARAMS]
    if unknown:
        raise invalid(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0], code="unknown_parameter")
    if not body.get("assistant_id"):
        raise invalid("Missing required parameter: 'assistant_id'.", param="assistant_id", code="missing_required_parameter")
    assistant = get_assistant(app, body["assistant_id"])
    for active in app.store.all("run", parent=thread_id, where=lambda r: r["status"] in ACTIVE):
        if advance(app, active)["status"] in ACTIVE:
            raise invalid(f"Thread {thread_id} already has an active run {active['id']}.")
    chosen = require_model(body.get("model") or assistant["model"], ("chat",), fine_tuned_models(app))
    effort_of(chosen, body.get("reasoning_effort"), "reasoning_effort")  # a model that does not reason refuses it
    model = chosen.id
    for message in body.get("additional_messages") or []:
        make_message(app, thread_id, message)
    instructions = body.get("instructions") or assistant["instructions"] or ""
    if body.get("additional_instructions"):
        instructions = f"{instructions}\n{body['additional_instructions']}".strip()
    created = now()
    run = {
        "id": new_id("run_"), "object": "thread.run", "created_at": created, "thread_id": thread_id,
        "assistant_id": assistant["id"], "status": "queued", "required_action": None, "last_error": None,
        "expires_at": created + int(app.settings.run_expiry), "started_at": None, "cancelled_at": None,
        "failed_at": None, "completed_at": None, "incomplete_details": None, "model": model,
        "instructions": instructions,
        "tools": check_tools(body["tools"], version) if body.get("tools") is not None else assistant["tools"],
        "file_ids": body.get("file_ids", assistant.get("file_ids", [])), "metadata": check_metadata(body.get("metadata")),
        "usage": None, "temperature": body.get("temperature", assistant.get("temperature", 1.0)),
        "top_p": body.get("top_p", assistant.get("top_p", 1.0)),
        "max_prompt_tokens": body.get("max_prompt_tokens"), "max_completion_tokens": body.get("max_completion_tokens"),
        "truncation_strategy": body.get("truncation_strategy") or {"type": "auto", "last_messages": None},
        "tool_choice": body.get("tool_choice", "auto"), "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "response_format": body.get("response_format", assistant.get("response_format", "auto")),
        "_since": time.time(), "_driven": bool(body.get("stream")), "_outputs": [],
        "_fail": textgen.FAIL_WORD in latest_user_text(app, thread_id),
    }
    return app.store.put("run", run, parent=thread_id)


def respond(request: Request, app: State, run: dict, version: str, first: list[str]) -> Response:
    if run.get("_driven"):
        return sse_response(drive(app, run, version, first))
    return JSONResponse(show("run", run, version))


async def drive(app: State, run: dict, version: str, first: list[str]) -> AsyncIterator[bytes]:
    """Stream a run: its opening events, then each transition's events until it waits or ends.
    A cancel request that arrives meanwhile is honoured at the next event, mid-reply included."""
    delay = app.settings.token_delay
    try:
        for name in first:
            yield sse(event_payload("run", run, version), name)
        while (transition := next_transition(catch_cancel(app, run))) is not None:
            if transition is not reply:
                for name, kind, obj in transition(app, run):
                    yield sse(event_payload(kind, obj, version), name)
                continue
            draft = draft_reply(app, run)
            for name, kind, obj in draft.opening:
                yield sse(event_payload(kind, obj, version), name)
            sent = 0
            for piece in draft.pieces:
                if catch_cancel(app, run)["status"] == "cancelling":
                    break
                name, kind, obj = delta_event(draft.message, piece)
                yield sse(event_payload(kind, obj, version), name)
                sent += 1
                if delay:
                    await asyncio.sleep(delay)
            for name, kind, obj in finish_reply(app, run, draft, sent):
                yield sse(event_payload(kind, obj, version), name)
        yield sse("[DONE]", "done")
    finally:
        # A client that hangs up mid-stream leaves the run to finish on its own schedule.
        run["_driven"] = False
        run["_since"] = time.time()
        save_run(app, run)


def catch_cancel(app: State, run: dict) -> dict:
    """A streamed run holds its own copy: take in a cancel that was stored meanwhile."""
    stored = app.store.get("run", run["id"])
    if stored is not None and stored["status"] == "cancelling":
        run["status"] = "cancelling"
    return run


async def create(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    thread_id = get_thread(app, request.path_params["thread_id"])["id"]
    run = new_run(app, thread_id, await json_body(request), version)
    return respond(request, app, run, version, ["thread.run.created", "thread.run.queued"])


async def create_thread_and_run(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    body = await json_body(request)
    if not body.get("assistant_id"):
        raise invalid("Missing required parameter: 'assistant_id'.", param="assistant_id", code="missing_required_parameter")
    get_assistant(app, body["assistant_id"])
    thread = new_thread(app, body.get("thread") or {})
    run = new_run(app, thread["id"], {k: v for k, v in body.items() if k != "thread"}, version)
    if run.get("_driven"):
        opening = sse(show("thread", thread, version), "thread.created")

        async def with_thread() -> AsyncIterator[bytes]:
            yield opening
            async for frame in drive(app, run, version, ["thread.run.created", "thread.run.queued"]):
                yield frame

        return sse_response(with_thread())
    return JSONResponse(show("run", run, version))


async def list_runs(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    thread_id = get_thread(app, request.path_params["thread_id"])["id"]
    runs = [advance(app, r) for r in app.store.all("run", parent=thread_id)]
    return JSONResponse(show_page("run", runs, request.query_params, version))


async def retrieve(request: Request) -> Response:
    app = state(request)
    run = get_run(app, request.path_params["thread_id"], request.path_params["run_id"])
    return JSONResponse(show("run", run, assistants_version(request)))


async def update(request: Request) -> Response:
    app = state(request)
    run = get_run(app, request.path_params["thread_id"], request.path_params["run_id"])
    body = await json_body(request)
    save_run(app, run, metadata=check_metadata(body.get("metadata")))
    return JSONResponse(show("run", run, assistants_version(request)))


async def cancel(request: Request) -> Response:
    app = state(request)
    run = get_run(app, request.path_params["thread_id"], request.path_params["run_id"])
    if run["status"] not in ("queued", "in_progress", "requires_action"):
        raise invalid(f"Cannot cancel run with status '{run['status']}'.")
    save_run(app, run, status="cancelling", _since=time.time())
    return JSONResponse(show("run", run, assistants_version(request)))


async def submit_tool_outputs(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    run = get_run(app, request.path_params["thread_id"], request.path_params["run_id"])
    if run["status"] != "requires_action":
        raise invalid(f"Runs in status \"{run['status']}\" do not accept tool outputs.")
    body = await json_body(request)
    outputs = body.get("tool_outputs")
    if not isinstance(outputs, list) or not outputs:
        raise invalid("Missing required parameter: 'tool_outputs'.", param="tool_outputs", code="missing_required_parameter")
    pending = {c["id"]: c for c in run["required_action"]["submit_tool_outputs"]["tool_calls"]}
    given = {}
    for output in outputs:
        call_id = output.get("tool_call_id") if isinstance(output, dict) else None
        if call_id not in pending:
            raise invalid(f"No tool call found with id '{call_id}'.", param="tool_outputs")
        given[call_id] = str(output.get("output", ""))
    missing = [call_id for call_id in pending if call_id not in given]
    if missing:
        raise invalid(f"Expected tool outputs for call_ids {list(pending)}, got {list(given)}.", param="tool_outputs")
    step = app.store.get("run_step", run["_step"])
    assert step is not None, "a run that requires action has its tool_calls step"
    for call in step["step_details"]["tool_calls"]:
        call["function"]["output"] = given[call["id"]]
    step.update(status="completed", completed_at=now())
    app.store.save("run_step", step)
    results = [(pending[i]["function"]["name"], out) for i, out in given.items()]
    save_run(app, run, status="queued", required_action=None, _outputs=results, _since=time.time(),
             _driven=bool(body.get("stream")))
    return respond(request, app, run, version, ["thread.run.queued"])


# -- run steps -------------------------------------------------------------------------------

async def list_steps(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    run = get_run(app, request.path_params["thread_id"], request.path_params["run_id"])
    return JSONResponse(show_page("run_step", app.store.all("run_step", parent=run["id"]), request.query_params, version))


async def retrieve_step(request: Request) -> Response:
    app = state(request)
    run = get_run(app, request.path_params["thread_id"], request.path_params["run_id"])
    step = app.store.get("run_step", request.path_params["step_id"], parent=run["id"])
    if step is None:
        raise not_found("run step", request.path_params["step_id"], "step_id")
    return JSONResponse(show("run_step", step, assistants_version(request)))


ROUTES = [
    ("/threads/runs", create_thread_and_run, ["POST"]),
    ("/threads/{thread_id}/runs", create, ["POST"]),
    ("/threads/{thread_id}/runs", list_runs, ["GET"]),
    ("/threads/{thread_id}/runs/{run_id}", retrieve, ["GET"]),
    ("/threads/{thread_id}/runs/{run_id}", update, ["POST"]),
    ("/threads/{thread_id}/runs/{run_id}/cancel", cancel, ["POST"]),
    ("/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", submit_tool_outputs, ["POST"]),
    ("/threads/{thread_id}/runs/{run_id}/steps", list_steps, ["GET"]),
    ("/threads/{thread_id}/runs/{run_id}/steps/{step_id}", retrieve_step, ["GET"]),
]
