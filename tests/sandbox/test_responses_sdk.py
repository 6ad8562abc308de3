"""The official `openai` SDK completes the Responses and Conversations round trips against the sandbox."""

from __future__ import annotations

import json
from typing import Iterator

import openai
import pytest

from oai_magics.sandbox import Sandbox, start

MODEL = "gpt-4o-mini"
ADD = {"type": "function", "name": "add", "description": "Add two numbers", "strict": False,
       "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}


@pytest.fixture
def sdk(sandbox: Sandbox) -> openai.OpenAI:
    return openai.OpenAI(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0)


def test_plain_response(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model=MODEL, input="Say hello to Ada", instructions="Be kind")
    assert response.status == "completed" and "sandbox" in response.output_text
    assert response.usage is not None and response.usage.total_tokens > 0
    assert sdk.responses.retrieve(response.id).output_text == response.output_text
    assert [item.type for item in sdk.responses.input_items.list(response.id)] == ["message"]
    sdk.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response.id)


def test_stream_helper(sdk: openai.OpenAI) -> None:
    deltas = []
    with sdk.responses.stream(model=MODEL, input="Tell me about Trondheim") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert final.status == "completed" and "".join(deltas) == final.output_text and deltas


def test_function_call_round_trip_and_previous_response_chaining(sdk: openai.OpenAI) -> None:
    asked = sdk.responses.create(model=MODEL, input="What is 2 + 3?", tools=[ADD])
    [call] = [item for item in asked.output if item.type == "function_call"]
    assert call.name == "add" and set(json.loads(call.arguments)) == {"a", "b"}
    answered = sdk.responses.create(model=MODEL, previous_response_id=asked.id, tools=[ADD],
                                    input=[{"type": "function_call_output", "call_id": call.call_id, "output": "5"}])
    assert "`add` returned: 5" in answered.output_text
    follow_up = sdk.responses.create(model=MODEL, previous_response_id=answered.id, input="Thanks!")
    assert follow_up.previous_response_id == answered.id
    assert follow_up.usage.input_tokens > answered.usage.input_tokens  # the whole chain is its context


def test_conversation_items_listed_afterwards(sdk: openai.OpenAI) -> None:
    conversation = sdk.conversations.create(metadata={"topic": "fjords"})
    sdk.responses.create(model=MODEL, input="Name a fjord", conversation=conversation.id)
    items = list(sdk.conversations.items.list(conversation.id, order="asc", limit=1))
    assert [(item.type, item.role) for item in items] == [("message", "user"), ("message", "assistant")]
    item = sdk.conversations.items.retrieve(items[0].id, conversation_id=conversation.id)
    assert item.content[0].text == "Name a fjord"
    assert sdk.conversations.items.delete(items[0].id, conversation_id=conversation.id).id == conversation.id
    assert sdk.conversations.update(conversation.id, metadata={"topic": "lakes"}).metadata == {"topic": "lakes"}
    assert sdk.conversations.delete(conversation.id).deleted


@pytest.fixture
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    """A sandbox whose background responses stay queued until cancelled."""
    with start(data_dir=tmp_path_factory.mktemp("slow-sdk"), run_delay=3600) as running:
        yield openai.OpenAI(api_key=running.api_key, base_url=running.base_url, max_retries=0)


def test_background_response_cancelled(slow: openai.OpenAI) -> None:
    response = slow.responses.create(model=MODEL, input="Write a long saga", background=True)
    assert response.status == "queued"
    assert slow.responses.cancel(response.id).status == "cancelled"
    assert slow.responses.retrieve(response.id).status == "cancelled"
