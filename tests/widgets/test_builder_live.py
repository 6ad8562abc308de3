"""The builder while a run is live: clicks return at once and the worker does the waiting; Cancel
during a stream. Waits are on events the form raises, never on the clock."""

from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest

from oai_magics.assistants import BACKENDS, backend_for
from oai_magics.assistants.store import AssistantStore
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from oai_magics.tools import chat_tool
from oai_magics.widgets import ThreadRunBuilder

WAIT = 60


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Replies stream a chunk every 50 ms, so a run is still streaming when the test acts on it."""
    with start(data_dir=tmp_path_factory.mktemp("slow-sandbox"), token_delay=0.05) as running:
        yield running


def test_a_click_returns_while_the_worker_waits(backend: Any) -> None:
    gate = threading.Event()

    def lookup(city: str) -> str:
        """Look a city up (waits until the test lets it go on)."""
        assert gate.wait(WAIT), "the test never opened the gate"
        return f"{city}: found"

    builder = ThreadRunBuilder(backend, functions=[lookup], namespace={})
    try:
        builder.wait(WAIT)
        record = backend.create_assistant(name="lookup desk", model="gpt-4o-mini", tools=[chat_tool(lookup)])
        builder.refresh_button.click()
        builder.wait(WAIT)
        builder.assistant.value = record["id"]
        builder.message.value = "Find Lisbon."
        builder.run_button.click()  # returns although the worker is stuck in lookup() until the gate opens
        assert not builder.future.done() and builder.run_button.disabled and not builder.cancel_button.disabled
        builder.message.value = "the form still takes input"
        gate.set()
        waiting = builder.wait(WAIT)
        assert waiting.status == "requires_action"
        assert list(builder.calls.outputs.values()) == ["Lisbon: found"]
    finally:
        gate.set()
        builder.close()


@pytest.mark.parametrize("api", BACKENDS)
def test_cancel_during_a_stream_keeps_what_arrived(slow_sandbox: Sandbox, api: str, tmp_path: Any) -> None:
    with Client(api_key=slow_sandbox.api_key, base_url=slow_sandbox.base_url) as client:
        backend = backend_for(client, api, store=AssistantStore(tmp_path / "assistants.sqlite3"))
        record = backend.create_assistant(name="storyteller", model="gpt-4o-mini")
        builder = ThreadRunBuilder(backend, namespace={})
        try:
            builder.wait(WAIT)
            builder.assistant.value = record["id"]
            arrived = threading.Event()
            builder.chat.widget.observe(lambda _change: builder.chat.reply_text and arrived.set(), names="value")
            builder.message.value = "Tell me a long story about Lisbon, Porto, Faro and Braga."
            builder.run_button.click()
            assert arrived.wait(WAIT)
            builder.cancel_button.click()
            outcome = builder.wait(WAIT)
            assert builder.cancel_future is not None
            builder.cancel_future.result(WAIT)
            assert outcome.text and builder.chat.reply_text == outcome.text
            assert not builder.run_button.disabled and builder.cancel_button.disabled
            assert "in_progress" not in builder.status.value and "queued" not in builder.status.value
            if outcome.status == "completed":
                # A server that stores a streamed reply whole before sending it gets the cancel too late;
                # the form says so rather than showing an error.
                notice = builder.error.value
                assert "Cancel came too late: the run had already completed on the server." in notice
                assert "oai-notice-line" in notice
            else:
                assert outcome.status == "cancelled" and "cancelled" in builder.status.value
                assert len(outcome.text) < 200 and outcome.error is None  # the reply stopped where the cancel caught it
        finally:
            builder.close()
