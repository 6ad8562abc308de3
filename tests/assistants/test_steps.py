"""A run's steps as a person follows them (`assistants.steps`), on each back end against the sandbox:
a tool-call step is done once its calls have their outputs, before the server reports it so."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from oai_magics.assistants import ActionRequired, StepChanged, backend_for
from oai_magics.assistants.steps import StepTally, call_ids
from oai_magics.assistants.store import AssistantStore
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from oai_magics.tools import chat_tool


def get_time(city: str) -> str:
    """The time in a city."""
    return "12:34"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("steps"), run_delay=0.0, token_delay=0.0) as running:
        yield running


@pytest.fixture(params=["assistants", "responses"])
def backend(request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path) -> Any:
    return backend_for(Client(api_key=sandbox.api_key, base_url=sandbox.base_url), request.param,
                       AssistantStore(tmp_path / "store.sqlite3"))


def test_a_tool_call_step_counts_as_done_once_its_calls_are_answered(backend: Any) -> None:
    backend.create_assistant(name="clock", model="gpt-4o-mini", tools=[chat_tool(get_time)])
    handle = backend.start_run("clock", message="What time is it in Oslo?", stream=True)
    tally, waiting = StepTally(), ()
    for event in handle.events():
        if isinstance(event, StepChanged):
            tally.update(event.step)
        elif isinstance(event, ActionRequired):
            waiting = event.calls
    [step] = [s for s in tally.steps.values() if s["type"] == "tool_calls"]
    assert call_ids(step) == {waiting[0]["id"]}
    tally.answer("call_of_another_step")
    assert tally.counter() == ("0/1 steps" if step["status"] == "in_progress" else "1/1 steps")
    tally.answer(waiting[0]["id"])
    assert tally.status(step) == "completed" and tally.counter() == "1/1 steps"
