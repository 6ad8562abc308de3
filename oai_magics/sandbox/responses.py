"""The Responses API: create (plain, streamed, in the background), retrieve, delete, cancel, and a
response's input items.

A response's context is its `previous_response_id` chain or its conversation's items, then its
own input. What its `mcp` tools do is decided in `response_mcp` (it calls their servers), what it
says in `response_output`; the stream in `response_events`. A
background response is stored `queued` and moves to `in_progress`, then to its end, each phase
lasting `run_delay` seconds, whenever anything reads it; cancel stops it on the way. A streamed
background response is in progress while it streams, and can be cancelled mid-stream. A user
input holding "sandbox:fail" makes the response fail.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import textgen
from .catalog import require_model
from .reasoning import effort_of, reasoning_tokens, with_reasoning
from .chat import paced
from .conversations import append_items, conversation_id, get_conversation, item_page, items_of
from .errors import ApiError, invalid, not_found
from .finetunes import fine_tuned_models
from .items import check_calls_answered, input_items, text_of
from .mcp_items import mcp_servers
from .response_mcp import mcp_step
from .response_events import stream_events
from .response_output import check_text, check_tool_choice, check_tools, generate
from .shapes import check_metadata
from .state import State, state
from .store import new_id, now
from .web import json_body, optional, reject_unknown, sse, sse_response

__all__ = ["ROUTES"]

CREATE_PARAMS = {
    "background", "context_management", "conversation", "include", "input", "instructions", "max_output_tokens",
    "max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls", "previous_response_id", "prompt",
    "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier",
    "service_tier", "store", "stream", "stream_options", "temperature", "text", "tool_choice", "tools",
    "top_logprobs", "top_p", "truncation", "user",
}
TERMINAL = ("completed", "incomplete", "failed", "cancelled")


def public(response: dict) -> dict:
    """The response as the API shows it: without the sandbox's own bookkeeping (keys with `_`)."""
    return {key: value for key, value in response.items() if not key.startswith("_")}


def get_response(app: State, response_id: str) -> dict:
    """A stored response, caught up with the time passed if it runs in the background."""
    found = app.store.get("response", response_id)
    if found is None:
        raise not_found("response", response_id, "response_id")
    return advance(app, found)


def context_of(app: State, body: dict) -> tuple[list[dict], str | None]:
    """(the items before this request's input, the conversation id if one is used)."""
    previous, conversation = body.get("previous_response_id"), body.get("conversation")
    if previous is not None and conversation is not None:
        raise invalid("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' "
                      "or 'conversation'.", param=None, code="mutually_exclusive_parameters")
    if previous is not None:
        if not isinstance(previous, str):
            raise invalid("Invalid type for 'previous_response_id': expected a string.", param="previous_response_id")
        prior = app.store.get("response", previous)
        if prior is None:
            raise ApiError(404, f"Previous response with id '{previous}' not found.", param="previous_response_id")
        return prior["_context"] + prior["_input"] + prior["output"], None
    if conversation is not None:
        found = get_conversation(app, conversation_id(conversation), param="conversation")["id"]
        return items_of(app, found), found
    return [], None


