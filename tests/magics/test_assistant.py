"""%assistant in a real IPython shell against the sandbox: the same scenarios on every back end (the
chat back end against a sandbox whose Assistants and Conversations routes are switched off)."""

from __future__ import annotations

import builtins
import json
import re
from typing import Any

import pandas as pd
import pytest
import requests
from IPython.core.error import UsageError

from oai_magics.assistants.driver import drive  # noqa: F401  (the loop the magic uses; imported to pin it)

from .conftest import run, use_server

BACKENDS = ["assistants", "responses", "chat", "responses-chained"]
# The back ends tried on the sandbox without Assistants and Conversations, through a profile of it
# (so the probe's answer for it holds).
ON_BARE = ("chat", "responses-chained")

WEATHER = '''
def get_weather(city: str) -> str:
    "The weather in a city."
    return f"sunny and 21 degrees in {city}"
'''
TIME_SPEC = {"type": "function", "function": {"name": "get_time", "description": "The time in a city.",
                                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                             "required": ["city"]}}}


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, shell: Any) -> str:
    """The back end under test, set for the whole shell the way a user would (--api on each call);
    the chat back end talks to a server that has only chat completions (and responses, which it does
    not use), and "responses-chained" is the responses back end on a server without Conversations."""
    if request.param in ON_BARE:
        use_server(shell, request.getfixturevalue("bare_sandbox"), request.param)
    return request.param.split("-")[0]


def a(shell: Any, api: str, line: str, cell: str | None = None) -> tuple[Any, Any]:
    """`%assistant SUB --api API REST`: options come before a message, which is taken as typed."""
    subcommand, _, rest = line.partition(" ")
    return run(shell, "assistant", f"{subcommand} --api {api} {rest}".rstrip(), cell)


