"""%%chat and %chat in a real IPython shell against the sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from IPython.core.error import UsageError

from oai_magics.client import Client
from oai_magics.conversation import stream_reply

from .conftest import run


def session(ip: Any) -> Any:
    from oai_magics.magics import session_of

    return session_of(ip)


def test_cell_streams_a_reply_and_leaves_it_in_underscore(shell: Any) -> None:
    value, out = run(shell, "chat", "", "Tell me about Lisbon trams")
    assert value is None  # already shown: no duplicate Out[]
    reply = shell.user_ns["_"]
    assert "oai_magics sandbox" in reply and "Lisbon" in reply
    assert reply in out.stdout  # streamed as it came (plain text: no rich frontend here)
    assert "gpt-4o-mini · " in out.stdout and "completion tokens" in out.stdout


def test_line_form_output_variable_and_options(shell: Any) -> None:
    run(shell, "chat", "-m gpt-4.1-mini -t 0.2 --max-tokens 5 -o short Describe the sea")
    assert shell.user_ns["short"] == shell.user_ns["_"]
    assert len(shell.user_ns["short"].split()) <= 5
    record = session(shell).records[-1]
    assert record["path"] == "/chat/completions" and record["completion_tokens"] <= 5


def test_memory_rerun_replaces_and_named_conversations(shell: Any) -> None:
    run(shell, "chat", "", "First question about owls")
    run(shell, "chat", "", "Second question about bats")
    run(shell, "chat", "", "Second question about bats")  # the same cell run again
    conversation = session(shell).conversations["default"]
    assert [e.messages[0]["content"] for e in conversation.exchanges] == ["First question about owls",
                                                                          "Second question about bats"]
    # The re-run sent the first exchange as context, not its own earlier answer.
    assert len(conversation.context(conversation.exchanges[1].key)) == 2
    run(shell, "chat", "-c other", "Separate thread")
    assert len(session(shell).conversations["other"].exchanges) == 1
    run(shell, "chat", "--new", "Fresh start")
    assert len(session(shell).conversations["default"].exchanges) == 1
    history, _ = run(shell, "oai", "history")
    assert list(history["role"]) == ["user", "assistant"] and history["content"][0] == "Fresh start"


def test_system_json_param_and_no_stream(shell: Any) -> None:
    run(shell, "chat", "--json --no-stream -s 'Answer in JSON' --param seed=7 --param top_p=0.9", "Give me json about cats")
    assert json.loads(shell.user_ns["_"])["source"] == "oai_magics sandbox"
    context = session(shell).conversations["default"].context("none")
    assert context[0] == {"role": "system", "content": "Answer in JSON"}


def test_interpolation_of_variables_attributes_and_items(shell: Any) -> None:
    shell.user_ns.update(city="Porto", data={"river": "Douro"}, items=["wine"])
    run(shell, "chat", "", 'Tell me about {{city}} on the {{data["river"]}} and its {{items[0]}}; JSON {"a": {"b": 1}}')
    sent = session(shell).conversations["default"].exchanges[-1].messages[0]["content"]
    assert sent == 'Tell me about Porto on the Douro and its wine; JSON {"a": {"b": 1}}'
    run(shell, "chat", "--no-interpolate", "Keep {{city}} as is")
    assert session(shell).conversations["default"].exchanges[-1].messages[0]["content"] == "Keep {{city}} as is"
    _, out = run(shell, "chat", "", "About {{ nowhere.name }}")  # not a variable: sent as written, said in one line
    assert session(shell).conversations["default"].exchanges[-1].messages[0]["content"] == "About {{ nowhere.name }}"
    assert out.stderr == "{{ nowhere.name }} left as it is: there is no variable named 'nowhere'\n"


def test_function_tools_are_called_and_answered(shell: Any) -> None:
    calls = []

    def get_weather(city: str, unit: str = "c") -> dict:
        """Current weather in a city."""
        calls.append((city, unit))
        return {"city": city, "temperature": 21}

    shell.user_ns["forecast"] = get_weather  # an alias: the model calls it by the name the notebook knows
    _, out = run(shell, "chat", "--tools forecast", "What is the weather in Madrid?")
    assert calls and calls[0][0] == "Madrid"
    assert "`forecast` returned:" in shell.user_ns["_"] and '"temperature": 21' in shell.user_ns["_"]
    assert "> tool call: `forecast(" in out.stdout
    assert "\U0001f527" not in out.stdout  # no marker that needs an emoji font
    roles = [m["role"] for m in session(shell).conversations["default"].exchanges[-1].messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    with pytest.raises(UsageError, match="is not a function"):
        shell.user_ns["notfn"] = 3
        shell.run_cell_magic("chat", "--tools notfn", "x")


def test_errors_are_one_line(shell: Any) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("chat", "-m gpt-9", "hi")
    assert str(info.value) == ("NotFoundError: 404 (model_not_found): The model `gpt-9` does not exist or you do "
                               "not have access to it. [param: model]")
    with pytest.raises(UsageError, match="unrecognized arguments: --bogus"):
        shell.run_cell_magic("chat", "--bogus", "hi")
    with pytest.raises(UsageError, match="Nothing to send"):
        shell.run_cell_magic("chat", "", "   ")
    shell.run_line_magic("config", "OAIMagics.short_errors = False")
    from oai_magics.client import NotFoundError

    with pytest.raises(NotFoundError):
        shell.run_cell_magic("chat", "-m gpt-9", "hi")


def test_configured_default_model(shell: Any) -> None:
    shell.run_line_magic("config", "OAIMagics.chat_model = 'gpt-4.1-nano'")
    run(shell, "chat", "", "hello")
    assert session(shell).conversations["default"].exchanges[-1].model == "gpt-4.1-nano"


def test_broken_stream_keeps_its_partial_text(shell: Any, faults: Any) -> None:
    faults(path="/v1/chat/completions", truncate_after=5)
    _, out = run(shell, "chat", "", "A long story please")
    partial = shell.user_ns["_"]
    assert partial and "stream broken off: partial reply kept" in out.stdout
    exchange = session(shell).conversations["default"].exchanges[-1]
    assert exchange.interrupted and exchange.reply == partial


def test_ctrl_c_mid_stream_keeps_partial_text_and_closes(sandbox: Any) -> None:
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    seen: list[str] = []

    def on_text(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            raise KeyboardInterrupt  # what Ctrl-C raises inside the loop

    reply = stream_reply(client, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a story"}]}, on_text)
    assert reply.interrupted and reply.content == "".join(seen) and len(seen) == 3


def test_no_key_says_how_to_get_one(shell: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    run(shell, "oai", "use openai")
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("chat", "", "hi")
    assert "%oai key" in str(info.value) and "%oai use sandbox" in str(info.value) and "\n" not in str(info.value)


def test_a_server_without_stream_options_still_streams(httpserver: Any) -> None:
    """An older compatible server that refuses `stream_options` gets the plain stream."""
    from werkzeug import Request, Response

    bodies: list[dict] = []

    def handler(request: Request) -> Response:
        body = json.loads(request.get_data())
        bodies.append(body)
        if "stream_options" in body:
            return Response(json.dumps({"error": {"message": "Unrecognized request argument supplied: stream_options",
                                                  "type": "invalid_request_error", "param": None, "code": None}}),
                            status=400, content_type="application/json")
        chunk = {"object": "chat.completion.chunk", "model": "local", "choices": [{"index": 0, "delta": {"content": "hi"}}]}
        return Response(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n", content_type="text/event-stream")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    client = Client(api_key="k", base_url=httpserver.url_for("/v1"))
    reply = stream_reply(client, {"model": "local", "messages": [{"role": "user", "content": "x"}]}, lambda piece: None)
    assert reply.content == "hi" and reply.complete and len(bodies) == 2
