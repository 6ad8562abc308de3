"""Responses and Conversations against the live sandbox, through our client: each scenario of the
API, every JSON answer checked against the 2026-08-21 spec and every stream event against the
schema of its type."""

from __future__ import annotations

import json
from typing import Any, Iterator, Literal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from oai_magics.client import APIConnectionError, BadRequestError, Client, NotFoundError
from oai_magics.client.accumulate import consume
from oai_magics.client.responses_stream import ResponseAccumulator, function_calls, output_text
from oai_magics.sandbox import Sandbox, start
from tests.helpers.contract import Answer, assert_events_valid, contract_errors
from tests.helpers.openapi import spec

MODEL = "gpt-4o-mini"
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city", "strict": False,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TEXT_EVENTS = ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
               "response.output_text.delta", "response.output_text.done", "response.content_part.done",
               "response.output_item.done", "response.completed"]


@pytest.fixture(autouse=True)
def requests_follow_the_spec(api: Client) -> Iterator[None]:
    """Every request our client sends in these scenarios (and the sandbox accepts) is valid by the spec."""
    sent: list[tuple] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        url = urlsplit(response.request.url)
        body = response.request.body
        sent.append((response.status_code, response.request.method, url.path.removeprefix("/v1"), dict(parse_qsl(url.query)),
                     response.request.headers.get("Content-Type", ""), json.loads(body) if body else None))

    api._requester.transport.session.hooks["response"].append(hook)
    yield
    problems = [f"{method} {path}: {error}" for status, method, path, query, kind, body in sent if status < 400
                for error in spec("2026").request_errors(method, path, query, kind, body)]
    assert not problems, "\n".join(problems)


def assert_contract(answers: list[Answer]) -> None:
    """Successful answers as their operation documents them; errors (which the spec leaves
    undocumented on these paths) in the API's error envelope."""
    problems = contract_errors([a for a in answers if a.status < 400])
    for answer in answers:
        if answer.status >= 400:
            problems += spec("2026").check({"$ref": "#/components/schemas/ErrorResponse"}, answer.body)
    assert not problems, "\n".join(problems)


def squeeze(kinds: list[str]) -> list[str]:
    """Event types with runs of deltas folded into one."""
    return [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1] or not k.endswith(".delta")]


def test_plain_response_retrieve_input_items_and_delete(api: Client, answers: list[Answer]) -> None:
    response = api.responses.create(model=MODEL, input="Tell me about lighthouses in Norway", instructions="Be brief",
                                    metadata={"topic": "demo"})
    assert response["status"] == "completed" and response["object"] == "response"
    assert "output_text" not in response and "sandbox" in output_text(response)
    assert response["metadata"] == {"topic": "demo"} and response["instructions"] == "Be brief"
    usage = response["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert api.responses.retrieve(response["id"]) == response
    items = api.responses.input_items.list(response["id"])
    assert [i["content"][0]["text"] for i in items] == ["Tell me about lighthouses in Norway"]
    assert items[0]["role"] == "user" and items[0]["type"] == "message"
    assert api.responses.delete(response["id"])["deleted"] is True
    with pytest.raises(NotFoundError):
        api.responses.retrieve(response["id"])
    assert_contract(answers)


def test_input_items_keep_their_typed_parts(api: Client, answers: list[Answer]) -> None:
    response = api.responses.create(model=MODEL, input=[
        {"role": "developer", "content": "Describe images briefly"},
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "What is in this picture of Bergen?"},
            {"type": "input_image", "image_url": "https://example.com/bergen.png", "detail": "low"}]},
    ])
    assert "Bergen" in output_text(response)
    items = api.responses.input_items.list(response["id"], order="asc")
    assert [i["role"] for i in items] == ["developer", "user"]
    assert [p["type"] for p in items[1]["content"]] == ["input_text", "input_image"]
    assert_contract(answers)


def test_streamed_events_follow_the_spec_and_build_the_same_text(api: Client) -> None:
    prompt = "Describe the Bergen fish market"
    plain = output_text(api.responses.create(model=MODEL, input=prompt, store=False))
    acc = ResponseAccumulator()
    events = list(acc.consume(api.responses.create(model=MODEL, input=prompt, stream=True)))
    assert squeeze([e["type"] for e in events]) == TEXT_EVENTS
    assert_events_valid(events)
    assert events[0]["response"]["status"] == "in_progress" and events[0]["response"]["output"] == []
    assert acc.text == plain and acc.status == "completed" and acc.response["usage"]["output_tokens"] > 0
    # A stored response replays its stream from any point.
    replay = list(api.responses.retrieve(acc.response["id"], stream=True, starting_after=3))
    assert [e["sequence_number"] for e in replay] == list(range(4, len(events)))


