"""Server objects of both APIs as the same neutral records, and tool shapes between the APIs."""

from __future__ import annotations

import pytest

from oai_magics.assistants import Unsupported, why_ended
from oai_magics.assistants.assistants_records import message_record, run_record, step_record
from oai_magics.assistants.resolve import NotFound, pick_assistant
from oai_magics.assistants.responses_records import flat_tools, item_message, item_step, run_from_response

CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_time", "arguments": '{"city": "Oslo"}'}


def test_a_waiting_run_reads_the_same_on_both_apis() -> None:
    assistants = run_record({"id": "run_1", "thread_id": "t", "status": "requires_action", "required_action": {
        "type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": '{"city": "Oslo"}'}}]}}})
    responses = run_from_response("resp_1", "t", "asst_1", {"id": "resp_1", "status": "completed", "output": [CALL]})
    for run in (assistants, responses):
        assert run["status"] == "requires_action"
        assert run["required_calls"] == [{"id": "call_1", "name": "get_time", "arguments": '{"city": "Oslo"}'}]
    cancelled = run_from_response("resp_1", "t", "asst_1", {"id": "resp_1", "status": "completed", "output": [CALL]},
                                  cancelled=True)
    assert cancelled["status"] == "cancelled" and cancelled["required_calls"] == []


def test_why_a_run_ended_is_one_line() -> None:
    failed = run_record({"id": "r", "status": "failed", "last_error": {"code": "server_error", "message": "boom"}})
    assert why_ended(failed) == "failed: server_error: boom"
    cut = run_from_response("r", "t", None, {"id": "r", "status": "incomplete",
                                             "incomplete_details": {"reason": "max_output_tokens"}})
    assert why_ended(cut) == "incomplete: stopped early (max_output_tokens)"
    assert why_ended(run_record({"id": "r", "status": "expired"})).startswith("expired: the run expired")


def test_message_content_is_flattened_with_annotations_kept() -> None:
    note = {"type": "file_citation", "text": "[1]", "file_citation": {"file_id": "file_1"}}
    message = message_record({"id": "m", "role": "assistant", "content": [
        {"type": "text", "text": {"value": "See [1]", "annotations": [note]}},
        {"type": "image_file", "image_file": {"file_id": "file_2"}}]})
    assert message["text"] == "See [1]\n[image file_2]" and message["annotations"] == [note]
    item = item_message({"type": "message", "id": "msg_1", "role": "assistant",
                         "content": [{"type": "output_text", "text": "Hi", "annotations": [note]}]}, "conv")
    assert item is not None and item["text"] == "Hi" and item["annotations"] == [note]
    call = item_message(CALL, "conv")
    assert call is not None and call["role"] == "tool" and call["text"] == 'get_time({"city": "Oslo"})'
    assert item_message({"type": "reasoning", "id": "rs"}, "conv") is None


def test_steps_summarise_tool_calls_with_their_outputs() -> None:
    step = step_record({"id": "s", "run_id": "r", "type": "tool_calls", "status": "completed", "step_details": {
        "type": "tool_calls", "tool_calls": [{"id": "c", "type": "function",
                                              "function": {"name": "f", "arguments": '{"a": 1}', "output": "2"}}]}})
    assert step["summary"] == 'f({"a":1}) -> 2'
    assert item_step(CALL, "r", None, {"call_1": "12:00"})["summary"] == 'get_time({"city": "Oslo"}) -> 12:00'


def test_tools_become_flat_and_loose_for_responses() -> None:
    nested = {"type": "function", "function": {"name": "f", "description": "d",
                                               "parameters": {"type": "object", "properties": {"a": {}}}}}
    assert flat_tools([nested]) == [{"type": "function", "name": "f", "description": "d",
                                     "parameters": {"type": "object", "properties": {"a": {}}}, "strict": False}]
    assert flat_tools([{"type": "code_interpreter"}])[0]["container"] == {"type": "auto"}
    with pytest.raises(Unsupported, match="vector_store_ids"):
        flat_tools([{"type": "file_search"}])


def test_assistants_are_found_by_id_or_name_newest_first() -> None:
    records = [{"id": "asst_1", "name": "a", "created_at": 1}, {"id": "asst_2", "name": "a", "created_at": 2}]
    assert pick_assistant(records, "a")["id"] == "asst_2"  # type: ignore[arg-type]
    assert pick_assistant(records, "asst_1")["id"] == "asst_1"  # type: ignore[arg-type]
    same_second = [{"id": "asst_3", "name": "c", "created_at": 5}, {"id": "asst_4", "name": "c", "created_at": 5}]
    assert pick_assistant(same_second, "c")["id"] == "asst_4"  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no assistant named 'b' \\(known: a\\)"):
        pick_assistant(records, "b")  # type: ignore[arg-type]
