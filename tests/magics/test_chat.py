"""%%chat and %chat in a real IPython shell against the sandbox."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import threading
import time
from typing import Any, Iterator
from urllib.parse import urlparse

import psutil

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from oai_magics.client import Client
from oai_magics.chat_memory import stream_reply
from oai_magics.sandbox import Sandbox, start

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
    assert "gpt-5.4-mini · " in out.stdout and "completion tokens" in out.stdout  # today's default chat model


def test_line_form_output_variable_and_options(shell: Any) -> None:
    run(shell, "chat", "-m gpt-4.1-mini -t 0.2 --max-tokens 5 -o short Describe the sea")
    assert shell.user_ns["short"] == shell.user_ns["_"]
    assert len(shell.user_ns["short"].split()) <= 5
    record = session(shell).records[-1]
    assert record["path"] == "/chat/completions" and record["completion_tokens"] <= 5


def test_memory_without_a_cell_id_and_named_conversations(shell: Any) -> None:
    shell.run_cell("%chat First question about owls")
    shell.run_cell("%chat Second question about bats")
    shell.run_cell("%chat Second question about bats")  # typed again in a new cell: a new question, not a re-run
    conversation = session(shell).conversations["default"]
    assert [e.messages[0]["content"] for e in conversation.exchanges] == [
        "First question about owls", "Second question about bats", "Second question about bats"]
    run(shell, "chat", "-c other", "Separate thread")
    assert len(session(shell).conversations["other"].exchanges) == 1
    run(shell, "chat", "--new", "Fresh start")
    assert len(session(shell).conversations["default"].exchanges) == 1
    history, _ = run(shell, "oai", "history")
    assert list(history["role"]) == ["user", "assistant"] and history["content"][0] == "Fresh start"


@pytest.fixture
def sent(shell: Any, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The message texts of each chat request the session sends (the request still goes out)."""
    requests_sent: list[list[str]] = []
    completions = session(shell).client.chat.completions
    create = completions.create

    def recording(**params: Any) -> Any:
        requests_sent.append([m.get("content") or "" for m in params["messages"]])
        return create(**params)

    monkeypatch.setattr(completions, "create", recording)
    return requests_sent


def test_two_calls_in_one_cell_are_both_remembered_in_order(shell: Any, sent: list[list[str]]) -> None:
    with capture_output():
        shell.run_cell("%chat Tell me about owls\n%chat Tell me more\n%chat Tell me more")
    exchanges = session(shell).conversations["default"].exchanges
    assert [e.messages[0]["content"] for e in exchanges] == ["Tell me about owls", "Tell me more", "Tell me more"]
    assert sent[1] == ["Tell me about owls", exchanges[0].reply, "Tell me more"]
    assert sent[2][::2] == ["Tell me about owls", "Tell me more", "Tell me more"]


def test_a_loop_of_line_magics_keeps_every_exchange(shell: Any, sent: list[list[str]]) -> None:
    with capture_output():
        for _ in range(3):
            shell.run_line_magic("chat", "Tell me more")
    exchanges = session(shell).conversations["default"].exchanges
    assert [e.messages[0]["content"] for e in exchanges] == ["Tell me more"] * 3
    assert sent[2][::2] == ["Tell me more"] * 3


def test_no_memory_leaves_the_conversation_alone(shell: Any, sent: list[list[str]]) -> None:
    run(shell, "chat", "-s 'Be brief'", "Remember owls")
    run(shell, "chat", "--no-memory --new -s 'Speak like a pirate'", "Only this")
    assert sent[-1] == ["Speak like a pirate", "Only this"]
    conversation = session(shell).conversations["default"]
    assert conversation.system == "Be brief"
    assert [e.messages[0]["content"] for e in conversation.exchanges] == ["Remember owls"]


def test_system_json_param_and_no_stream(shell: Any) -> None:
    run(shell, "chat", "--json --no-stream -s 'Answer in JSON' --param seed=7 --param top_p=0.9", "Give me json about cats")
    assert json.loads(shell.user_ns["_"])["source"] == "oai_magics sandbox"
    assert session(shell).conversations["default"].system == "Answer in JSON"


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


def test_ctrl_c_in_a_tool_ends_the_exchange_without_a_half_answered_call(shell: Any) -> None:
    def slow_lookup(city: str) -> str:
        """Look a city up."""
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while the tool runs
        return "never reached"

    shell.user_ns["slow_lookup"] = slow_lookup
    try:
        _, out = run(shell, "chat", "--tools slow_lookup", "Where is Lisbon?")
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C in a tool escaped the magic")
    assert "interrupted during the tool calls: they are not kept in the conversation" in out.stdout
    exchange = session(shell).conversations["default"].exchanges[-1]
    assert exchange.interrupted and [m["role"] for m in exchange.messages] == ["user", "assistant"]
    run(shell, "chat", "", "And Porto?")  # the conversation can go on
    assert "Porto" in shell.user_ns["_"]


