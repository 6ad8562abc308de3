"""%assistant on the chat back end, where it differs from the others: a server that keeps nothing.

The shared scenarios run on it in test_assistant.py; here are the rows of the fault matrix that
mean something else without a run at the server (a broken stream cannot be followed to its end:
the run fails and what streamed is kept), Ctrl-C, the history a run sends, and a server that
refuses tools. Each runs against a sandbox with its Assistants and Conversations routes off.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any, Iterator

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from oai_magics.sandbox import Sandbox, start
from tests.helpers.interrupts import InterruptOnText

from .conftest import run, shell_on, use_server

pytestmark = pytest.mark.timeout(60)

COMPLETIONS = "/v1/chat/completions"


@pytest.fixture
def chat_shell(shell: Any, bare_sandbox: Sandbox) -> Iterator[Any]:
    """A shell on the sandbox without Assistants and Conversations (each command here says --api chat);
    faults disarmed after."""
    use_server(shell, bare_sandbox, "bare")
    requests.delete(bare_sandbox.url + "/sandbox/requests", timeout=10)
    yield shell
    requests.delete(bare_sandbox.url + "/sandbox/faults", timeout=10)


def arm(server: Sandbox, **fault: Any) -> None:
    assert requests.post(server.url + "/sandbox/faults", json={"path": COMPLETIONS, "method": "POST", **fault},
                         timeout=10).ok


def sent(server: Sandbox) -> list[dict]:
    """The bodies of the chat completions the sandbox was asked for, in order."""
    log = requests.get(server.url + "/sandbox/requests", timeout=10).json()["requests"]
    return [json.loads(r["body"]) for r in log if r["path"] == COMPLETIONS]


def ready(shell: Any) -> str:
    """An assistant `steady` and a thread with one message waiting; the thread's id."""
    run(shell, "assistant", "create steady --api chat --model gpt-4o-mini")
    run(shell, "assistant", "threads new --api chat --message 'Tell me about the Douro valley' -o thread")
    return shell.user_ns["thread"]["id"]


def texts(shell: Any, thread_id: str) -> list[str]:
    return list(run(shell, "assistant", f"messages {thread_id} --api chat")[0]["text"])


@pytest.mark.parametrize("polled", [False, True], ids=["streamed", "not streamed"])
def test_a_refused_start_is_one_line_and_leaves_the_thread_as_it_was(chat_shell: Any, bare_sandbox: Sandbox,
                                                                     polled: bool) -> None:
    thread_id = ready(chat_shell)
    arm(bare_sandbox, status=503, retry_after=0, count=10)
    with pytest.raises(UsageError) as caught:
        run(chat_shell, "assistant", f"run steady --api chat --thread {thread_id} Any news?" + " --no-stream" * polled)
    line = str(caught.value)
    assert "\n" not in line and "503" in line and f"[thread {thread_id}]" in line
    assert chat_shell.user_ns["_"].run_id is None
    assert texts(chat_shell, thread_id) == ["Tell me about the Douro valley"]  # the message did not go: not kept
    assert list(run(chat_shell, "assistant", f"runs {thread_id} --api chat")[0].get("id", [])) == []


def test_a_stream_dropped_mid_reply_fails_the_run_and_keeps_what_came(chat_shell: Any, bare_sandbox: Sandbox) -> None:
    thread_id = ready(chat_shell)
    arm(bare_sandbox, drop_after=12)
    with pytest.raises(UsageError) as caught:
        run(chat_shell, "assistant", f"run steady --api chat --thread {thread_id}")
    line, result = str(caught.value), chat_shell.user_ns["_"]
    assert "\n" not in line and f"{len(result.text)} characters of the reply kept" in line
    assert result.text.startswith("Here is a reply") and "Douro" not in result.text
    runs, _ = run(chat_shell, "assistant", f"runs {thread_id} --api chat")
    assert list(runs["status"]) == ["failed"] and "the stream broke off" in list(runs["error"])[0]
    assert texts(chat_shell, thread_id) == ["Tell me about the Douro valley"]  # no half reply in the history
    run(chat_shell, "assistant", f"run steady --api chat --thread {thread_id}")  # the thread takes the next run
    assert chat_shell.user_ns["_"].status == "completed" and "Douro" in chat_shell.user_ns["_"].text