def test_help_lists_each_subcommand_with_one_line(shell: Any) -> None:
    _, out = run(shell, "assistant", "help")
    for name in ("list", "create", "show", "update", "delete", "threads", "messages", "run", "submit", "runs",
                 "steps", "cancel", "files", "form"):
        line = next(line for line in out.stdout.splitlines() if line.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 10 and "::" not in line
    _, out = run(shell, "assistant", "run --help")
    assert "--no-stream" in out.stdout and "--api" in out.stdout


def test_create_thread_run_messages(shell: Any, api: str) -> None:
    a(shell, api, "create tutor --model gpt-4o-mini --instructions 'Answer briefly'")
    a(shell, api, "threads new --message 'Hello there' --title Greetings -o thread")
    thread = shell.user_ns["thread"]
    _, out = a(shell, api, f"run tutor --thread {thread['id']} Tell me about Lisbon trams")
    result = shell.user_ns["_"]
    assert result.status == "completed" and result.thread_id == thread["id"]
    assert "Lisbon" in result.text and result.text in out.stdout  # streamed into the cell as it came
    assert [m["role"] for m in result.messages] == ["assistant"]
    messages, _ = a(shell, api, f"messages {thread['id']}")
    assert list(messages["role"])[:2] == ["user", "user"] and list(messages["role"])[-1] == "assistant"
    assert "Tell me about Lisbon trams" in list(messages["text"])
    listing, _ = a(shell, api, "list")
    assert list(listing["name"]) == ["tutor"] and isinstance(listing["created_at"].dtype, pd.DatetimeTZDtype)
    threads, _ = a(shell, api, "threads")
    assert thread["id"] in list(threads["id"])
    runs, _ = a(shell, api, f"runs {thread['id']}")
    assert list(runs["status"]) == ["completed"] and list(runs["id"]) == [result.run_id]
    steps, _ = a(shell, api, "steps")
    assert "message_creation" in list(steps["type"])


def test_a_thread_the_server_no_longer_has_leaves_the_listing(shell: Any, sandbox: Any) -> None:
    """The responses back end indexes threads locally: one deleted elsewhere (or expired) is removed
    from the index by a delete that meets the server's 404, and the user is told; an id neither
    side knows is still the server's one-line 404."""
    from oai_magics.client import Client

    a(shell, "responses", "threads new --message 'Hello there' -o thread")
    thread_id = shell.user_ns["thread"]["id"]
    Client(api_key=sandbox.api_key, base_url=sandbox.base_url).conversations.delete(thread_id)
    _, out = a(shell, "responses", f"threads delete {thread_id}")
    assert out.stdout.strip() == f"thread {thread_id} was already gone from the server: removed it from the local list"
    threads, _ = a(shell, "responses", "threads")
    assert thread_id not in list(threads.get("id", []))
    with pytest.raises(UsageError, match=f"404 .*No conversation found with id .{thread_id}"):
        a(shell, "responses", f"threads delete {thread_id}")


def test_messages_default_to_the_latest_thread_and_only_add_takes_text(shell: Any, api: str) -> None:
    with pytest.raises(UsageError, match="No run yet in this session: name a thread"):
        a(shell, api, "messages")
    a(shell, api, "create tutor --model gpt-4o-mini")
    a(shell, api, "run tutor Tell me about Lisbon trams")
    thread = shell.user_ns["_"].thread_id
    a(shell, api, 'messages add And the "funicular"?')
    a(shell, api, f"messages {thread} add And the ferries?")
    latest, _ = a(shell, api, "messages")
    shell.user_ns["result"] = {"thread": thread}
    named, _ = a(shell, api, "messages {{result['thread']}} list")  # a notebook value, as in prompts
    assert list(latest["id"]) == list(named["id"])
    assert {'And the "funicular"?', "And the ferries?"} <= set(latest["text"])
    with pytest.raises(UsageError, match="text belongs after `add`"):
        a(shell, api, f"messages {thread} list stray words")
    _, out = a(shell, api, "messages --help")
    assert "[thread] [add] [text ...]" in out.stdout.lower() and "required" not in out.stdout


def test_assistants_by_name_or_id_show_update_delete(shell: Any, api: str) -> None:
    a(shell, api, "create keeper --model gpt-4o-mini -o made")
    made = shell.user_ns["made"]
    shown, _ = a(shell, api, f"show {made['id']}")
    assert shown["name"] == "keeper"
    a(shell, api, "update keeper --instructions 'Be terse' --metadata team=blue")
    shown, _ = a(shell, api, "show keeper")
    assert shown["instructions"] == "Be terse" and shown["metadata"] == {"team": "blue"}
    a(shell, api, "delete keeper")
    with pytest.raises(UsageError, match="no assistant named 'keeper'"):
        a(shell, api, "show keeper")


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "polled"])
def test_python_function_tool_is_run_and_answered(shell: Any, api: str, stream: bool) -> None:
    shell.run_cell(WEATHER)
    a(shell, api, "create weather --model gpt-4o-mini --tools get_weather")
    _, out = a(shell, api, "run weather " + ("" if stream else "--no-stream ") + "What is the weather in Porto?")
    result = shell.user_ns["_"]
    assert result.status == "completed", out.stdout
    assert "get_weather" in out.stdout and "sunny and 21 degrees in Porto" in result.text
    steps, _ = a(shell, api, "steps")
    assert "tool_calls" in list(steps["type"]) and any("sunny" in s for s in steps["summary"])


def test_unknown_call_is_shown_and_answered_with_submit(shell: Any, api: str) -> None:
    shell.user_ns["time_tool"] = TIME_SPEC
    a(shell, api, "create clock --model gpt-4o-mini --tools time_tool")
    _, out = a(shell, api, "run clock What time is it in Oslo?")
    waiting = shell.user_ns["_"]
    assert waiting.status == "requires_action" and waiting.pending_calls[0]["name"] == "get_time"
    assert "%assistant submit" in out.stdout and waiting.pending_calls[0]["id"] in out.stdout
    _, out = a(shell, api, "submit get_time=12:34")
    done = shell.user_ns["_"]
    assert done.status == "completed" and done.run_id == waiting.run_id and "12:34" in done.text
    with pytest.raises(UsageError, match="waits for no tool outputs"):
        a(shell, api, "submit get_time=12:35")


