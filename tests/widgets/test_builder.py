"""The thread-run builder through its Python API, against the sandbox over loopback, on each back end:
widget values are set and buttons clicked as a user would, and the builder's future is awaited."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest

from oai_magics.widgets import ThreadRunBuilder
from tests.helpers.builders import WAIT, error_line, get_weather, new_assistant, run


def test_a_plain_run_streams_into_the_chat_view(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    outcome = run(builder, "Tell me about Lisbon.")
    assert outcome.status == "completed" and outcome.error is None
    assert "oai_magics sandbox" in outcome.text and "Lisbon" in outcome.text
    roles = [role for role, _ in builder.chat.entries]
    assert roles == ["user", "assistant"] and builder.chat.reply_text == outcome.text
    assert "Lisbon" in builder.chat.widget.value and "completed" in builder.status.value
    assert "message_creation" in builder.steps.value
    assert builder.error.value == "" and not builder.run_button.disabled and builder.cancel_button.disabled
    assert builder.message.value == ""  # cleared when it was sent
    # the run's thread is now selected, so the next message continues it
    assert builder.thread.value == outcome.thread_id
    second = run(builder, "And Porto?")
    assert second.thread_id == outcome.thread_id
    texts = [m["text"] for m in backend.list_messages(outcome.thread_id)]
    assert texts[0] == "Tell me about Lisbon." and texts[2] == "And Porto?" and len(texts) == 4


def test_picking_a_thread_shows_its_history(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    thread = backend.create_thread(["Hello from before."])
    builder.refresh_button.click()
    builder.wait(WAIT)
    builder.thread.value = thread["id"]
    builder.wait(WAIT)
    assert builder.chat.entries == [("user", "Hello from before.")]


def test_a_tool_call_round_through_the_form(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder, tools=True)
    waiting = run(builder, "What is the weather in Porto?")
    assert waiting.status == "requires_action" and [c["name"] for c in waiting.pending_calls] == ["get_weather"]
    assert builder.calls.visible and builder.run_button.disabled and not builder.cancel_button.disabled
    call = waiting.pending_calls[0]
    # the known Python function filled the output field already
    assert json.loads(builder.calls.field(call["id"]).value) == get_weather(**json.loads(call["arguments"]))
    assert "get_weather" in builder.calls.widget.children[1].children[0].children[0].value
    builder.calls.field(call["id"]).value = json.dumps({"city": "Porto", "temperature": 23})
    shown: list[tuple[str, str]] = []  # (status line, step list) each time the chat shows a tool output
    builder.chat.widget.observe(lambda _change: shown.append((builder.status.value, builder.steps.value))
                                if builder.chat.entries[-1][0] == "tool" else None, names="value")
    builder.calls.submit_button.click()
    done = builder.wait(WAIT)
    # once the output is shown as given, its step is done in the list and in the counter
    status, steps = next((s, t) for s, t in shown if "tool_calls" in t)
    assert "✓ tool_calls: get_weather" in steps and re.search(r"\b1/[12] steps", status), (status, steps)
    assert done.status == "completed" and "23" in done.text
    assert not builder.calls.visible and not builder.run_button.disabled
    assert "✓ tool_calls: get_weather" in builder.steps.value and "✓ message_creation" in builder.steps.value
    assert ("tool", 'get_weather → {"city": "Porto", "temperature": 23}') in builder.chat.entries


def test_an_unknown_function_is_answered_by_hand(backend: Any) -> None:
    made = ThreadRunBuilder(backend, namespace={})  # no Python functions known
    try:
        made.wait(WAIT)
        new_assistant(backend, made, tools=True)
        waiting = run(made, "Weather in Faro?")
        field = made.calls.field(waiting.pending_calls[0]["id"])
        assert field.value == ""
        before = made.future
        field.value = "  "
        made.calls.submit_button.click()  # nothing typed: the form asks for a value and sends nothing
        assert error_line(made) == "⚠ type an output for get_weather first (the run waits for it)"
        assert made.future is before and made.calls.visible and not made.calls.submit_button.disabled
        assert backend.get_run(waiting.thread_id, waiting.run_id)["status"] == "requires_action"
        field.value = "sunny, 25 degrees"
        made.calls.submit_button.click()
        assert "sunny, 25 degrees" in made.wait(WAIT).text
    finally:
        made.close()


def test_cancel_a_run_that_waits_for_tool_outputs(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder, tools=True)
    waiting = run(builder, "Weather in Braga?")
    builder.cancel_button.click()
    ended = builder.wait(WAIT)
    assert ended.status == "cancelled" and ended.error is None
    assert backend.get_run(waiting.thread_id, waiting.run["id"])["status"] == "cancelled"
    assert not builder.calls.visible and not builder.run_button.disabled and "cancelled" in builder.status.value
    assert run(builder, "Weather in Guimaraes?").status == "requires_action"  # the thread takes a new run


def test_cancel_after_an_empty_submit_leaves_no_stale_request_for_an_output(backend: Any) -> None:
    # Submit with an empty output asks for a value; a Cancel then ended the run, yet the red line
    # "type an output for get_weather first (the run waits for it)" stayed under "cancelled".
    made = ThreadRunBuilder(backend, namespace={})
    try:
        made.wait(WAIT)
        new_assistant(backend, made, tools=True)
        waiting = run(made, "Weather in Tavira?")
        made.calls.field(waiting.pending_calls[0]["id"]).value = ""
        made.calls.submit_button.click()
        assert "type an output" in error_line(made)
        made.cancel_button.click()
        assert made.wait(WAIT).status == "cancelled"
        assert "cancelled" in made.status.value and error_line(made) == ""
    finally:
        made.close()


def test_an_error_is_one_red_line_and_the_form_stays_usable(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    builder.model.value = "no-such-model"
    failed = run(builder, "Hello?")
    assert failed.status == "error"
    assert "failed to start" in builder.status.value and "starting" not in builder.status.value
    line = error_line(builder)
    assert "no-such-model" in line and line.startswith("⚠ ")
    assert not builder.run_button.disabled and builder.cancel_button.disabled
    builder.model.value = ""
    assert run(builder, "Hello?").status == "completed"
    assert builder.error.value == ""


def test_mistakes_in_the_form_are_shown_before_anything_is_sent(builder: ThreadRunBuilder, backend: Any) -> None:
    builder.assistant.value = None  # nothing picked (the form picks the newest assistant by itself)
    before = builder.future
    builder.message.value = "hi"
    builder.run_button.click()
    assert error_line(builder) == "⚠ pick an assistant first (or create one)" and builder.future is before
    new_assistant(backend, builder)
    builder.message.value = "   "
    builder.run_button.click()
    assert error_line(builder) == "⚠ type a message first"
    key, value = builder.metadata.add_row("", "orphan")
    builder.message.value = "hi"
    builder.run_button.click()
    assert error_line(builder) == "⚠ metadata value 'orphan' has no key"
    key.value = "topic"
    builder.tools.value = "get_weather, nowhere"
    builder.run_button.click()
    assert error_line(builder) == "⚠ no Python function or tool spec named nowhere in this notebook"
    assert builder.future is not before and builder.future.result(WAIT) is None  # only the list reloads ran
    assert not builder.run_button.disabled


def test_per_run_overrides_reach_the_run(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    builder.model.value = "gpt-4o"
    builder.instructions.value = "Answer in one line."
    builder.tools.value = "get_weather"
    builder.metadata.add_row("topic", "travel")
    builder.metadata.add_row("", "")  # an empty row is ignored
    waiting = run(builder, "Weather in Evora?")
    assert waiting.status == "requires_action"  # the override gave the run a tool the assistant lacks
    stored = backend.get_run(waiting.thread_id, waiting.run["id"])
    assert stored["model"] == "gpt-4o" and stored["raw"]["instructions"] == "Answer in one line."
    assert stored["raw"].get("metadata", {}).get("topic") == "travel"
    builder.cancel_button.click()
    assert builder.wait(WAIT).status == "cancelled"


def test_create_an_assistant_inline(builder: ThreadRunBuilder, backend: Any) -> None:
    builder.new_assistant_button.click()
    assert builder.create_box.layout.display == "flex"
    builder.new_name.value = "inline helper"
    builder.new_instructions.value = "Be kind."
    builder.new_tools.value = "get_weather"
    builder.create_button.click()
    record = builder.wait(WAIT)
    assert builder.assistant.value == record["id"] and builder.create_box.layout.display == "none"
    stored = backend.get_assistant(record["id"])
    assert stored["name"] == "inline helper" and [t["function"]["name"] for t in stored["tools"]] == ["get_weather"]


def test_attached_files_go_through_the_files_api(builder: ThreadRunBuilder, backend: Any, client: Any) -> None:
    new_assistant(backend, builder)
    builder.files.value = ({"name": "notes.txt", "type": "text/plain", "size": 11, "content": memoryview(b"hello notes"),
                            "last_modified": datetime.datetime(2026, 11, 26, tzinfo=datetime.timezone.utc)},)
    if backend.name == "chat":  # chat completions take no file ids: one line says so, and the message stays
        assert run(builder, "Summarise the notes.").status == "error"
        assert error_line(builder).startswith("⚠ Unsupported: the chat back end has no server-side files")
        assert not [f for f in client.files.list().auto_paging_iter() if f["filename"] == "notes.txt"]
        assert builder.message.value == "Summarise the notes." and backend.list_threads() == []
        return
    outcome = run(builder, "Summarise the notes.")
    assert outcome.status == "completed" and builder.files.value == ()
    uploaded = [f for f in client.files.list().auto_paging_iter() if f["filename"] == "notes.txt"]
    assert uploaded and client.files.content(uploaded[-1]["id"]) == b"hello notes"
    assert "📎 notes.txt" in builder.chat.entries[0][1]


def test_a_new_form_picks_the_newest_assistant(backend: Any) -> None:
    newest = backend.create_assistant(name="newest", model="gpt-4o-mini")
    made = ThreadRunBuilder(backend, namespace={})
    try:
        made.wait(WAIT)
        assert made.assistant.value == newest["id"] and made.thread.value == ""
        assert repr(made) == (f"ThreadRunBuilder(api={backend.name!r}, assistant={newest['id']!r}, thread=None, "
                              "status='idle')")
    finally:
        made.close()


@pytest.mark.parametrize("api", ["assistants"])  # the full sandbox
def test_a_form_from_a_client_asks_the_server_which_api_it_speaks(client: Any) -> None:
    made = ThreadRunBuilder(client, namespace={})
    try:
        assert made.backend.name == "assistants"  # the sandbox answers GET /assistants
        made.wait(WAIT)
    finally:
        made.close()


def test_the_reasoning_override_reaches_the_server(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    assert builder.reasoning.options[0] == ("the model's own", "") and "xhigh" in dict(builder.reasoning.options).values()
    builder.reasoning.value = "low"  # on the assistant's gpt-4o-mini, which does not reason
    builder.message.value = "Why is the sky blue?"
    builder.run_button.click()
    builder.wait(WAIT)
    assert "'reasoning_effort' is not supported with this model" in error_line(builder) or \
        "'reasoning.effort' is not supported with this model" in error_line(builder)
    builder.model.value = "gpt-5.4-mini"
    assert run(builder, "Why is the sky blue?").status == "completed"