def test_a_malformed_stream_is_one_line(chat_shell: Any, bare_sandbox: Sandbox) -> None:
    thread_id = ready(chat_shell)
    arm(bare_sandbox, malformed=True)
    with pytest.raises(UsageError, match="the run did not finish") as caught:
        run(chat_shell, "assistant", f"run steady --api chat --thread {thread_id}")
    assert "\n" not in str(caught.value)


def test_tool_rounds_send_the_thread_with_the_calls_and_their_outputs(chat_shell: Any, bare_sandbox: Sandbox) -> None:
    chat_shell.run_cell('def get_weather(city: str) -> str:\n    "The weather in a city."\n    return f"rain in {city}"')
    run(chat_shell, "assistant", "create weather --api chat --model gpt-4o-mini --instructions Brief --tools get_weather")
    run(chat_shell, "assistant", "run weather --api chat Weather in Braga?")
    assert chat_shell.user_ns["_"].status == "completed" and "rain in Braga" in chat_shell.user_ns["_"].text
    first, second = sent(bare_sandbox)
    assert first["tools"][0]["function"]["name"] == "get_weather" and second["tools"] == first["tools"]
    call = second["messages"][2]["tool_calls"][0]
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    assert second["messages"][3] == {"role": "tool", "tool_call_id": call["id"], "content": "rain in Braga"}


def test_a_server_that_refuses_tools_says_so_in_one_line(shell: Any, httpserver: Any) -> None:
    # llama.cpp's answer when it was started without --jinja
    httpserver.expect_request("/nojinja/v1/chat/completions").respond_with_json(
        {"error": {"code": 500, "message": "tools param requires --jinja flag", "type": "invalid_request_error"}},
        status=400)
    run(shell, "oai", f"profile add llama --base-url {httpserver.url_for('/nojinja/v1')} --key-env SANDBOX_TEST_KEY "
                      "--assistants-api chat")
    run(shell, "oai", "use llama")
    shell.user_ns["spec"] = {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}}
    run(shell, "assistant", "create tooled --model gpt-4o-mini --tools spec")
    with pytest.raises(UsageError, match=r"^this server does not take tools on chat completions \(the chat back end\): "
                                         r"400 tools param requires --jinja flag"):
        run(shell, "assistant", "run tooled Hello")


def test_another_refusal_of_a_run_with_tools_is_not_blamed_on_the_tools(chat_shell: Any) -> None:
    chat_shell.user_ns["spec"] = {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}}
    run(chat_shell, "assistant", "create unknown --api chat --model no-such-model --tools spec")
    with pytest.raises(UsageError) as caught:
        run(chat_shell, "assistant", "run unknown --api chat Hello")
    assert "no-such-model" in str(caught.value) and "does not take tools" not in str(caught.value)


@pytest.fixture(scope="module")
def slow_chat_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("slow-chat"), token_delay=1.0, assistants_api=False,
               conversations_api=False) as running:
        yield running


@pytest.fixture
def slow_chat_shell(slow_chat_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    with shell_on(slow_chat_sandbox, monkeypatch, profile="slow-chat") as ip:
        yield ip


def test_ctrl_c_ends_the_stream_cancels_the_run_and_keeps_the_partial_reply(slow_chat_shell: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        slow_chat_shell.run_line_magic("assistant", "create talker --model gpt-4o-mini --api chat")
    out = InterruptOnText("sandbox")
    with contextlib.redirect_stdout(out):
        slow_chat_shell.run_line_magic("assistant", "run talker --api chat Tell me about the harbour of Genoa")
    out.sender.join(5)
    result = slow_chat_shell.user_ns["_"]
    assert "interrupted: run" in out.getvalue() and "characters of the reply kept" in out.getvalue()
    assert "sandbox" in result.text and "Genoa" not in result.text  # partial: the rest never came
    runs = slow_chat_shell.run_line_magic("assistant", f"runs {result.thread_id} --api chat")
    assert list(runs["status"]) == ["cancelled"]


def test_a_streamed_run_records_its_token_usage(chat_shell: Any, bare_sandbox: Sandbox) -> None:
    thread_id = ready(chat_shell)
    run(chat_shell, "assistant", f"run steady --api chat --thread {thread_id}")
    (body,) = sent(bare_sandbox)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    runs, _ = run(chat_shell, "assistant", f"runs {thread_id} --api chat")
    assert runs["usage"][0]["total_tokens"] > 0  # as a run polled, or on the other back ends, has it