def test_errors_are_one_line(shell: Any) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("chat", "-m gpt-9", "hi")
    assert re.fullmatch(r"NotFoundError: 404 \(model_not_found\): The model `gpt-9` does not exist or you do "
                        r"not have access to it\. \[param: model\] \[request id: req_[0-9a-f]{32}\]; the server's chat "
                        r"models: gpt-5\.4-mini, .* and \d+ more; pick one with -m gpt-5\.4-mini or "
                        r"%config OAIMagics\.chat_model = 'gpt-5\.4-mini'", str(info.value))
    with pytest.raises(UsageError, match="unrecognized arguments: --bogus"):
        shell.run_cell_magic("chat", "--bogus", "hi")
    with pytest.raises(UsageError, match="Nothing to send"):
        shell.run_cell_magic("chat", "", "   ")
    shell.run_line_magic("config", "OAIMagics.short_errors = False")
    from oai_magics.client import NotFoundError

    with pytest.raises(NotFoundError):
        shell.run_cell_magic("chat", "-m gpt-9", "hi")


def test_a_chat_that_got_no_answer_says_what_to_do_in_notebook_words(shell: Any, faults: Any) -> None:
    faults(path="/v1/chat/completions", lose_response=True)
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("chat", "--no-stream", "hi")
    line = str(info.value)
    assert line == ("POST /chat/completions sent, but the server closed the connection without answering; "
                    "not re-sent: it may have run and been billed. Re-run if it had no effect")
    assert len(line) < 160  # the client's own advice (a Client option no magic has) is for library users
    shell.run_line_magic("config", "OAIMagics.short_errors = False")
    faults(path="/v1/chat/completions", lose_response=True)
    from oai_magics.client import APIConnectionError

    with pytest.raises(APIConnectionError, match="honours_idempotency_key=True"):
        shell.run_cell_magic("chat", "--no-stream", "hi")


def test_configured_default_model(shell: Any) -> None:
    shell.run_line_magic("config", "OAIMagics.chat_model = 'gpt-4.1-nano'")
    run(shell, "chat", "", "hello")
    assert session(shell).conversations["default"].exchanges[-1].model == "gpt-4.1-nano"


def test_broken_stream_keeps_its_partial_text(shell: Any, faults: Any) -> None:
    faults(path="/v1/chat/completions", truncate_after=5)
    _, out = run(shell, "chat", "", "A long story please")
    partial = shell.user_ns["_"]
    assert partial and ("stream broken off: partial reply kept (the stream ended before the server finished it, "
                       "after 5 events") in out.stdout
    exchange = session(shell).conversations["default"].exchanges[-1]
    assert exchange.interrupted and exchange.reply == partial


@pytest.mark.parametrize("flags", ["-p n=2", "-p n=2 --no-stream"])
def test_several_choices_are_shown_apart(shell: Any, flags: str) -> None:
    _, out = run(shell, "chat", flags, "Tell me about herons")
    first, second = shell.user_ns["_"]
    assert "(choice 2)" in second and "(choice 2)" not in first
    shown = out.stdout
    assert shown.index("--- choice 1 ---") < shown.index(first) < shown.index("--- choice 2 ---") < shown.index(second)
    assert session(shell).conversations["default"].exchanges[-1].reply == first  # memory keeps the first choice


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own (nothing else connects to it) that streams a chunk every 0.2 s."""
    with start(data_dir=tmp_path_factory.mktemp("slow"), token_delay=0.2) as running:
        yield running


class FirstWrite(io.StringIO):
    """stdout that says when the first piece of the reply was printed."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()

    def write(self, text: str) -> int:
        self.started.set()
        return super().write(text)


def server_side(port: int) -> list[Any]:
    """The sandbox's ends of open TCP connections (it runs in this process)."""
    return [c for c in psutil.Process().net_connections("tcp")
            if c.laddr and c.laddr.port == port and c.status in (psutil.CONN_ESTABLISHED, psutil.CONN_CLOSE_WAIT)]


def test_ctrl_c_during_a_socket_read_keeps_the_partial_reply(shell: Any, slow_sandbox: Sandbox,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOW_SANDBOX_KEY", slow_sandbox.api_key)
    run(shell, "oai", f"profile add slow --base-url {slow_sandbox.base_url} --key-env SLOW_SANDBOX_KEY")
    run(shell, "oai", "use slow")
    port = urlparse(slow_sandbox.base_url).port or 0
    out, during = FirstWrite(), []

    def press_ctrl_c() -> None:  # while the main thread waits for the next chunk
        if out.started.wait(timeout=30):
            during.extend(server_side(port))
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    presser.start()
    try:
        with contextlib.redirect_stdout(out):
            shell.run_cell_magic("chat", "", "Tell me a long story about the sea and its lighthouses")
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the stream instead of ending it")
    presser.join(timeout=30)
    partial = shell.user_ns["_"]
    assert during and partial and "interrupted: partial reply kept" in out.getvalue()
    exchange = session(shell).conversations["default"].exchanges[-1]
    assert exchange.interrupted and exchange.reply == partial
    deadline = time.monotonic() + 10  # the server notices the closed socket on its own schedule
    while server_side(port) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server_side(port) == []
    # The shell goes on: the same question answered whole, of which the partial reply is the start.
    run(shell, "chat", "--no-memory --no-stream", "Tell me a long story about the sea and its lighthouses")
    whole = shell.user_ns["_"]
    assert whole.startswith(partial) and len(whole) > len(partial)


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
    reply = stream_reply(client, {"model": "local", "messages": [{"role": "user", "content": "x"}]}, lambda index, piece: None)
    assert reply.text == "hi" and reply.complete and len(bodies) == 2
