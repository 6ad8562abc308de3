"""The thread-run builder as a user drives it: a builder on a back end (the `builder` fixture, which
comes to tests through tests/widgets/conftest.py), an assistant made and picked in it, a run started
and awaited, and the red error line read."""

from __future__ import annotations

import html
import re
from typing import Any, Iterator

import pytest

from oai_magics.tools import chat_tool
from oai_magics.widgets import RunOutcome, ThreadRunBuilder

WAIT = 60  # seconds: every wait in these tests is bounded


def get_weather(city: str, unit: str = "celsius") -> dict:
    """Current weather in a city."""
    return {"city": city, "temperature": 19, "unit": unit}


@pytest.fixture
def builder(backend: Any) -> Iterator[ThreadRunBuilder]:
    made = ThreadRunBuilder(backend, functions=[get_weather], namespace={})
    made.wait(WAIT)
    yield made
    made.close()


def new_assistant(backend: Any, builder: ThreadRunBuilder, tools: bool = False) -> str:
    record = backend.create_assistant(name="guide", model="gpt-4o-mini", instructions="Be brief.",
                                      tools=[chat_tool(get_weather)] if tools else [])
    builder.refresh_button.click()
    builder.wait(WAIT)
    builder.assistant.value = record["id"]
    return record["id"]


def run(builder: ThreadRunBuilder, message: str) -> RunOutcome:
    builder.message.value = message
    builder.run_button.click()
    outcome = builder.wait(WAIT)
    assert isinstance(outcome, RunOutcome)
    return outcome


def error_line(builder: ThreadRunBuilder) -> str:
    """The red line's text, and a check that it is one line."""
    text = html.unescape(re.sub(r"<[^>]+>", "", builder.error.value))
    assert "\n" not in text and "Traceback" not in text
    return text
