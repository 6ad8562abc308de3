"""The Responses `mcp` tool against the live sandbox, which acts as the API: it lists and calls the
tools of a real MCP server of the tests' own (streamable HTTP on loopback), asks for approvals and
acts on the answers. Every answer and stream event is checked against the 2026 spec."""

from __future__ import annotations

import json
import socket
from typing import Any, Iterator

import pytest

from oai_magics.client import APIStatusError, BadRequestError, Client
from oai_magics.client.responses_stream import ResponseAccumulator, output_text
from tests.helpers.contract import Answer, assert_events_valid, contract_errors
from tests.helpers.notes_server import RunningMcp, free_port, serve_mcp
from tests.helpers.openapi import spec

MODEL = "gpt-4o-mini"


@pytest.fixture(scope="module")
def notes() -> Iterator[RunningMcp]:
    with serve_mcp() as running:
        yield running


def mcp_tool(server: RunningMcp, **options: Any) -> dict:
    return {"type": "mcp", "server_label": "notes", "server_url": server.url, **options}


def kinds(response: dict) -> list[str]:
    return [item["type"] for item in response["output"]]


def assert_contract(answers: list[Answer]) -> None:
    problems = contract_errors([a for a in answers if a.status < 400])
    for answer in answers:
        if answer.status >= 400:
            problems += spec("2026").check({"$ref": "#/components/schemas/ErrorResponse"}, answer.body)
    assert not problems, "\n".join(problems)


