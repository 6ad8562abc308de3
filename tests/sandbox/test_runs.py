"""Run life cycles in the sandbox: tool calls, submitted outputs, cancel, expiry, and streams
whose events are checked against the 2026 spec."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from oai_magics.client import APIConnectionError, BadRequestError, Client
from oai_magics.sandbox import Sandbox, start
from tests.helpers.openapi import spec

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                   "required": ["city"]}}}
EVENT_SCHEMAS = {"thread.created": "ThreadObject", "thread.run": "RunObject", "thread.run.step": "RunStepObject",
                 "thread.message": "MessageObject", "thread.message.delta": "MessageDeltaObject"}


def schema_for(event: str) -> str:
    if event == "thread.message.delta":
        return EVENT_SCHEMAS[event]
    for prefix in ("thread.run.step", "thread.run", "thread.message", "thread.created"):
        if event.startswith(prefix):
            return EVENT_SCHEMAS[prefix]
    raise AssertionError(f"unexpected event {event}")


def check_events(events: list[dict]) -> None:
    v2 = spec("2026")
    for item in events:
        errors = v2.check({"$ref": f"#/components/schemas/{schema_for(item['event'])}"}, item["data"])
        assert errors == [], (item["event"], errors)


@pytest.fixture
def assistant(api: Client) -> dict:
    return api.assistants.create(model="gpt-4o-mini", name="Weather", tools=[WEATHER])


def test_function_tool_run_requires_action_then_completes(api: Client, assistant: dict) -> None:
    thread = api.threads.create(messages=[{"role": "user", "content": "What is the weather in Lisbon today?"}])
    run = api.threads.runs.create(thread["id"], assistant_id=assistant["id"])
    waiting = api.threads.runs.retrieve(thread["id"], run["id"])
    assert waiting["status"] == "requires_action"
    (call,) = waiting["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    arguments = json.loads(call["function"]["arguments"])
    assert arguments["unit"] == "c" and arguments["city"] in {"Lisbon", "Weather", "Today"}
    with pytest.raises(BadRequestError, match="already has an active run"):
        api.threads.runs.create(thread["id"], assistant_id=assistant["id"])
    with pytest.raises(BadRequestError, match="No tool call found"):
        api.threads.runs.submit_tool_outputs(thread["id"], run["id"], tool_outputs=[{"tool_call_id": "call_x", "output": "1"}])
    queued = api.threads.runs.submit_tool_outputs(thread["id"], run["id"],
                                                  tool_outputs=[{"tool_call_id": call["id"], "output": "22 C, sunny"}])
    assert queued["status"] == "queued"
    done = api.threads.runs.retrieve(thread["id"], run["id"])
    assert done["status"] == "completed"
    steps = api.threads.runs.steps.list(thread["id"], run["id"], order="asc")
    assert [s["type"] for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0]["step_details"]["tool_calls"][0]["function"]["output"] == "22 C, sunny"
    reply = api.threads.messages.list(thread["id"])[0]
    assert "`get_weather` returned: 22 C, sunny" in reply["content"][0]["text"]["value"]
    with pytest.raises(BadRequestError, match="do not accept tool outputs"):
        api.threads.runs.submit_tool_outputs(thread["id"], run["id"], tool_outputs=[{"tool_call_id": call["id"], "output": "x"}])


def test_streamed_run_with_tool_call_and_streamed_submit(api: Client, assistant: dict) -> None:
    thread = api.threads.create(messages=[{"role": "user", "content": "Weather in Oslo?"}])
    events = list(api.threads.runs.create(thread["id"], assistant_id=assistant["id"], stream=True))
    names = [e["event"] for e in events]
    assert names == ["thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
                     "thread.run.step.in_progress", "thread.run.requires_action"]
    check_events(events)
    run = events[-1]["data"]
    call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]
    after = list(api.threads.runs.submit_tool_outputs(thread["id"], run["id"], stream=True,
                                                      tool_outputs=[{"tool_call_id": call["id"], "output": "-3 C"}]))
    names = [e["event"] for e in after]
    assert names[:3] == ["thread.run.queued", "thread.run.in_progress", "thread.run.step.created"]
    assert names[-3:] == ["thread.message.completed", "thread.run.step.completed", "thread.run.completed"]
    text = "".join(e["data"]["delta"]["content"][0]["text"]["value"] for e in after if e["event"] == "thread.message.delta")
    assert text == after[-3]["data"]["content"][0]["text"]["value"] and "-3 C" in text
    check_events(after)


def test_create_and_run_streamed_opens_with_the_thread(api: Client) -> None:
    plain = api.assistants.create(model="gpt-4o-mini")
    events = list(api.threads.create_and_run(assistant_id=plain["id"], stream=True,
                                             thread={"messages": [{"role": "user", "content": "Hello there"}]}))
    assert events[0]["event"] == "thread.created" and events[-1]["event"] == "thread.run.completed"
    check_events(events)
    thread_id = events[0]["data"]["id"]
    assert api.threads.runs.retrieve(thread_id, events[-1]["data"]["id"])["status"] == "completed"


def test_cancel_a_waiting_run(api: Client, assistant: dict) -> None:
    thread = api.threads.create(messages=[{"role": "user", "content": "Weather?"}])
    run = api.threads.runs.create(thread["id"], assistant_id=assistant["id"])
    assert api.threads.runs.retrieve(thread["id"], run["id"])["status"] == "requires_action"
    assert api.threads.runs.cancel(thread["id"], run["id"])["status"] == "cancelling"
    cancelled = api.threads.runs.retrieve(thread["id"], run["id"])
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"]
    assert api.threads.runs.steps.list(thread["id"], run["id"])[0]["status"] == "cancelled"
    with pytest.raises(BadRequestError, match="Cannot cancel run with status 'cancelled'"):
        api.threads.runs.cancel(thread["id"], run["id"])


def test_a_run_left_waiting_expires(tmp_path: Any) -> None:
    with start(data_dir=tmp_path, run_expiry=0.0) as sandbox:
        api = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
        helper = api.assistants.create(model="gpt-4o-mini", tools=[WEATHER])
        thread = api.threads.create(messages=[{"role": "user", "content": "Weather?"}])
        run = api.threads.runs.create(thread["id"], assistant_id=helper["id"])
        assert api.threads.runs.retrieve(thread["id"], run["id"])["status"] == "expired"


def test_tool_choice_none_answers_directly(api: Client, assistant: dict) -> None:
    thread = api.threads.create(messages=[{"role": "user", "content": "Just chat"}])
    run = api.threads.runs.create(thread["id"], assistant_id=assistant["id"], tool_choice="none",
                                  additional_instructions="Be kind")
    assert run["instructions"].endswith("Be kind")
    assert api.threads.runs.retrieve(thread["id"], run["id"])["status"] == "completed"


def test_runs_take_time_when_asked(tmp_path: Any) -> None:
    with start(data_dir=tmp_path, run_delay=30) as sandbox:
        api = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
        helper = api.assistants.create(model="gpt-4o-mini")
        thread = api.threads.create(messages=[{"role": "user", "content": "Hi"}])
        run = api.threads.runs.create(thread["id"], assistant_id=helper["id"])
        assert api.threads.runs.retrieve(thread["id"], run["id"])["status"] == "queued"
        assert api.threads.messages.list(thread["id"]).data[0]["role"] == "user"


def test_v2_rejects_v1_tools_and_unknown_ids(api: Client, api_v1: Client) -> None:
    with pytest.raises(BadRequestError, match="Supported values are: code_interpreter, file_search, function"):
        api.assistants.create(model="gpt-4o-mini", tools=[{"type": "retrieval"}])
    helper = api_v1.assistants.create(model="gpt-4o-mini", tools=[{"type": "retrieval"}])
    assert api.assistants.retrieve(helper["id"])["tools"] == [{"type": "file_search"}]
    with pytest.raises(Exception) as info:
        api.threads.runs.create("thread_nope", assistant_id=helper["id"])
    assert info.value.status == 404 and "No thread found with id 'thread_nope'" in str(info.value)


def test_a_run_whose_stream_breaks_goes_on_and_finishes_the_reply_it_announced(api: Client, sandbox: Sandbox) -> None:
    thread = api.threads.create(messages=[{"role": "user", "content": "Tell me about the tides of Porto"}])
    assistant = api.assistants.create(model="gpt-4o-mini")
    faults = sandbox.url + "/sandbox/faults"
    requests.post(faults, json={"path": f"/v1/threads/{thread['id']}/runs", "method": "POST", "drop_after": 10},
                  timeout=10).raise_for_status()
    announced: dict[str, str] = {}
    try:
        with pytest.raises(APIConnectionError, match="after 10 events"):  # mid-reply: a few pieces have come
            for item in api.threads.runs.create(thread["id"], assistant_id=assistant["id"], stream=True):
                announced[item["event"]] = item["data"]["id"]
    finally:
        requests.delete(faults, timeout=10)
    # The stream's end is the server's to notice: wait (bounded) until it answers nothing any more.
    requests.get(sandbox.url + "/sandbox/requests", params={"wait": 10, "until": "idle"}, timeout=20)
    run = api.threads.runs.retrieve(thread["id"], announced["thread.run.created"])
    assert run["status"] == "completed"  # the session's sandbox has no run delay: it caught up at once
    reply = api.threads.messages.list(thread["id"], order="desc")[0]
    assert reply["id"] == announced["thread.message.created"] and "Porto" in reply["content"][0]["text"]["value"]
    steps = api.threads.runs.steps.list(thread["id"], run["id"])
    assert [s["id"] for s in steps if s["type"] == "message_creation"] == [announced["thread.run.step.created"]]
