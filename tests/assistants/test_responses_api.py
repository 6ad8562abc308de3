"""The responses back end against a live sandbox: a run cancelled while it waits for tool outputs
leaves its thread able to go on, and outputs for calls the run does not wait for are refused; a
run of an assistant with a remote MCP server waits on an approval request like on a tool call, and
resumed later (as `%assistant submit` resumes it) sends the server's headers again from the
environment, never from what the response echoed."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Iterator

import pytest

from oai_magics.assistants import APPROVE, ActionRequired, RunEnded, StepChanged, backend_for
from oai_magics.assistants.base import OutputsMismatch
from oai_magics.assistants.responses_api import CANCELLED_OUTPUT, ResponsesBackend
from oai_magics.assistants.store import AssistantStore
from oai_magics.client import Client
from oai_magics.mcp.remote import RemoteServer
from oai_magics.sandbox import Sandbox, start
from tests.helpers.notes_server import RunningMcp, serve_mcp
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk

TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "The time in a city",
                                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                             "required": ["city"]}}}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture
def backend(sandbox: Sandbox, tmp_path: Path) -> ResponsesBackend:
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    found = backend_for(client, "responses", AssistantStore(tmp_path / "store.sqlite3"))
    assert isinstance(found, ResponsesBackend)
    return found


def waiting_run(backend: ResponsesBackend, stream: bool) -> tuple[str, str, list]:
    """(thread, run, the calls it waits for) of a run that asked for the time."""
    backend.create_assistant(name="clock", model="gpt-4o-mini", tools=[TIME_TOOL])
    handle = backend.start_run("clock", message="What time is it in Oslo?", stream=stream)
    events = list(handle.events())
    assert isinstance(events[-1], ActionRequired) and handle.status == "requires_action"
    return handle.thread_id, handle.run_id, handle.pending_calls


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "polled"])
def test_a_run_cancelled_while_waiting_leaves_its_thread_able_to_go_on(backend: ResponsesBackend, stream: bool) -> None:
    thread_id, run_id, [call] = waiting_run(backend, stream)
    assert backend.cancel_run(thread_id, run_id)["status"] == "cancelled"
    answered = [m for m in backend.list_messages(thread_id) if m["raw"].get("type") == "function_call_output"]
    assert [(m["raw"]["call_id"], m["raw"]["output"]) for m in answered] == [(call["id"], CANCELLED_OUTPUT)]
    # Without the answer the server refuses this run: "No tool output found for function call ...".
    again = backend.start_run("clock", thread_id=thread_id, message="Never mind, tell me a joke", stream=stream)
    events = list(again.events())
    assert isinstance(events[-1], (RunEnded, ActionRequired)) and again.status in ("completed", "requires_action")
    assert backend.get_run(thread_id, run_id)["status"] == "cancelled"


def test_outputs_for_calls_the_run_does_not_wait_for_are_refused_in_one_line(backend: ResponsesBackend) -> None:
    thread_id, run_id, [call] = waiting_run(backend, stream=False)
    handle = backend.resume_run(thread_id, run_id, stream=False)
    with pytest.raises(OutputsMismatch) as refused:
        handle.submit({call["id"]: "12:00", "call_made_up": "13:00"})
    assert refused.value.line() == f"the run waits for no tool call call_made_up; it waits for {call['id']}"
    assert backend.get_run(thread_id, run_id)["status"] == "requires_action"  # nothing was sent
    with pytest.raises(OutputsMismatch, match=f"no output given for tool call.s. {call['id']}"):
        handle.submit({})
    handle.submit({call["id"]: "12:00"})
    assert list(handle.events())[-1].run["status"] == "completed" and "12:00" in handle.text


def rough_stream(conn: socket.socket, server: RawServer) -> None:
    """A server that speaks the event format only roughly: the call comes in output item events,
    and the closing `response.completed` leaves the response's output empty."""
    server.read_request(conn)
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_time", "arguments": ""}
    response = {"id": "resp_rough", "object": "response", "status": "in_progress", "model": "gpt-4o-mini", "output": []}
    events = [{"type": "response.created", "response": response},
              {"type": "response.output_item.added", "output_index": 0, "item": call},
              {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"city": "Oslo"}'},
              {"type": "response.output_item.done", "output_index": 0, "item": {**call, "arguments": '{"city": "Oslo"}'}},
              {"type": "response.completed", "response": {**response, "status": "completed"}}]
    body = b"".join(chunk(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()) for e in events)
    conn.sendall(STREAM_HEAD + body + b"0\r\n\r\n")


def test_a_run_reads_its_stream_as_the_client_reader_does(tmp_path: Path) -> None:
    """One reader of the event format: a call that only the item events carried still makes the
    run wait for it (the client's `ResponseAccumulator` keeps such items; a second reader did not)."""
    with RawServer(rough_stream) as server:
        backend = backend_for(Client(api_key="sk-test", base_url=server.url, max_retries=0), "responses",
                              AssistantStore(tmp_path / "store.sqlite3"))
        backend.create_assistant(name="clock", model="gpt-4o-mini", tools=[TIME_TOOL])
        handle = backend.start_run("clock", thread_id="conv_rough", message="What time is it in Oslo?")
        events = list(handle.events())
    assert isinstance(events[-1], ActionRequired) and handle.status == "requires_action"
    assert handle.pending_calls == [{"id": "call_1", "name": "get_time", "arguments": '{"city": "Oslo"}'}]
    steps = [e.step["summary"] for e in events if isinstance(e, StepChanged)]
    assert steps[:2] == ["get_time()", 'get_time({"city": "Oslo"})']  # as each item event brought the call


@pytest.fixture(scope="module")
def notes() -> Iterator[RunningMcp]:
    with serve_mcp() as running:
        yield running


def test_a_resumed_run_answers_an_approval_with_the_headers_from_the_environment(
        backend: ResponsesBackend, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TEAM", "green")
    server = RemoteServer("notes", notes.url, {"X-Team": "NOTES_TEAM"}, ("whoami",))
    backend.create_assistant(name="teams", model="gpt-4o-mini", tools=[server.record()])
    handle = backend.start_run("teams", message="whoami")
    events = list(handle.events())
    assert isinstance(events[-1], ActionRequired) and handle.status == "requires_action"
    [call] = handle.pending_calls
    assert call["server"] == "notes" and call["name"] == "whoami"
    resumed = backend.resume_run(handle.thread_id, handle.run_id)
    with pytest.raises(OutputsMismatch, match="approve or deny"):
        resumed.submit({call["id"]: "sure"})
    resumed.submit({call["id"]: APPROVE})
    list(resumed.events())
    assert resumed.status == "completed" and "team green" in resumed.text