async def new_response(app: State, body: dict) -> dict:
    """Validate a create request and build the finished response (with its bookkeeping)."""
    reject_unknown(body, CREATE_PARAMS)
    model = require_model(body.get("model"), ("chat",), fine_tuned_models(app))
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    effort = effort_of(model, reasoning.get("effort"), "reasoning.effort")
    if body.get("input") is None:
        raise invalid("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    store = optional(body, "store", "boolean", True)
    background = optional(body, "background", "boolean", False)
    if background and not store:
        raise invalid("Background mode requires 'store' to be true.", param="background")
    instructions = optional(body, "instructions", "string")
    max_output_tokens = optional(body, "max_output_tokens", "integer", minimum=16)
    temperature = optional(body, "temperature", "number", 1.0, minimum=0, maximum=2)
    top_p = optional(body, "top_p", "number", 1.0, minimum=0, maximum=1)
    tools = check_tools(body.get("tools"))
    tool_choice = check_tool_choice(body.get("tool_choice"), tools)
    text = check_text(body.get("text"))
    metadata = check_metadata(body.get("metadata"))
    context, conversation = context_of(app, body)
    given = input_items(body["input"])
    check_calls_answered(context + given)
    thinking = reasoning_tokens(effort)  # counted against max_output_tokens, like the visible text
    budget = None if max_output_tokens is None else max(max_output_tokens - thinking, 0)
    offers_functions = any(tool["type"] == "function" for tool in tools)
    mcp = await mcp_step(mcp_servers(body["tools"]) if tools else [], context + given, offers_functions, tool_choice,
                         parallel=optional(body, "parallel_tool_calls", "boolean", True))
    outcome = generate(context + given, tools, tool_choice, text, instructions, budget, mcp)
    created = now()
    return {
        "id": new_id("resp_"), "object": "response", "created_at": created, "status": outcome.status,
        "background": background, "completed_at": created, "error": None,
        "incomplete_details": outcome.incomplete_details, "instructions": instructions,
        "max_output_tokens": max_output_tokens, "max_tool_calls": None, "model": model.id, "output": outcome.output,
        "parallel_tool_calls": optional(body, "parallel_tool_calls", "boolean", True),
        "previous_response_id": body.get("previous_response_id"), "reasoning": {"effort": effort, "summary": None},
        "service_tier": "default", "store": store, "temperature": temperature, "text": text,
        "tool_choice": tool_choice, "tools": tools, "top_logprobs": 0, "top_p": top_p, "truncation": "disabled",
        "usage": with_reasoning(outcome.usage, thinking), "metadata": metadata,
        "conversation": {"id": conversation} if conversation else None,
        "_context": context, "_input": given, "_conversation": conversation,
    }


def fail_if_asked(response: dict) -> dict:
    """A response whose user input holds textgen.FAIL_WORD fails, as one does on a server error."""
    if any(textgen.FAIL_WORD in text_of(item) for item in response["_input"] if item.get("role") == "user"):
        response.update(status="failed", output=[], usage=None, incomplete_details=None,
                        error={"code": "server_error", "message": f"The sandbox failed this response on request ({textgen.FAIL_WORD})."})
    return response


def finish(app: State, response: dict) -> None:
    """A response reached its end: its input and output join its conversation."""
    if response["_conversation"] and response["status"] in ("completed", "incomplete"):
        append_items(app, response["_conversation"], response["_input"] + response["output"])


def queue(response: dict) -> dict:
    """A background response waiting to start: what it will say is kept aside until it ends."""
    final = {key: response[key] for key in ("status", "output", "usage", "incomplete_details", "error")}
    waiting = {key: value for key, value in response.items() if key != "usage"}  # no usage before the end
    return {**waiting, "status": "queued", "output": [], "incomplete_details": None, "error": None,
            "completed_at": None, "_final": final, "_since": time.time()}


def advance(app: State, response: dict) -> dict:
    """Catch a background response up with the time that has passed (`run_delay` per phase)."""
    delay = app.settings.run_delay
    clock = time.time()
    while (response["status"] in ("queued", "in_progress") and not response.get("_streaming")
           and clock - response["_since"] >= delay):
        response["_since"] += delay
        if response["status"] == "queued":
            response["status"] = "in_progress"
        else:
            response.update(response.pop("_final"), completed_at=now())
            finish(app, response)
        app.store.save("response", response)
    return response


async def create(request: Request) -> Response:
    app = state(request)
    body = await json_body(request)
    response = fail_if_asked(await new_response(app, body))
    streamed = optional(body, "stream", "boolean", False)
    if response["background"] and not streamed:
        return JSONResponse(public(app.store.put("response", queue(response))))
    if response["background"]:
        return sse_response(stream_in_background(app, response))
    if response["store"]:
        app.store.put("response", response)
    finish(app, response)
    if streamed:
        events = stream_events(public(response), queued=response["background"])
        return sse_response(paced([sse(event, event["type"]) for event in events], app.settings.token_delay))
    return JSONResponse(public(response))


async def stream_in_background(app: State, response: dict) -> AsyncIterator[bytes]:
    """A streamed background response is stored in progress while it streams: a cancel stops the
    stream at the next event, and a client that hangs up leaves it to end on its own schedule."""
    events = stream_events(public(response), queued=True)
    running = app.store.put("response", {**queue(response), "status": "in_progress", "_streaming": True})
    ended = False
    try:
        for index, event in enumerate(events):
            stored = app.store.get("response", response["id"])
            if stored is None or stored["status"] == "cancelled":
                ended = True
                return
            if index == len(events) - 1:  # the terminal event: the response is done
                app.store.save("response", response)
                finish(app, response)
                ended = True
            yield sse(event, event["type"])
            if app.settings.token_delay and not ended:
                await asyncio.sleep(app.settings.token_delay)
    finally:
        if not ended:
            running.update(_streaming=False, _since=time.time())
            app.store.save("response", running)


async def retrieve(request: Request) -> Response:
    """GET a response; `stream=true` replays its events (after `starting_after`)."""
    app = state(request)
    response = public(get_response(app, request.path_params["response_id"]))
    if request.query_params.get("stream") != "true":
        return JSONResponse(response)
    if response["status"] not in TERMINAL:
        raise invalid("The sandbox replays the stream of a finished response only.", param="stream")
    after = _integer(request.query_params.get("starting_after", "-1"), "starting_after")
    events = [event for event in stream_events(response, queued=response["background"]) if event["sequence_number"] > after]
    return sse_response(paced([sse(event, event["type"]) for event in events], app.settings.token_delay))


async def delete(request: Request) -> Response:
    app = state(request)
    response = get_response(app, request.path_params["response_id"])
    app.store.delete("response", response["id"])
    return JSONResponse({"id": response["id"], "object": "response", "deleted": True})


async def cancel(request: Request) -> Response:
    app = state(request)
    response = get_response(app, request.path_params["response_id"])
    if not response["background"]:
        raise invalid("Only responses created with the `background` parameter set to `true` can be cancelled.")
    if response["status"] in ("queued", "in_progress"):
        response.pop("_final", None)
        response.update(status="cancelled", completed_at=None)
        app.store.save("response", response)
    elif response["status"] != "cancelled":  # cancelling twice is harmless; a finished response stays as it is
        raise invalid(f"Cannot cancel a response with status '{response['status']}'.")
    return JSONResponse(public(response))


async def list_input_items(request: Request) -> Response:
    response = get_response(state(request), request.path_params["response_id"])
    return JSONResponse(item_page(response["_input"], request.query_params))


def _integer(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(f"Invalid '{name}': expected an integer.", param=name) from None


ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/responses", create, ["POST"]),
    ("/responses/{response_id}", retrieve, ["GET"]),
    ("/responses/{response_id}", delete, ["DELETE"]),
    ("/responses/{response_id}/cancel", cancel, ["POST"]),
    ("/responses/{response_id}/input_items", list_input_items, ["GET"]),
]