def test_submit_goes_to_the_run_waiting_for_that_call_and_takes_json_whole(shell: Any, api: str) -> None:
    shell.user_ns["time_tool"] = TIME_SPEC
    a(shell, api, "create clock --model gpt-4o-mini --tools time_tool")
    a(shell, api, "create chatty --model gpt-4o-mini")
    a(shell, api, "run clock What time is it in Oslo?")
    waiting = shell.user_ns["_"]
    a(shell, api, "run chatty Hello")  # a later run, on another thread, that waits for nothing
    assert shell.user_ns["_"].status == "completed"
    call = waiting.pending_calls[0]["id"]
    _, out = a(shell, api, "submit " + call + '={"time": "12:34", "zone": "CET", "note": "a } and a \\" inside"}')
    done = shell.user_ns["_"]
    assert f"answering run {waiting.run_id}" in out.stdout
    assert done.status == "completed" and done.run_id == waiting.run_id
    assert '"zone": "CET"' in done.text and 'a } and a \\" inside' in done.text


def test_confirm_declined_leaves_the_call_for_the_user(shell: Any, api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setattr(builtins, "input", lambda prompt: asked.append(prompt) or "n")
    shell.run_cell(WEATHER)
    a(shell, api, "create careful --model gpt-4o-mini --tools get_weather")
    a(shell, api, "run careful --confirm Weather in Bergen?")
    assert asked and "get_weather" in asked[0] and shell.user_ns["_"].status == "requires_action"
    monkeypatch.setattr(builtins, "input", lambda prompt: "y")
    a(shell, api, "submit get_weather=rain")
    assert shell.user_ns["_"].status == "completed"


def test_cancel_a_waiting_run(shell: Any, api: str) -> None:
    shell.user_ns["time_tool"] = TIME_SPEC
    a(shell, api, "create clock2 --model gpt-4o-mini --tools time_tool")
    a(shell, api, "run clock2 What time is it in Rome?")
    waiting = shell.user_ns["_"]
    _, out = a(shell, api, "cancel")
    assert waiting.run_id in out.stdout
    runs, _ = a(shell, api, f"runs {waiting.thread_id}")
    assert list(runs["status"]) == ["cancelled"]


def test_a_new_run_on_a_thread_whose_run_waits_for_tool_outputs_says_how_to_go_on(shell: Any, api: str) -> None:
    # A run left waiting (the kernel restarted, the user moved on) blocks its thread: the server refuses
    # the next run there ("No tool output found for function call call_...", or "Thread ... already has
    # an active run"), and the line named neither the waiting run nor the two ways out of it.
    shell.user_ns["time_tool"] = TIME_SPEC
    a(shell, api, "create clock4 --model gpt-4o-mini --tools time_tool")
    a(shell, api, "run clock4 What time is it in Rome?")
    waiting = shell.user_ns["_"]
    if api == "chat":  # the thread is local: the next run sends it without the unanswered call, nothing blocks
        a(shell, api, f"run --thread {waiting.thread_id} clock4 Tell me a joke")
        assert shell.user_ns["_"].run_id != waiting.run_id  # a run of its own (the sandbox's model calls the tool again)
        return
    with pytest.raises(UsageError) as refused:
        a(shell, api, f"run --thread {waiting.thread_id} clock4 Tell me a joke")
    line = str(refused.value)
    assert "\n" not in line and f"run {waiting.run_id} on this thread waits for tool outputs" in line
    assert f"%assistant cancel {waiting.thread_id} {waiting.run_id}" in line
    a(shell, api, f"cancel {waiting.thread_id} {waiting.run_id}")  # the way out it names works
    a(shell, api, f"run --thread {waiting.thread_id} clock4 Tell me a joke")
    assert shell.user_ns["_"].run_id != waiting.run_id


def test_failed_and_incomplete_runs_say_why_in_one_line(shell: Any, api: str) -> None:
    a(shell, api, "create plain --model gpt-4o-mini")
    _, out = a(shell, api, "run plain Please sandbox:fail now")
    failed = shell.user_ns["_"]
    assert failed.status == "failed" and "server_error" in failed.error
    assert "failed: server_error: The sandbox failed this" in out.stdout and "broke off" not in out.stdout
    _, out = a(shell, api, "run plain --max-tokens 16 Tell me a long story about the sea")
    cut = shell.user_ns["_"]
    assert cut.status == "incomplete" and "stopped early" in out.stdout and 0 < len(cut.text.split()) <= 16


def test_cell_form_output_variable_and_interpolation(shell: Any, api: str) -> None:
    a(shell, api, "create celly --model gpt-4o-mini")
    shell.user_ns["town"] = "Coimbra"
    value, _ = a(shell, api, "run celly -o answer", "Tell me about {{town}}")
    assert value is None and shell.user_ns["answer"] is shell.user_ns["_"]
    assert "Coimbra" in shell.user_ns["answer"].text


def test_api_before_the_subcommand_and_bad_input_are_one_line(shell: Any, api: str) -> None:
    run(shell, "assistant", f"--api {api} create early --model gpt-4o-mini")
    listing, _ = run(shell, "assistant", f"--api={api} list")
    assert "early" in list(listing["name"])
    with pytest.raises(UsageError, match="no assistant named 'nobody'"):
        a(shell, api, "run nobody Hello")
    with pytest.raises(UsageError, match="unknown subcommand"):
        run(shell, "assistant", "launch")
    with pytest.raises(UsageError, match="Nothing to run"):
        a(shell, api, "run early")
    with pytest.raises(UsageError, match="neither a function nor a tool spec"):
        shell.user_ns["number"] = 3
        a(shell, api, "create odd --tools number")


def test_built_in_tools_where_the_back_end_has_them(shell: Any, api: str) -> None:
    if api == "assistants":
        a(shell, api, "create coder --model gpt-4o-mini --tools code_interpreter")
        with pytest.raises(UsageError, match="has no 'retrieval' tool"):
            a(shell, api, "create finder --model gpt-4o-mini --tools retrieval")
    elif api == "responses":
        with pytest.raises(UsageError, match="file_search on the responses back end needs vector_store_ids"):
            a(shell, api, "create finder --model gpt-4o-mini --tools file_search")
    else:  # nothing is faked: the line names the back end and what the tool needs
        for tool in ("code_interpreter", "file_search"):
            with pytest.raises(UsageError, match=f"^the chat back end has no '{tool}' tool"):
                a(shell, api, f"create finder --model gpt-4o-mini --tools {tool}")
        assert list(a(shell, api, "list")[0].get("name", [])) == []


def test_form_without_the_builder_is_one_line(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "oai_magics.widgets", None)  # as if the widgets package were missing
    with pytest.raises(UsageError, match="thread-run builder is not available"):
        run(shell, "assistant", "form")


def test_result_holds_no_raw_server_objects(shell: Any, api: str) -> None:
    a(shell, api, "create tidy --model gpt-4o-mini")
    a(shell, api, "run tidy Hello")
    result = shell.user_ns["_"]
    json.dumps(result.messages)  # plain data, ready to save
    assert "raw" not in result.messages[0]


def test_profile_setting_probe_and_use_say_which_back_end(shell: Any, sandbox: Any, httpserver: Any) -> None:
    _, out = run(shell, "oai", "use test")
    assert "%assistant uses the assistants API (asked the server: the server has the Assistants API)" in out.stdout
    run(shell, "oai", f"profile add modern --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY "
                      "--assistants-api responses")
    _, out = run(shell, "oai", "use modern")
    assert "%assistant uses the responses API (profile setting)" in out.stdout
    # A server with /responses but neither the Assistants nor the Conversations API (LiteLLM, vLLM):
    # responses, threads as chains; asked once.
    for path in ("/v1/assistants", "/v1/conversations"):
        httpserver.expect_request(path).respond_with_json({"error": {"message": "Not found"}}, status=404)
    httpserver.expect_request("/v1/responses").respond_with_json({"error": {"message": "model is required"}}, status=400)
    run(shell, "oai", f"profile add bare --base-url {httpserver.url_for('/v1')} --key-env SANDBOX_TEST_KEY")
    _, out = run(shell, "oai", "use bare")
    assert ("%assistant uses the responses API (asked the server: the server has the Responses API without "
            "Conversations: a thread is a chain of responses)") in out.stdout
    run(shell, "oai", "use bare")
    assert len([r for r in httpserver.log if r[0].path == "/v1/assistants"]) == 1  # remembered
    # api.openai.com is not asked (it retired the Assistants API), and the line does not claim it was;
    # a look-alike address holding the name elsewhere is asked like any other server.
    run(shell, "oai", "profile add official --base-url https://api.openai.com/v1 --key-env SANDBOX_TEST_KEY")
    _, out = run(shell, "oai", "use official")
    assert "%assistant uses the responses API (api.openai.com retired the Assistants API)" in out.stdout
    look_alike = httpserver.url_for("/v1").replace("/v1", "/api.openai.com/v1")
    httpserver.expect_request("/api.openai.com/v1/assistants").respond_with_json({"object": "list", "data": []})
    run(shell, "oai", f"profile add lookalike --base-url {look_alike} --key-env SANDBOX_TEST_KEY")
    _, out = run(shell, "oai", "use lookalike")
    assert "%assistant uses the assistants API (asked the server" in out.stdout


def test_a_server_with_chat_completions_only_gets_the_chat_back_end(shell: Any, bare_sandbox: Any,
                                                                     httpserver: Any) -> None:
    # (a server of its own: what other tests' servers said is remembered by address)
    for path in ("/llama/v1/assistants", "/llama/v1/conversations", "/llama/v1/responses"):  # as llama.cpp answers
        httpserver.expect_request(path).respond_with_json({"error": {"message": "File Not Found"}}, status=404)
    run(shell, "oai", f"profile add local --base-url {httpserver.url_for('/llama/v1')} --key-env SANDBOX_TEST_KEY")
    _, out = run(shell, "oai", "use local")
    assert ("%assistant uses the chat API (asked the server: the server has neither the Assistants nor the "
            "Responses API)") in out.stdout
    run(shell, "oai", f"profile add pinned --base-url {bare_sandbox.base_url} --key-env SANDBOX_TEST_KEY "
                      "--assistants-api chat")
    _, out = run(shell, "oai", "use pinned")
    assert "%assistant uses the chat API (profile setting)" in out.stdout
    run(shell, "assistant", "create helper --model gpt-4o-mini")
    run(shell, "assistant", "run helper Hello there")  # no --api: the profile's setting
    assert shell.user_ns["_"].status == "completed" and shell.user_ns["_"].run_id.startswith("run_")


def test_a_probe_that_cannot_tell_falls_back_to_chat_and_says_so_once(shell: Any, bare_sandbox: Any) -> None:
    from oai_magics.assistants.chooser import PROBED

    use_server(shell, bare_sandbox, "flaky")  # %oai use asked it: chat
    PROBED.pop(bare_sandbox.base_url)  # as if the kernel had not asked yet
    # The probe meets a proxy's HTML 502 page where it asks for the Assistants and Responses APIs
    # (the Conversations API is off: that answer, a 404, says nothing either way about the others).
    for path in ("/v1/assistants", "/v1/responses"):
        assert requests.post(bare_sandbox.url + "/sandbox/faults", json={"path": path, "status": 502,
                                                                             "html": True, "count": 5}, timeout=10).ok
    try:
        _, out = run(shell, "assistant", "create helper --model gpt-4o-mini")
        note, made = out.stdout.splitlines()
        assert note.startswith("%assistant uses the chat API: the server's answer did not say which APIs it has (502")
        assert note.endswith("chat completions work on every server") and made.startswith("created assistant 'helper'")
        _, out = run(shell, "assistant", "run helper Hello there")
        assert "uses the chat API" not in out.stdout and shell.user_ns["_"].status == "completed"  # said once
    finally:
        requests.delete(bare_sandbox.url + "/sandbox/faults", timeout=10)
        PROBED.pop(bare_sandbox.base_url)  # the fallback is not what the other tests on this sandbox meet


def test_a_broken_assistants_route_does_not_hide_the_responses_api(shell: Any, httpserver: Any) -> None:
    # LiteLLM's proxy where no provider for the Assistants API is set up: GET /assistants is a 500
    httpserver.expect_request("/lite/v1/assistants").respond_with_json(
        {"error": {"message": "'custom_llm_provider' must be set.", "type": "internal_server_error", "code": "500"}},
        status=500)
    httpserver.expect_request("/lite/v1/conversations").respond_with_json({"detail": "Not Found"}, status=404)
    httpserver.expect_request("/lite/v1/responses").respond_with_json(
        {"error": {"message": "/responses: Missing required parameter: 'input'.", "param": "input"}}, status=400)
    run(shell, "oai", f"profile add lite --base-url {httpserver.url_for('/lite/v1')} --key-env SANDBOX_TEST_KEY")
    _, out = run(shell, "oai", "use lite")
    assert ("%assistant uses the responses API (asked the server: the server has the Responses API without "
            "Conversations: a thread is a chain of responses)") in out.stdout


def test_a_profile_whose_base_url_is_not_http_is_refused_in_one_line(shell: Any) -> None:
    with pytest.raises(UsageError, match=r"^--base-url must start with http:// or https://"):
        shell.run_line_magic("oai", "profile add typo --base-url htps://api.openai.com/v1")


def test_files_attach_list_detach(shell: Any, api: str, tmp_path: Any) -> None:
    if api == "chat":  # chat completions take no file ids: each files command says so in one line
        a(shell, api, "create reader --model gpt-4o-mini")
        for line in ("files reader", "files reader attach file-abc", "files reader detach file-abc"):
            with pytest.raises(UsageError, match="^the chat back end has no server-side files"):
                a(shell, api, line)
        return
    notes = tmp_path / "notes.txt"
    notes.write_text("Trams run every ten minutes.")
    uploaded, _ = run(shell, "oai", f"files upload {notes} --purpose assistants")
    file_id = uploaded["id"][0]
    a(shell, api, "create reader --model gpt-4o-mini")
    a(shell, api, f"files reader attach {file_id}")
    listed, _ = a(shell, api, "files reader")
    assert listed == [file_id]
    a(shell, api, "run reader How often do trams run?")
    assert shell.user_ns["_"].status == "completed"
    a(shell, api, f"files reader detach {file_id}")
    listed, _ = a(shell, api, "files reader")
    assert listed == []


def two_runs_on_a_thread(shell: Any, server: Any, profile: str, api: str, instructions: str = "") -> tuple[Any, Any]:
    """Two runs on one thread of `server`; the request log holds only the second's requests."""
    use_server(shell, server, profile)
    told = f" --instructions '{instructions}'" if instructions else ""
    run(shell, "assistant", f"create guide --api {api} --model gpt-4o-mini{told}")
    run(shell, "assistant", f"run guide --api {api} Tell me about Lisbon trams")
    first = shell.user_ns["_"]
    requests.delete(server.url + "/sandbox/requests", timeout=10)
    run(shell, "assistant", f"run guide --api {api} --thread {first.thread_id} And the funiculars?")
    return first, shell.user_ns["_"]


def test_a_second_run_on_a_chat_thread_sends_the_first_exchange(shell: Any, bare_sandbox: Any) -> None:
    first, _ = two_runs_on_a_thread(shell, bare_sandbox, "chat-history", "chat", "Answer briefly")
    sent = [r["body"] for r in requests.get(bare_sandbox.url + "/sandbox/requests", timeout=10).json()["requests"]
            if r["path"] == "/v1/chat/completions"]
    assert [(m["role"], m["content"]) for m in json.loads(sent[0])["messages"]] == [
        ("system", "Answer briefly"), ("user", "Tell me about Lisbon trams"), ("assistant", first.text),
        ("user", "And the funiculars?")]


def responses_sent(server: Any) -> list[dict]:
    log = requests.get(server.url + "/sandbox/requests", timeout=10).json()["requests"]
    assert not [r for r in log if r["path"].startswith("/v1/conversations")]  # none asked for: the server has none
    return [json.loads(r["body"]) for r in log if r["path"] == "/v1/responses" and r["method"] == "POST" and r["body"]]


def test_without_conversations_a_thread_is_a_chain_of_responses(shell: Any, bare_sandbox: Any) -> None:
    # the probe of %oai use finds no Conversations API: the responses back end chains
    first, second = two_runs_on_a_thread(shell, bare_sandbox, "chained-history", "responses",
                                         "Answer briefly")
    (body,) = responses_sent(bare_sandbox)
    assert body["previous_response_id"] == first.run["raw"]["id"] and body["instructions"] == "Answer briefly"
    assert [i["content"][0]["text"] for i in body["input"]] == ["And the funiculars?"]
    messages, _ = run(shell, "assistant", f"messages {first.thread_id}")
    assert list(messages["text"]) == ["Tell me about Lisbon trams", first.text, "And the funiculars?", second.text]
    assert messages["created_at"].notna().all()  # when each joined the thread, as on the other back ends


def test_a_server_that_keeps_no_responses_is_sent_the_thread_whole(shell: Any, bare_sandbox: Any) -> None:
    from oai_magics.assistants.chooser import PROBED

    use_server(shell, bare_sandbox, "stateless")
    run(shell, "assistant", "create keeper --model gpt-4o-mini")
    run(shell, "assistant", "run keeper Tell me about Lisbon trams")
    first = shell.user_ns["_"]
    requests.delete(bare_sandbox.url + "/sandbox/requests", timeout=10)
    # As Ollama answers a previous_response_id it does not know
    faults = bare_sandbox.url + "/sandbox/faults"
    requests.post(faults, json={"path": "/v1/responses", "method": "POST", "body": "previous_response_id",
                                "status": 400}, timeout=10)
    try:
        run(shell, "assistant", f"run keeper --thread {first.thread_id} And the funiculars?")
    finally:  # what this kernel now remembers of the server would reach the other tests on it
        PROBED[bare_sandbox.base_url].stores_responses = True
    assert shell.user_ns["_"].status == "completed"
    assert requests.get(faults, timeout=10).json()["armed"] == []  # the chained request was sent, and refused
    refused, whole = responses_sent(bare_sandbox)  # then the thread whole
    assert "previous_response_id" in refused and "previous_response_id" not in whole
    assert [(i["role"], i["content"][0]["text"]) for i in whole["input"]] == [
        ("user", "Tell me about Lisbon trams"), ("assistant", first.text), ("user", "And the funiculars?")]
    assert not [i for i in whole["input"] if "id" in i]  # ids the server never kept are not sent back


def test_responses_set_by_the_profile_on_a_server_without_conversations_chains(shell: Any, bare_sandbox: Any) -> None:
    from oai_magics.assistants.chooser import PROBED

    run(shell, "oai", f"profile add pinned-responses --base-url {bare_sandbox.base_url} --key-env SANDBOX_TEST_KEY "
                      "--assistants-api responses")
    asked = PROBED.pop(bare_sandbox.base_url, None)  # as in a kernel that has not asked this server yet
    try:
        run(shell, "oai", "use pinned-responses")  # a profile setting: %oai use does not ask the server
        run(shell, "assistant", "create pinned --model gpt-4o-mini")
        run(shell, "assistant", "run pinned Tell me about Lisbon trams")  # no bare 404 from /v1/conversations
        first = shell.user_ns["_"]
        assert first.status == "completed"
        requests.delete(bare_sandbox.url + "/sandbox/requests", timeout=10)
        run(shell, "assistant", f"run pinned --thread {first.thread_id} And the funiculars?")
        (body,) = responses_sent(bare_sandbox)  # asked once: the second run goes straight to the chain
        assert body["previous_response_id"] == first.run["raw"]["id"]
    finally:
        if asked is not None:
            PROBED[bare_sandbox.base_url] = asked


def test_a_local_thread_of_one_back_end_read_by_the_other_is_one_line(shell: Any, bare_sandbox: Any) -> None:
    # chat and chained responses keep their threads in the same file, each message in its own shape
    use_server(shell, bare_sandbox, "mixed")
    run(shell, "assistant", "threads new --api chat --message 'Tell me about Porto' -o chatted")
    thread_id = shell.user_ns["chatted"]["id"]
    for line in (f"messages {thread_id}", f"run helper --thread {thread_id} More?"):
        run(shell, "assistant", "create helper --api responses --model gpt-4o-mini")
        with pytest.raises(UsageError, match=rf"^thread {thread_id} is kept by the chat back end.*--api chat"):
            run(shell, "assistant", f"{line.split()[0]} --api responses {line.split(' ', 1)[1]}")
    messages, _ = run(shell, "assistant", f"messages --api chat {thread_id}")
    assert list(messages["text"]) == ["Tell me about Porto"]  # nothing was added or lost


def test_runs_and_steps_of_a_chain_on_a_server_that_keeps_no_responses(shell: Any, bare_sandbox: Any) -> None:
    use_server(shell, bare_sandbox, "forgetful")
    shell.run_cell(WEATHER)
    run(shell, "assistant", "create forecaster --api responses --model gpt-4o-mini --tools get_weather")
    run(shell, "assistant", "run forecaster --api responses What is the weather in Faro? use get_weather")
    done = shell.user_ns["_"]
    assert done.status == "completed"
    # As Ollama answers GET /responses/ID: it kept nothing
    faults = bare_sandbox.url + "/sandbox/faults"
    requests.post(faults, json={"path": "/v1/responses/", "method": "GET", "status": 404, "count": 20}, timeout=10)
    try:
        runs, _ = run(shell, "assistant", f"runs --api responses {done.thread_id}")
        steps, _ = run(shell, "assistant", f"steps --api responses {done.thread_id} {done.run_id}")
    finally:
        requests.delete(faults, timeout=10)
    assert list(runs["status"]) == ["completed"]
    assert [t for t in steps["type"]] == ["tool_calls", "message_creation"]
    from oai_magics.assistants.store import AssistantStore

    store = AssistantStore.default()
    assert store.kept_response(bare_sandbox.base_url, done.run_id) is not None
    run(shell, "assistant", f"threads delete --api responses {done.thread_id}")
    assert store.kept_response(bare_sandbox.base_url, done.run_id) is None  # gone with its thread


def test_a_chain_whose_stream_breaks_on_a_server_that_keeps_no_responses_fails_in_one_line(
        shell: Any, bare_sandbox: Any) -> None:
    use_server(shell, bare_sandbox, "forgetful-drop")
    run(shell, "assistant", "create dropped --api responses --model gpt-4o-mini")
    faults = bare_sandbox.url + "/sandbox/faults"
    requests.post(faults, json={"path": "/v1/responses", "method": "POST", "drop_after": 6}, timeout=10)
    requests.post(faults, json={"path": "/v1/responses/", "method": "GET", "status": 404, "count": 20}, timeout=10)
    try:
        _, out = run(shell, "assistant", "run dropped --api responses Tell me a long story about Lisbon")
        ended = shell.user_ns["_"]
        runs, _ = run(shell, "assistant", f"runs --api responses {ended.thread_id}")
    finally:
        requests.delete(faults, timeout=10)
    line = out.stdout.splitlines()[-1]  # the run's closing line
    assert line.startswith("[failed: stream_broken: the server keeps no responses to read the rest of the reply")
    # No status code is shown (a request id may hold the digits 404, so a word, not a substring).
    assert not re.search(r"\b404\b", out.stdout) and "goes on at the server" not in out.stdout
    assert ended.status == "failed" and ended.text  # what streamed is kept
    assert list(runs["status"]) == ["failed"]  # the run's record says how it ended


def test_an_assistant_made_with_api_responses_is_named_when_the_assistants_api_cannot_find_it(shell: Any) -> None:
    a(shell, "responses", "create kept-here --model gpt-4o-mini -o made")
    advice = "is an assistant of the responses and chat back ends, kept on this machine, not on the server: add --api responses"
    with pytest.raises(UsageError, match=f"no assistant named 'kept-here'.*{re.escape(advice)}"):
        a(shell, "assistants", "run kept-here Hello")
    with pytest.raises(UsageError, match=re.escape(advice)):  # by id: the server answers 404
        a(shell, "assistants", f"show {shell.user_ns['made']['id']}")
    with pytest.raises(UsageError) as caught:  # a name kept nowhere: no advice
        a(shell, "assistants", "run nobody-at-all Hello")
    assert "kept on this machine" not in str(caught.value)
    value, _ = a(shell, "responses", "run kept-here Hello")
    assert value is None and shell.user_ns["_"].status == "completed"
