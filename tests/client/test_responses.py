"""Responses and Conversations methods against a loopback server: the requests they send (validated
against the 2026-08-21 spec), the typed event stream, the accumulator and the background wait."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest
from werkzeug import Request, Response

from oai_magics.client import APIConnectionError, APIError, Client, Page
from oai_magics.client.accumulate import consume
from oai_magics.client.responses_stream import ResponseAccumulator, function_calls, output_text
from tests.helpers.openapi import spec

ITEMS = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]
TOOL = {"type": "function", "name": "get_weather", "description": "Weather in a city", "strict": False,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}

CASES: dict[str, tuple[Callable[[Client], Any], str, str, dict]] = {
    "responses.create": (
        lambda c: c.responses.create(model="gpt-4o-mini", input="Hello", instructions="Be brief", tools=[TOOL],
                                     tool_choice="auto", metadata={"k": "v"}, max_output_tokens=50,
                                     text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}}),
        "POST", "/responses", {"input": "Hello", "tools": [TOOL]}),
    "responses.create(items)": (
        lambda c: c.responses.create(model="gpt-4o-mini", previous_response_id="resp_1",
                                     input=ITEMS + [{"type": "function_call_output", "call_id": "call_1", "output": "42"}]),
        "POST", "/responses", {"previous_response_id": "resp_1"}),
    "responses.retrieve": (lambda c: c.responses.retrieve("resp_1"), "GET", "/responses/resp_1", {}),
    "responses.delete": (lambda c: c.responses.delete("resp_1"), "DELETE", "/responses/resp_1", {}),
    "responses.cancel": (lambda c: c.responses.cancel("resp_1"), "POST", "/responses/resp_1/cancel", {}),
    "responses.input_items.list": (lambda c: c.responses.input_items.list("resp_1", limit=2, order="asc", after="msg_1"),
                                   "GET", "/responses/resp_1/input_items", {}),
    "conversations.create": (lambda c: c.conversations.create(items=ITEMS, metadata={"topic": "demo"}),
                             "POST", "/conversations", {"items": ITEMS, "metadata": {"topic": "demo"}}),
    "conversations.retrieve": (lambda c: c.conversations.retrieve("conv_1"), "GET", "/conversations/conv_1", {}),
    "conversations.update": (lambda c: c.conversations.update("conv_1", metadata={"topic": "x"}),
                             "POST", "/conversations/conv_1", {"metadata": {"topic": "x"}}),
    "conversations.delete": (lambda c: c.conversations.delete("conv_1"), "DELETE", "/conversations/conv_1", {}),
    "conversations.items.create": (lambda c: c.conversations.items.create("conv_1", items=ITEMS),
                                   "POST", "/conversations/conv_1/items", {"items": ITEMS}),
    "conversations.items.list": (lambda c: c.conversations.items.list("conv_1", limit=5, order="desc"),
                                 "GET", "/conversations/conv_1/items", {}),
    "conversations.items.retrieve": (lambda c: c.conversations.items.retrieve("msg_1", conversation_id="conv_1"),
                                     "GET", "/conversations/conv_1/items/msg_1", {}),
    "conversations.items.delete": (lambda c: c.conversations.items.delete("msg_1", conversation_id="conv_1"),
                                   "DELETE", "/conversations/conv_1/items/msg_1", {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_method_sends_the_documented_request(name: str, client: Client, recorder: Any) -> None:
    call, method, path, body = CASES[name]
    call(client)
    seen = recorder.last
    assert (seen.method, seen.path) == (method, "/v1" + path)
    assert "Openai-Beta" not in seen.headers
    for key, value in body.items():
        assert seen.body[key] == value, key
    assert spec("2026").request_errors(method, path, seen.query, seen.content_type, seen.body) == []


def test_lists_are_pages_and_include_goes_into_the_query(client: Client, recorder: Any) -> None:
    assert isinstance(client.responses.input_items.list("resp_1"), Page)
    assert isinstance(client.conversations.items.list("conv_1"), Page)
    client.conversations.items.create("conv_1", items=ITEMS, include=["message.output_text.logprobs"])
    assert "include" not in recorder.last.body and recorder.last.query == {"include": "message.output_text.logprobs"}


# -- the typed event stream --------------------------------------------------------------------
def sse(*events: Any, names: bool = True) -> Iterator[bytes]:
    for event in events:
        head = f"event: {event.get('type')}\n" if names and isinstance(event, dict) and event.get("type") else ""
        yield (head + f"data: {json.dumps(event)}\n\n").encode()


def serve(recorder: Any, body: Iterator[bytes]) -> None:
    recorder.reply = lambda request: Response(body, content_type="text/event-stream")


def resp(status: str, output: list | None = None) -> dict:
    return {"id": "resp_1", "object": "response", "status": status, "output": output or []}


MESSAGE = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}
PART = {"type": "output_text", "text": "", "annotations": []}


def text_events(*deltas: str) -> list[dict]:
    """A plain reply, as the spec orders it, without the closing events."""
    events: list[dict] = [
        {"type": "response.created", "response": resp("in_progress")},
        {"type": "response.in_progress", "response": resp("in_progress")},
        {"type": "response.output_item.added", "output_index": 0, "item": MESSAGE},
        {"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": PART},
    ]
    events += [{"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
                "delta": d, "logprobs": []} for d in deltas]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def final(text: str) -> dict:
    item = {**MESSAGE, "status": "completed", "content": [{**PART, "text": text}]}
    return {"type": "response.completed", "response": resp("completed", [item])}


def test_stream_yields_event_objects_and_ends_on_the_terminal_event(client: Client, recorder: Any) -> None:
    # Nothing after response.completed is read: there is no [DONE] in this API.
    serve(recorder, sse(*text_events("Hel", "lo"), final("Hello"), {"type": "response.output_text.delta", "delta": "X"}))
    stream = client.responses.create(model="m", input="hi", stream=True)
    acc = ResponseAccumulator()
    kinds = [event["type"] for event in acc.consume(stream)]
    assert kinds[-1] == "response.completed" and kinds.count("response.output_text.delta") == 2
    assert stream.closed and acc.finished and acc.text == "Hello" and acc.status == "completed"
    assert recorder.last.headers["Accept"] == "text/event-stream" and recorder.last.body["stream"] is True


def test_unknown_events_missing_sequence_numbers_and_type_only_on_the_event_line(client: Client, recorder: Any) -> None:
    events = [{k: v for k, v in e.items() if k != "sequence_number"} for e in text_events("Hi")]
    events.insert(2, {"type": "response.vendor_thing", "x": 1})
    bare = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": " there"}
    body = [*sse(*events), b"event: response.output_text.delta\ndata: " + json.dumps(bare).encode() + b"\n\n",
            *sse({"type": "response.completed", "response": resp("completed")})]
    serve(recorder, iter(body))
    acc = ResponseAccumulator()
    kinds = [e["type"] for e in acc.consume(client.responses.create(model="m", input="hi", stream=True))]
    assert "response.vendor_thing" in kinds and kinds.count("response.output_text.delta") == 2
    # The completed snapshot had an empty output: the text built from the deltas stands.
    assert acc.text == "Hi there"


def test_error_event_raises_and_keeps_the_partial_text(client: Client, recorder: Any) -> None:
    error = {"type": "error", "code": "server_error", "message": "Boom", "param": None, "sequence_number": 9}
    serve(recorder, sse(*text_events("Part", "ial"), error))
    stream = client.responses.create(model="m", input="hi", stream=True)
    acc = ResponseAccumulator()
    with pytest.raises(APIError) as info:
        for _ in acc.consume(stream):
            pass
    assert info.value.message == "Boom" and info.value.code == "server_error" and stream.closed
    assert acc.text == "Partial" and not acc.finished


def test_stream_cut_before_its_end_is_a_connection_error_with_the_text_kept(client: Client, recorder: Any) -> None:
    serve(recorder, sse(*text_events("Half a ")))
    stream = client.responses.create(model="m", input="hi", stream=True)
    acc = ResponseAccumulator()
    with pytest.raises(APIConnectionError, match="before the response finished"):
        list(acc.consume(stream))
    assert acc.text == "Half a " and stream.closed


def test_failed_and_incomplete_responses_end_the_stream(client: Client, recorder: Any) -> None:
    failed = {**resp("failed"), "error": {"code": "server_error", "message": "no"}}
    serve(recorder, sse(text_events()[0], {"type": "response.failed", "response": failed}))
    acc = ResponseAccumulator()
    list(acc.consume(client.responses.create(model="m", input="hi", stream=True)))
    assert acc.finished and acc.status == "failed" and acc.response["error"]["message"] == "no"


def test_retrieve_can_replay_a_stream(client: Client, recorder: Any) -> None:
    serve(recorder, sse(final("Hello")))
    events = list(client.responses.retrieve("resp_1", stream=True, starting_after=3))
    assert events[0]["type"] == "response.completed"
    assert recorder.last.query == {"stream": "true", "starting_after": "3"}
    assert spec("2026").request_errors("GET", "/responses/resp_1", recorder.last.query, "", None) == []


# -- the accumulator on its own ----------------------------------------------------------------
def test_accumulator_builds_function_calls_from_argument_deltas() -> None:
    acc = ResponseAccumulator()
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": "",
            "status": "in_progress"}
    acc.add({"type": "response.created", "response": resp("in_progress")})
    acc.add({"type": "response.output_item.added", "output_index": 0, "item": call})
    for piece in ('{"ci', 'ty": ', '"Oslo"}'):
        acc.add({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 0, "delta": piece})
    assert acc.function_calls[0]["arguments"] == '{"city": "Oslo"}'
    assert call["arguments"] == ""  # the event's own item is not changed under the caller
    acc.add({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 0,
             "arguments": '{"city":"Oslo"}'})
    assert [c["name"] for c in acc.function_calls] == ["get_weather"] and acc.text == ""
    assert json.loads(acc.function_calls[0]["arguments"]) == {"city": "Oslo"}


def test_accumulator_places_items_without_output_index_by_their_ids() -> None:
    acc = ResponseAccumulator()
    for item_id, text in (("msg_a", "One. "), ("msg_b", "Two.")):
        acc.add({"type": "response.output_item.added", "item": {**MESSAGE, "id": item_id}})
        acc.add({"type": "response.output_text.delta", "item_id": item_id, "delta": text})
    acc.add({"type": "response.output_text.delta", "item_id": "msg_a", "delta": "More. "})
    assert [item["id"] for item in acc.items] == ["msg_a", "msg_b"] and acc.text == "One. More. Two."


def test_the_shared_consume_keeps_a_broken_responses_stream_in_its_reply(client: Client, recorder: Any) -> None:
    error = {"type": "error", "code": "server_error", "message": "Boom", "param": None, "sequence_number": 9}
    serve(recorder, sse(*text_events("Part", "ial"), error))
    shown: list[tuple[int, str]] = []
    stream = client.responses.create(model="m", input="hi", stream=True)
    reply = consume(stream, ResponseAccumulator(), on_text=lambda index, piece: shown.append((index, piece)))
    assert shown == [(0, "Part"), (0, "ial")] and reply.text == "Partial" and stream.closed
    assert not reply.complete and "Boom" in str(reply.error) and "partial reply kept" in reply.cut_short()


def test_reply_of_a_finished_stream_has_usage_finish_reason_and_calls() -> None:
    acc = ResponseAccumulator()
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}", "status": "completed"}
    for event in [*text_events("Hi"), {"type": "response.output_item.done", "output_index": 1, "item": call},
                  {"type": "response.completed", "response": {**resp("completed"), "model": "m1", "usage": {"total_tokens": 3}}}]:
        acc.add(event)
    reply = acc.reply
    assert (reply.text, reply.model, reply.usage, reply.finish_reason) == ("Hi", "m1", {"total_tokens": 3}, "tool_calls")
    assert reply.tool_calls == [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    acc2 = ResponseAccumulator()
    for event in [*text_events("Cut"), {"type": "response.incomplete", "response": resp("incomplete")}]:
        acc2.add(event)
    assert acc2.reply.finish_reason == "length" and acc2.reply.text == "Cut"


def test_a_whole_item_or_part_replaces_the_pieces_of_its_text() -> None:
    acc = ResponseAccumulator()
    for event in text_events("Hel", "lo"):
        acc.add(event)
    acc.add({"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "Hello!"})
    assert acc.text == "Hello!"
    done = {**MESSAGE, "status": "completed", "content": [{**PART, "text": "Hello, world"}]}
    acc.add({"type": "response.output_item.done", "output_index": 0, "item": done})
    assert acc.text == "Hello, world" and acc.items[0]["status"] == "completed"


def test_output_text_and_function_calls_of_a_finished_response() -> None:
    response = resp("completed", [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "message", "content": [{"type": "output_text", "text": "A"}, {"type": "refusal", "refusal": "no"}]},
        {"type": "web_search_call", "id": "ws_1"},
        {"type": "message", "content": [{"type": "output_text", "text": "B"}]},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
    ])
    assert output_text(response) == "AB"
    assert [c["call_id"] for c in function_calls(response)] == ["c"]


# -- background responses ---------------------------------------------------------------------
def test_wait_polls_until_a_terminal_status(client: Client, recorder: Any) -> None:
    statuses = iter(["queued", "in_progress", "in_progress", "cancelled"])

    def reply(request: Request) -> Response:
        return Response(json.dumps(resp(next(statuses))), content_type="application/json")

    recorder.reply = reply
    seen: list[str] = []
    pauses: list[float] = []
    done = client.responses.wait("resp_1", poll_interval=0.25, on_status=lambda r: seen.append(r["status"]),
                                 sleep=pauses.append)
    assert done["status"] == "cancelled" and seen == ["queued", "in_progress", "in_progress", "cancelled"]
    assert pauses == [0.25] * 3 and all(r.path == "/v1/responses/resp_1" for r in recorder.requests)


def test_wait_gives_up_after_its_timeout(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(json.dumps(resp("in_progress")), content_type="application/json")
    with pytest.raises(TimeoutError, match="still in_progress"):
        client.responses.wait("resp_1", timeout=0, sleep=lambda s: None)