def test_function_call_round_trip_with_previous_response_id(api: Client, answers: list[Answer]) -> None:
    asked = api.responses.create(model=MODEL, input="What is the weather in Oslo today?", tools=[WEATHER])
    [call] = function_calls(asked)
    assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "Oslo"}
    assert asked["status"] == "completed" and output_text(asked) == ""
    assert asked["tools"][0]["name"] == "get_weather" and "function" not in asked["tools"][0]
    answered = api.responses.create(model=MODEL, previous_response_id=asked["id"], tools=[WEATHER],
                                    input=[{"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 21 C"}])
    # The call's name comes from the previous response: the chain carried the context over.
    assert "`get_weather` returned: Sunny, 21 C" in output_text(answered)
    assert answered["previous_response_id"] == asked["id"] and not function_calls(answered)
    assert_contract(answers)


def test_an_unanswered_call_is_refused_as_the_api_refuses_it(api: Client) -> None:
    """A chain or a conversation holding a function call with no output takes no new turn (400,
    the API's words), and an output for a call that was never made is refused too."""
    asked = api.responses.create(model=MODEL, input="What is the weather in Oslo today?", tools=[WEATHER])
    [call] = function_calls(asked)
    with pytest.raises(BadRequestError) as chained:
        api.responses.create(model=MODEL, previous_response_id=asked["id"], input="Never mind that")
    assert chained.value.message == f"No tool output found for function call {call['call_id']}."
    assert chained.value.param == "input" and chained.value.status_code == 400
    conversation = api.conversations.create()
    api.responses.create(model=MODEL, input="Weather in Oslo?", tools=[WEATHER], conversation=conversation["id"])
    with pytest.raises(BadRequestError, match=": No tool output found for function call call_"):
        api.responses.create(model=MODEL, input="Something else", conversation=conversation["id"])
    with pytest.raises(BadRequestError) as stray:
        api.responses.create(model=MODEL, previous_response_id=asked["id"],
                             input=[{"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny"},
                                    {"type": "function_call_output", "call_id": "call_nobody", "output": "?"}])
    assert stray.value.message == "No tool call found for function call output with call_id call_nobody."


def test_a_python_function_as_a_tool_round_trip(api: Client, answers: list[Answer]) -> None:
    from oai_magics.tools import call_tool, responses_tool

    def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
        """The weather in a city."""
        return f"{city}: 21 degrees {unit.upper()}"

    tools = [responses_tool(get_weather)]
    asked = api.responses.create(model=MODEL, input="How warm is it in Tromso today?", tools=tools)
    [call] = function_calls(asked)
    output = call_tool({"get_weather": get_weather}, call["name"], call["arguments"])
    answered = api.responses.create(model=MODEL, previous_response_id=asked["id"], tools=tools,
                                    input=[{"type": "function_call_output", "call_id": call["call_id"], "output": output}])
    assert "`get_weather` returned: Tromso: 21 degrees C" in output_text(answered)
    assert_contract(answers)


def test_streamed_function_call_sends_argument_deltas(api: Client) -> None:
    acc = ResponseAccumulator()
    events = list(acc.consume(api.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER],
                                                   tool_choice={"type": "function", "name": "get_weather"}, stream=True)))
    assert squeeze([e["type"] for e in events]) == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed"]
    assert_events_valid(events)
    assert json.loads(acc.function_calls[0]["arguments"]) == {"city": "Paris"}
    reply = consume(api.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER], stream=True),
                    ResponseAccumulator())
    [call] = reply.tool_calls
    assert reply.complete and reply.finish_reason == "tool_calls" and call["function"]["name"] == "get_weather"
    assert call["id"].startswith("call_") and json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_tool_choice_none_answers_in_text(api: Client) -> None:
    response = api.responses.create(model=MODEL, input="Weather in Rome?", tools=[WEATHER], tool_choice="none")
    assert not function_calls(response) and output_text(response)