def test_a_call_asks_for_approval_and_an_approved_call_runs(api: Client, answers: list[Answer], notes: RunningMcp) -> None:
    tools = [mcp_tool(notes)]  # require_approval defaults to always
    asked = api.responses.create(model=MODEL, input="lookup the notes about Oslo", tools=tools)
    assert kinds(asked) == ["mcp_list_tools", "mcp_approval_request"] and asked["status"] == "completed"
    listing, request = asked["output"]
    assert listing["server_label"] == "notes" and {t["name"] for t in listing["tools"]} == {
        "lookup", "delete_note", "whoami", "explode"}
    lookup = next(t for t in listing["tools"] if t["name"] == "lookup")
    assert lookup["annotations"]["readOnlyHint"] is True and lookup["input_schema"]["required"] == ["city"]
    assert request["name"] == "lookup" and json.loads(request["arguments"]) == {"city": "Oslo"}
    answered = api.responses.create(model=MODEL, previous_response_id=asked["id"], tools=tools, input=[
        {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": True}])
    # The chain already holds the listing: the tools are not listed again.
    assert kinds(answered) == ["mcp_call", "message"]
    call = answered["output"][0]
    assert call["approval_request_id"] == request["id"] and call["status"] == "completed" and call["error"] is None
    assert call["output"] == "Oslo: 2 notes (fjord walk, opera roof)"
    assert "`lookup` returned: Oslo: 2 notes" in output_text(answered)
    assert_contract(answers)


def test_a_denied_call_is_not_run(api: Client, answers: list[Answer], notes: RunningMcp) -> None:
    tools = [mcp_tool(notes)]
    asked = api.responses.create(model=MODEL, input="delete_note for Bergen", tools=tools)
    request = asked["output"][-1]
    assert request["type"] == "mcp_approval_request" and request["name"] == "delete_note"
    denied = api.responses.create(model=MODEL, previous_response_id=asked["id"], tools=tools, input=[
        {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": False, "reason": "no"}])
    assert kinds(denied) == ["message"] and "denied" in output_text(denied)
    with pytest.raises(BadRequestError, match="No approval request found with id 'mcpr_unknown'"):
        api.responses.create(model=MODEL, previous_response_id=asked["id"], tools=tools, input=[
            {"type": "mcp_approval_response", "approval_request_id": "mcpr_unknown", "approve": True}])
    assert_contract(answers)


def test_never_calls_at_once_within_the_allowed_tools(api: Client, answers: list[Answer], notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval="never", allowed_tools=["lookup"])]
    response = api.responses.create(model=MODEL, input="What is noted about Bergen? delete_note too", tools=tools)
    assert kinds(response) == ["mcp_list_tools", "mcp_call", "message"]
    assert [t["name"] for t in response["output"][0]["tools"]] == ["lookup"]  # delete_note is not offered
    assert response["output"][1]["name"] == "lookup" and response["output"][1]["approval_request_id"] is None
    # The next turn of the chain calls again, without listing again.
    again = api.responses.create(model=MODEL, previous_response_id=response["id"], tools=tools, input="And Oslo?")
    assert kinds(again) == ["mcp_call", "message"]
    assert_contract(answers)


def test_tools_named_together_are_asked_together_and_answered_in_one_request(
        api: Client, answers: list[Answer], notes: RunningMcp) -> None:
    tools = [mcp_tool(notes)]
    asked = api.responses.create(model=MODEL, input="lookup Oslo, then delete_note Oslo", tools=tools)
    assert kinds(asked) == ["mcp_list_tools", "mcp_approval_request", "mcp_approval_request"]
    lookup, delete = asked["output"][1:]
    assert (lookup["name"], delete["name"]) == ("lookup", "delete_note")
    answered = api.responses.create(model=MODEL, previous_response_id=asked["id"], tools=tools, input=[
        {"type": "mcp_approval_response", "approval_request_id": lookup["id"], "approve": True},
        {"type": "mcp_approval_response", "approval_request_id": delete["id"], "approve": False, "reason": "no"}])
    assert kinds(answered) == ["mcp_call", "message"] and answered["output"][0]["approval_request_id"] == lookup["id"]
    assert "Oslo: 2 notes" in output_text(answered) and "denied" in output_text(answered)
    one = api.responses.create(model=MODEL, input="lookup Oslo, then delete_note Oslo", tools=tools,
                               parallel_tool_calls=False)
    assert kinds(one) == ["mcp_list_tools", "mcp_approval_request"]
    assert_contract(answers)


def test_the_object_form_waives_approval_for_read_only_tools(api: Client, notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval={"never": {"read_only": True}})]
    assert kinds(api.responses.create(model=MODEL, input="lookup Oslo", tools=tools))[1] == "mcp_call"
    assert kinds(api.responses.create(model=MODEL, input="delete_note Oslo", tools=tools))[1] == "mcp_approval_request"
    by_name = [mcp_tool(notes, require_approval={"never": {"tool_names": ["delete_note"]}})]
    assert kinds(api.responses.create(model=MODEL, input="delete_note Oslo", tools=by_name))[1] == "mcp_call"


def test_tool_choice_names_the_tool_or_turns_calls_off(api: Client, answers: list[Answer], notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval="never")]
    chosen = api.responses.create(model=MODEL, input="lookup Oslo", tools=tools,
                                  tool_choice={"type": "mcp", "server_label": "notes", "name": "whoami"})
    assert kinds(chosen) == ["mcp_list_tools", "mcp_call", "message"] and chosen["output"][1]["name"] == "whoami"
    quiet = api.responses.create(model=MODEL, input="lookup Oslo", tools=tools, tool_choice="none")
    assert kinds(quiet) == ["mcp_list_tools", "message"]
    with pytest.raises(BadRequestError, match="'other' not found"):
        api.responses.create(model=MODEL, input="x", tools=tools, tool_choice={"type": "mcp", "server_label": "other"})
    assert_contract(answers)


def test_headers_reach_the_server_and_are_never_shown(api: Client, notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval="never", allowed_tools=["whoami"], headers={"X-Team": "blue-secret"})]
    response = api.responses.create(model=MODEL, input="whoami", tools=tools)
    assert response["output"][1]["output"] == "team blue-secret"
    assert response["tools"][0]["headers"] is None
    stored = api.responses.retrieve(response["id"])
    assert "blue-secret" not in json.dumps({**stored, "output": []})


def test_authorization_reaches_the_server_as_a_bearer_token_and_is_never_shown(api: Client, notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval="never", allowed_tools=["whoami"], authorization="oauth-secret")]
    response = api.responses.create(model=MODEL, input="whoami", tools=tools)
    assert response["output"][1]["output"] == "team unknown with a bearer token"
    assert "oauth-secret" not in json.dumps(api.responses.retrieve(response["id"]))
    with pytest.raises(BadRequestError, match="tools\\[0\\].authorization"):
        api.responses.create(model=MODEL, input="whoami", tools=[mcp_tool(notes, authorization=42)])


def test_a_server_that_never_answers_is_a_bounded_424(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from oai_magics.sandbox import mcp_remote

    monkeypatch.setattr(mcp_remote, "LIST_TIMEOUT", 0.5)  # the bound itself, made short for the test
    with socket.socket() as silent:  # takes the connection into its backlog and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/mcp"
        with pytest.raises(APIStatusError) as info:
            api.responses.create(model=MODEL, input="lookup Oslo", tools=[
                {"type": "mcp", "server_label": "silent", "server_url": url, "require_approval": "never"}])
    assert info.value.status_code == 424 and "did not answer within 0.5 s" in str(info.value)


def test_a_tool_error_is_a_failed_call(api: Client, answers: list[Answer], notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval="never", allowed_tools=["explode"])]
    response = api.responses.create(model=MODEL, input="explode now", tools=tools)
    call = response["output"][1]
    assert call["status"] == "failed" and call["output"] is None
    assert call["error"]["type"] == "mcp_tool_execution_error" and "explode" in json.dumps(call["error"]["content"])
    assert "an error" in output_text(response)
    assert_contract(answers)


def test_streamed_events_follow_the_spec_in_order(api: Client, notes: RunningMcp) -> None:
    tools = [mcp_tool(notes, require_approval="never", allowed_tools=["lookup", "explode"])]
    acc = ResponseAccumulator()
    events = list(acc.consume(api.responses.create(model=MODEL, input="lookup Oslo", tools=tools, stream=True)))
    assert_events_valid(events)
    types = [e["type"] for e in events]
    listing = ["response.output_item.added", "response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed",
               "response.output_item.done"]
    assert types[2:6] == listing
    call = types[6:types.index("response.output_item.done", 6) + 1]
    assert call[:3] == ["response.output_item.added", "response.mcp_call.in_progress", "response.mcp_call_arguments.delta"]
    assert call[-3:] == ["response.mcp_call_arguments.done", "response.mcp_call.completed", "response.output_item.done"]
    assert [i["type"] for i in acc.response["output"]] == ["mcp_list_tools", "mcp_call", "message"]
    failed = list(api.responses.create(model=MODEL, input="explode", tools=tools, stream=True))
    assert_events_valid(failed)
    assert "response.mcp_call.failed" in [e["type"] for e in failed]
    asked = list(api.responses.create(model=MODEL, input="lookup Oslo", tools=[mcp_tool(notes)], stream=True))
    assert_events_valid(asked)
    assert asked[-2]["item"]["type"] == "mcp_approval_request" and asked[-1]["type"] == "response.completed"


def test_a_stateless_chain_replays_its_items_as_input(api: Client, notes: RunningMcp) -> None:
    tools = [mcp_tool(notes)]
    asked = api.responses.create(model=MODEL, input="lookup Bergen", tools=tools, store=False)
    replay = [{"role": "user", "content": "lookup Bergen"}, *asked["output"],
              {"type": "mcp_approval_response", "approval_request_id": asked["output"][1]["id"], "approve": True}]
    answered = api.responses.create(model=MODEL, input=replay, tools=tools, store=False)
    assert kinds(answered) == ["mcp_call", "message"] and answered["output"][0]["output"].startswith("Bergen: 1 notes")


def test_servers_it_cannot_or_may_not_reach_are_the_apis_errors(api: Client, answers: list[Answer]) -> None:
    unreachable = {"type": "mcp", "server_label": "gone", "server_url": f"http://127.0.0.1:{free_port()}/mcp"}
    with pytest.raises(APIStatusError) as info:
        api.responses.create(model=MODEL, input="lookup Oslo", tools=[unreachable])
    assert info.value.status_code == 424 and "Error retrieving tool list from MCP server: 'gone'" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(BadRequestError) as refused:
        api.responses.create(model=MODEL, input="x", tools=[{**unreachable, "server_url": "https://mcp.example.com/mcp"}])
    assert refused.value.param == "tools[0].server_url" and "loopback" in str(refused.value)
    with pytest.raises(BadRequestError, match="server_label"):
        api.responses.create(model=MODEL, input="x", tools=[{"type": "mcp", "server_url": unreachable["server_url"]}])
    assert_contract(answers)
