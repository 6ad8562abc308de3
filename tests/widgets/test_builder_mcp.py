"""The builder's approval rows for a remote MCP server (the responses back end, on a server with
and without Conversations): a run whose response waits for an approval shows the server, the tool
and its arguments with Approve / Deny; the decision continues the run, and the call's result shows
when it arrives."""

from __future__ import annotations

import html
import json
from typing import Any, Iterator

import pytest
import requests

from oai_magics.mcp.remote import RemoteServer
from oai_magics.widgets import ThreadRunBuilder
from tests.helpers.builders import WAIT, run
from tests.helpers.notes_server import RunningMcp, serve_mcp


@pytest.fixture(scope="module")
def notes() -> Iterator[RunningMcp]:
    with serve_mcp() as running:
        yield running


@pytest.fixture(params=["responses", "responses-chained"])
def api(request: pytest.FixtureRequest) -> str:
    return request.param


def mcp_assistant(backend: Any, builder: ThreadRunBuilder, notes: RunningMcp) -> None:
    record = backend.create_assistant(name="librarian", model="gpt-4o-mini", instructions="Be brief.",
                                      tools=[RemoteServer("notes", notes.url).record()])
    builder.refresh_button.click()
    builder.wait(WAIT)
    builder.assistant.value = record["id"]


def approval_buttons(builder: ThreadRunBuilder) -> tuple[Any, Any, Any, str]:
    """(Approve, Deny, the decision line, the row's text) of the panel's only row."""
    row = builder.calls.widget.children[1].children[0]
    header, (approve, deny, decided) = row.children[0], row.children[1].children
    return approve, deny, decided, html.unescape(header.value)


def test_approve_runs_the_call_and_shows_its_result(builder: ThreadRunBuilder, backend: Any, notes: RunningMcp) -> None:
    mcp_assistant(backend, builder, notes)
    waiting = run(builder, "lookup the notes about Oslo")
    assert waiting.status == "requires_action" and builder.calls.visible
    [call] = waiting.pending_calls
    assert call["server"] == "notes" and call["name"] == "lookup"
    approve, deny, decided, text = approval_buttons(builder)
    assert "notes" in text and "lookup" in text and json.dumps({"city": "Oslo"}, indent=2) in text
    assert builder.calls.submit_button.layout.display == "none"  # the decision itself sends it
    approve.click()
    done = builder.wait(WAIT)
    assert decided.value == "approved"
    assert done.status == "completed" and "Oslo: 2 notes" in done.text
    assert ("tool", "notes.lookup → approved") in builder.chat.entries
    assert builder.chat.entries[-3:] == [("tool", "notes.lookup → approved"),
                                         ("tool", "notes.lookup → Oslo: 2 notes (fjord walk, opera roof)"),
                                         ("assistant", done.text)]  # no empty reply between them
    assert "notes.lookup" in builder.steps.value and not builder.calls.visible


def test_deny_sends_a_denial_and_nothing_runs(builder: ThreadRunBuilder, backend: Any, notes: RunningMcp) -> None:
    mcp_assistant(backend, builder, notes)
    waiting = run(builder, "delete_note Bergen")
    assert waiting.pending_calls[0]["name"] == "delete_note"
    _, deny, decided, _ = approval_buttons(builder)
    deny.click()
    done = builder.wait(WAIT)
    assert decided.value == "denied" and done.status == "completed" and "denied" in done.text
    assert ("tool", "notes.delete_note → denied") in builder.chat.entries
    assert not any(text.startswith("notes.delete_note → deleted") for _, text in builder.chat.entries)


def test_a_second_click_after_the_decision_sends_nothing_more(builder: ThreadRunBuilder, backend: Any,
                                                              notes: RunningMcp) -> None:
    mcp_assistant(backend, builder, notes)
    run(builder, "lookup the notes about Oslo")
    approve, deny, decided, _ = approval_buttons(builder)
    approve.click()
    deny.click()  # a change of mind (or a double click) once the decision is on its way
    done = builder.wait(WAIT)
    assert decided.value == "approved" and done.status == "completed" and "Oslo: 2 notes" in done.text
    assert builder.error.value == "" and not builder.calls.visible
    assert [text for _, text in builder.chat.entries].count("notes.lookup → approved") == 1
    assert approve.disabled and deny.disabled


def test_several_requests_are_rows_and_the_last_decision_sends_them_all(builder: ThreadRunBuilder, backend: Any,
                                                                         notes: RunningMcp) -> None:
    mcp_assistant(backend, builder, notes)
    waiting = run(builder, "lookup Oslo, then delete_note Oslo")
    assert [call["name"] for call in waiting.pending_calls] == ["lookup", "delete_note"]
    rows = builder.calls.widget.children[1].children
    (lookup_approve, _, lookup_decided), (_, delete_deny, delete_decided) = [row.children[1].children for row in rows]
    lookup_approve.click()
    assert lookup_decided.value == "approved" and builder.calls.visible  # one row still waits: nothing is sent
    assert not lookup_approve.disabled
    delete_deny.click()
    done = builder.wait(WAIT)
    assert delete_decided.value == "denied" and done.status == "completed" and builder.error.value == ""
    assert "Oslo: 2 notes" in done.text and "denied" in done.text
    entries = [text for _, text in builder.chat.entries]
    assert {"notes.lookup → approved", "notes.delete_note → denied",
            "notes.lookup → Oslo: 2 notes (fjord walk, opera roof)"} <= set(entries)
    assert not any(text.startswith("notes.delete_note → deleted") for text in entries)


def test_a_tool_error_shows_as_its_text_and_the_wait_says_approval(builder: ThreadRunBuilder, backend: Any,
                                                                   notes: RunningMcp) -> None:
    mcp_assistant(backend, builder, notes)
    run(builder, "explode: the fuse was lit")
    assert "waiting for your approval" in builder.status.value
    approve, _, _, _ = approval_buttons(builder)
    approve.click()
    done = builder.wait(WAIT)
    [line] = [text for _, text in builder.chat.entries if text.startswith("notes.explode → error")]
    assert line == "notes.explode → error: Error executing tool explode"  # the text the tool's error content holds
    assert "{" not in line and "mcp_tool_execution_error" not in line  # the error's text, not its dict
    assert done.status == "completed"


def test_an_approval_the_server_did_not_take_can_be_given_again(builder: ThreadRunBuilder, backend: Any,
                                                                notes: RunningMcp, server: Any) -> None:
    # The approval's request failed (a 5xx burst beyond the retries): the buttons stayed disabled,
    # and the run waited for an answer the form could no longer give.
    mcp_assistant(backend, builder, notes)
    run(builder, "lookup the notes about Oslo")
    approve, _, decided, _ = approval_buttons(builder)
    fault = {"path": "/v1/responses", "method": "POST", "status": 503, "retry_after": 0.01, "count": 50}
    assert requests.post(server.url + "/sandbox/faults", json=fault, timeout=10).status_code == 200
    try:
        approve.click()
        refused = builder.wait(WAIT)
    finally:
        requests.delete(server.url + "/sandbox/faults", timeout=10)
    assert refused.status == "requires_action" and "503" in builder.error.value
    assert not approve.disabled and not builder.cancel_button.disabled and decided.value == "approved"
    approve.click()
    done = builder.wait(WAIT)
    assert done.status == "completed" and "Oslo: 2 notes" in done.text and builder.error.value == ""
