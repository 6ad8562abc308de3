"""The responses back end with a remote MCP server kept by an assistant, against a live sandbox
that calls the tests' own MCP server: a run waits on an approval request like on a tool call, and
a run resumed later (as `%assistant submit` resumes it) sends the server's headers again from the
environment, never from what the response echoed."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from oai_magics.assistants import APPROVE, ActionRequired, backend_for
from oai_magics.assistants.base import OutputsMismatch
from oai_magics.assistants.responses_api import ResponsesBackend
from oai_magics.assistants.store import AssistantStore
from oai_magics.client import Client
from oai_magics.mcp.remote import RemoteServer
from oai_magics.sandbox import Sandbox, start
from tests.helpers.mcp_servers import RunningMcp, serve_mcp


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(scope="module")
def notes() -> Iterator[RunningMcp]:
    with serve_mcp() as running:
        yield running


@pytest.fixture
def backend(sandbox: Sandbox, tmp_path: Path) -> ResponsesBackend:
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    found = backend_for(client, "responses", AssistantStore(tmp_path / "store.sqlite3"))
    assert isinstance(found, ResponsesBackend)
    return found


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