def test_a_conversation_collects_the_items_of_its_responses(api: Client, answers: list[Answer]) -> None:
    conversation = api.conversations.create(items=[{"role": "developer", "content": "Answer in English"}],
                                            metadata={"owner": "tests"})
    first = api.responses.create(model=MODEL, input="Hello there", conversation=conversation["id"])
    second = api.responses.create(model=MODEL, input="And Copenhagen?", conversation={"id": conversation["id"]})
    assert first["conversation"] == {"id": conversation["id"]} and second["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    items = list(api.conversations.items.list(conversation["id"], order="asc", limit=2).auto_paging_iter())
    assert [(i["type"], i["role"]) for i in items] == [("message", "developer"), ("message", "user"),
                                                      ("message", "assistant"), ("message", "user"), ("message", "assistant")]
    assert items[2]["content"][0]["text"] == output_text(first)
    added = api.conversations.items.create(conversation["id"], items=[{"role": "user", "content": "One more"}])
    assert added["data"][0]["content"] == [{"type": "input_text", "text": "One more"}]
    assert api.conversations.items.retrieve(added["first_id"], conversation_id=conversation["id"]) == added["data"][0]
    assert api.conversations.items.delete(added["first_id"], conversation_id=conversation["id"])["object"] == "conversation"
    with pytest.raises(NotFoundError):
        api.conversations.items.retrieve(added["first_id"], conversation_id=conversation["id"])
    assert api.conversations.update(conversation["id"], metadata={"owner": "me"})["metadata"] == {"owner": "me"}
    assert api.conversations.retrieve(conversation["id"])["metadata"] == {"owner": "me"}
    assert api.conversations.delete(conversation["id"]) == {"id": conversation["id"], "object": "conversation.deleted",
                                                            "deleted": True}
    with pytest.raises(NotFoundError):
        api.conversations.retrieve(conversation["id"])
    assert_contract(answers)


def test_conversation_and_previous_response_together_are_refused(api: Client) -> None:
    conversation = api.conversations.create()
    previous = api.responses.create(model=MODEL, input="Hi")
    with pytest.raises(BadRequestError, match="Mutually exclusive"):
        api.responses.create(model=MODEL, input="Hi", conversation=conversation["id"], previous_response_id=previous["id"])
    assert list(api.conversations.items.list(conversation["id"])) == []


def test_a_response_not_stored_cannot_be_found_or_continued(api: Client) -> None:
    response = api.responses.create(model=MODEL, input="Hi", store=False)
    assert response["store"] is False
    with pytest.raises(NotFoundError):
        api.responses.retrieve(response["id"])
    with pytest.raises(NotFoundError):
        api.responses.create(model=MODEL, input="again", previous_response_id=response["id"])


def test_max_output_tokens_makes_the_response_incomplete(api: Client, answers: list[Answer]) -> None:
    response = api.responses.create(model=MODEL, input="Write about the northern lights", max_output_tokens=16)
    assert response["status"] == "incomplete" and response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["usage"]["output_tokens"] == 16 and response["output"][0]["status"] == "incomplete"
    events = list(api.responses.create(model=MODEL, input="Write about the northern lights", max_output_tokens=16,
                                       stream=True))
    assert events[-1]["type"] == "response.incomplete"
    assert_events_valid(events)
    assert_contract(answers)


def test_json_formats(api: Client, answers: list[Answer]) -> None:
    reply = api.responses.create(model=MODEL, input="Give me json about Lisbon", text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(output_text(reply)), dict)
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer"}},
              "required": ["city", "rank"]}
    structured = api.responses.create(model=MODEL, input="The best city is Porto",
                                      text={"format": {"type": "json_schema", "name": "best", "schema": schema}})
    assert json.loads(output_text(structured)) == {"city": "Porto", "rank": 1}
    with pytest.raises(BadRequestError, match="json"):
        api.responses.create(model=MODEL, input="no mention", text={"format": {"type": "json_object"}})
    assert_contract(answers)


def test_built_in_tools_and_chat_shaped_tools_are_refused_in_the_api_error_shape(api: Client, answers: list[Answer]) -> None:
    with pytest.raises(BadRequestError) as info:
        api.responses.create(model=MODEL, input="Search the web", tools=[{"type": "web_search"}])
    assert info.value.code == "unsupported_value" and info.value.param == "tools[0].type"
    with pytest.raises(BadRequestError, match="flat"):
        api.responses.create(model=MODEL, input="x", tools=[{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(BadRequestError, match="not found"):
        api.responses.create(model=MODEL, input="x", tools=[WEATHER], tool_choice={"type": "function", "name": "other"})
    assert_contract(answers)


def test_background_response_completes_when_polled(api: Client, answers: list[Answer]) -> None:
    response = api.responses.create(model=MODEL, input="Summarise the sagas", background=True)
    assert response["status"] == "queued" and response["output"] == [] and response["background"] is True
    done = api.responses.wait(response["id"], poll_interval=0)
    assert done["status"] == "completed" and "sandbox" in output_text(done)
    with pytest.raises(BadRequestError, match="status 'completed'"):
        api.responses.cancel(response["id"])
    plain = api.responses.create(model=MODEL, input="Hi")
    with pytest.raises(BadRequestError, match="background"):
        api.responses.cancel(plain["id"])
    assert_contract(answers)


def test_a_streamed_background_response_reports_its_queue(api: Client) -> None:
    events = list(api.responses.create(model=MODEL, input="Summarise the sagas", background=True, stream=True))
    assert [e["type"] for e in events[:3]] == ["response.created", "response.queued", "response.in_progress"]
    assert events[0]["response"]["status"] == "queued" and events[-1]["type"] == "response.completed"
    assert_events_valid(events)
    assert api.responses.retrieve(events[0]["response"]["id"])["status"] == "completed"


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox whose background responses stay queued (for an hour) until cancelled, and whose
    streams are paced."""
    with start(data_dir=tmp_path_factory.mktemp("slow"), run_delay=3600, token_delay=0.05) as running:
        yield running


def test_background_response_cancelled(slow_sandbox: Sandbox) -> None:
    client = Client(api_key=slow_sandbox.api_key, base_url=slow_sandbox.base_url)
    conversation = client.conversations.create()
    response = client.responses.create(model=MODEL, input="A long essay", background=True,
                                       conversation=conversation["id"])
    assert client.responses.retrieve(response["id"])["status"] == "queued"
    cancelled = client.responses.cancel(response["id"])
    assert cancelled["status"] == "cancelled" and cancelled["output"] == []
    assert client.responses.cancel(response["id"])["status"] == "cancelled"  # twice is harmless
    assert client.responses.wait(response["id"], poll_interval=0)["status"] == "cancelled"
    assert list(client.conversations.items.list(conversation["id"])) == []  # nothing was said
    errors = spec("2026").response_errors("POST", "/responses/x/cancel", 200, cancelled)
    assert errors == []


def test_a_stream_broken_off_keeps_its_partial_text_and_releases_its_connection(sandbox: Sandbox) -> None:
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=2)
    calls: list = []
    client.listeners.append(calls.append)
    armed = requests.post(sandbox.url + "/sandbox/faults", json={"path": "/v1/responses", "truncate_after": 7}, timeout=10)
    assert armed.status_code == 200
    prompt = "Tell me a story about a lighthouse keeper"
    acc = ResponseAccumulator()
    stream = client.responses.create(model=MODEL, input=prompt, stream=True)
    with pytest.raises(APIConnectionError, match="before the response finished"):
        for _ in acc.consume(stream):
            pass
    assert acc.events == 7 and not acc.finished and stream.closed and len(calls) == 1
    whole = output_text(client.responses.create(model=MODEL, input=prompt, store=False))
    assert acc.text and whole.startswith(acc.text) and len(acc.text) < len(whole)
    assert all_connections_back(client, sandbox)


def test_a_stream_broken_off_by_the_caller_releases_its_connection(slow_sandbox: Sandbox) -> None:
    # The slow sandbox paces its events, so the body is still arriving when the caller stops.
    client = Client(api_key=slow_sandbox.api_key, base_url=slow_sandbox.base_url)
    with client.responses.create(model=MODEL, input="A story about a lighthouse keeper", stream=True) as stream:
        assert next(stream)["type"] == "response.created"
    assert stream.closed and all_connections_back(client, slow_sandbox)


def all_connections_back(client: Client, sandbox: Sandbox) -> bool:
    """Whether no connection of the client's pools is still checked out (each pool's queue is full)."""
    pools = client._requester.transport.session.get_adapter(sandbox.base_url).poolmanager.pools
    queues = [pools[key].pool for key in pools.keys()]
    return bool(queues) and all(queue is not None and queue.qsize() == queue.maxsize for queue in queues)


def test_unknown_ids_and_bad_input_are_the_apis_errors(api: Client, answers: list[Answer]) -> None:
    with pytest.raises(NotFoundError):
        api.responses.retrieve("resp_missing")
    with pytest.raises(NotFoundError):
        api.conversations.items.list("conv_missing")
    with pytest.raises(BadRequestError, match="input"):
        api.responses.create(model=MODEL)
    with pytest.raises(BadRequestError, match="telepathy"):
        api.responses.create(model=MODEL, input=[{"type": "telepathy"}])
    with pytest.raises(BadRequestError, match="Invalid type for 'items'"):
        api.conversations.create(items="Hello")
    with pytest.raises(BadRequestError, match="maximum length 20"):
        api.conversations.create(items=[{"role": "user", "content": str(i)} for i in range(21)])
    assert_contract(answers)
