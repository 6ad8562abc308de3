"""Local MCP servers from the notebook: `%oai mcp add/list/remove`, their tools in `%%chat --mcp` on
chat completions (the sandbox) and in `%assistant run --mcp`, approval by rule or by the person.
The servers are the tests' own (`tests/helpers/toolbox_server.py`), over stdio and over HTTP."""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any, Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError

from tests.helpers.mcp_servers import STDIO_COMMAND, http_toolbox

from .conftest import run, use_server


@pytest.fixture(params=["assistants", "responses", "chat"])
def api(request: pytest.FixtureRequest, shell: Any) -> str:
    """The back ends that take function tools; the chat one on a server with only chat completions."""
    if request.param == "chat":
        use_server(shell, request.getfixturevalue("bare_sandbox"), "chat")
    return request.param


def a(shell: Any, api: str, line: str) -> tuple[Any, Any]:
    """`%assistant SUB --api API REST`."""
    subcommand, _, rest = line.partition(" ")
    return run(shell, "assistant", f"{subcommand} --api {api} {rest}")


def session(shell: Any) -> Any:
    return shell.find_magic("oai").__self__.session


def add(shell: Any, name: str = "box", options: str = "") -> Any:
    return run(shell, "oai", f"mcp add {name} {options} -- {STDIO_COMMAND}")


def shown(out: Any) -> str:
    """What a plain front end shows: the printed text and the plain form of each display."""
    return out.stdout + "".join(o.data.get("text/plain", "") for o in out.outputs)


class Answers(list):
    """The answers the person types, in order; the questions asked are kept in `asked`."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.asked.append(prompt)
        return self.pop(0)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Answers]:
    typed = Answers()
    monkeypatch.setattr(builtins, "input", typed)
    yield typed


def test_add_list_remove(shell: Any) -> None:
    _, out = add(shell, options="--approve read-only")
    assert "MCP server 'box' added" in out.stdout and "approve: read-only" in out.stdout
    table, _ = run(shell, "oai", "mcp list -o tools")
    assert isinstance(table, pd.DataFrame) and list(table.columns) == ["server", "tool", "description", "input_schema", "read_only"]
    row = table.set_index("tool").loc["add"]
    assert row.server == "box" and row.read_only and row.input_schema["required"] == ["a", "b"]
    assert shell.user_ns["tools"] is table
    pid = int(session(shell).mcp().call("box", "process_id", {}).text)
    _, out = run(shell, "oai", "mcp remove box")
    assert "removed" in out.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(UsageError, match="no MCP server named 'box'"):
        run(shell, "oai", "mcp remove box")


def test_list_with_a_server_down_lists_the_others_and_names_it_in_one_line(shell: Any) -> None:
    add(shell, options="--approve always")
    run(shell, "oai", f"mcp add down -- {sys.executable} -c pass")  # exits at once: no MCP server
    table, out = run(shell, "oai", "mcp list")
    assert set(table.server) == {"box"} and "add" in set(table.tool)
    assert out.stdout.count("\n") == 1 and "MCP server 'down'" in out.stdout and "could not start" in out.stdout
    with pytest.raises(UsageError, match="no MCP server named 'elsewhere'"):  # a typo is still an error
        run(shell, "oai", "mcp list box elsewhere")


@pytest.mark.parametrize(("line", "message"), [
    ("mcp add box", "either a command"),
    ("mcp add box --url http://127.0.0.1:9/mcp -- python x.py", "either a command"),
    ("mcp add 'a b' -- python x.py", "a server name is"),
    ("mcp add box --header A=1 -- python x.py", "--header goes with --url"),
    ("mcp add box --url http://127.0.0.1:9/mcp --header nothing", "expected KEY=VALUE"),
    ("mcp add box --approve maybe -- python x.py", "invalid choice"),
])
def test_bad_additions_are_one_line(shell: Any, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run(shell, "oai", line)


def test_chat_calls_an_mcp_tool_and_remembers_the_call(shell: Any) -> None:
    add(shell, options="--approve always")
    reply, out = run(shell, "chat", "--mcp box:add --no-stream", "Add these numbers please.")
    assert "`box__add` returned: 2" in shell.user_ns["_"]  # the sandbox calls add(a=1, b=1)
    assert 'mcp box.add({"a": 1, "b": 1}) -> 2' in shown(out)  # the plain line under the reply
    html = [o.data["text/html"] for o in out.outputs if "text/html" in o.data]
    assert html and "<details>" in html[0] and "box.add" in html[0]
    messages = session(shell).conversations["default"].exchanges[-1].messages
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1]["tool_calls"][0]["function"]["name"] == "box__add" and messages[2]["content"] == "2"
    assert "> tool call" not in out.stdout  # not in the reply's text: under it
    run(shell, "chat", "--no-stream", "And now?")  # the next turn sends the tool traffic (checked by the sandbox as the API does)
    assert len(session(shell).conversations["default"].exchanges) == 2


def test_chat_over_http_with_a_header_from_the_environment(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLBOX_TOKEN", "tok-secret-123")
    with http_toolbox() as url:
        _, out = run(shell, "oai", f"mcp add web --url {url} --header Authorization=$TOOLBOX_TOKEN --approve always")
        assert "tok-secret-123" not in out.stdout
        run(shell, "chat", "--mcp web:shout --no-stream", "Say it loud, Porto.")
    assert "`web__shout` returned: PORTO" in shell.user_ns["_"]


def test_tokens_of_a_server_never_appear_in_output_repr_errors_listing_or_recording(
        shell: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("TOOLBOX_TOKEN", "tok-from-env-123")
    recording = tmp_path / "mcp.jsonl"
    seen = []
    with http_toolbox() as url:
        url = url.replace("http://", "http://me:tok-in-url-456@")
        for line in (f"mcp add web --url {url} --header Authorization=$TOOLBOX_TOKEN --header X-Key=tok-typed-789 "
                     "--approve always", f"record {recording}", "mcp list"):
            value, out = run(shell, "oai", line)
            seen += [shown(out), repr(value), value.to_string() if isinstance(value, pd.DataFrame) else ""]
        value, out = run(shell, "chat", "--mcp web:shout --no-stream", "Say it loud, Porto.")
        seen += [shown(out), repr(value), repr(session(shell).mcp().specs), repr(session(shell).mcp()._live)]
        run(shell, "oai", "record off")
    with pytest.raises(UsageError) as gone:  # the server has stopped: its error names it, not its tokens
        run(shell, "chat", "--mcp web:shout --no-stream", "Say it loud, Porto.")
    seen += [str(gone.value), recording.read_text(encoding="utf-8")]
    assert "PORTO" in seen[-1] and "127.0.0.1" in str(gone.value)  # the recording and the error are there
    for token in ("tok-from-env-123", "tok-in-url-456", "tok-typed-789"):
        assert not [text for text in seen if token in text], token


def test_the_person_approves_or_refuses(shell: Any, answers: Answers) -> None:
    add(shell)  # --approve ask
    answers[:] = ["y"]
    _, out = run(shell, "chat", "--mcp box:shout --no-stream", "Say hello to Lisbon.")
    assert answers.asked == ["Run box.shout? [y/N] "] and '"text": "Lisbon"' in out.stdout
    assert "returned: LISBON" in shell.user_ns["_"]
    answers[:] = ["n"]
    _, out = run(shell, "chat", "--mcp box:shout --no-stream", "Say hello to Lisbon.")
    assert "refused by the user" in shell.user_ns["_"] and "(refused)" in shown(out)


def test_ctrl_c_at_the_question_says_so_and_keeps_no_unanswered_call(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(builtins, "input", ctrl_c)
    add(shell)  # --approve ask
    _, out = run(shell, "chat", "--mcp box:shout", "Say hello to Faro.")
    assert "interrupted during the tool calls: they are not kept in the conversation" in shown(out)
    assert [m["role"] for m in session(shell).conversations["default"].exchanges[-1].messages] == ["user", "assistant"]


def test_read_only_tools_run_unasked_and_the_rest_are_asked(shell: Any, answers: Answers) -> None:
    add(shell, options="--approve read-only")
    run(shell, "chat", "--mcp box --no-stream", "Please add them.")  # add is read-only
    assert not answers.asked and "`box__add` returned: 2" in shell.user_ns["_"]
    answers[:] = ["yes"]
    run(shell, "chat", "--mcp box --no-stream", "Now shout it, Oslo.")  # the prompt names shout: not read-only
    assert answers.asked == ["Run box.shout? [y/N] "] and "returned: OSLO" in shell.user_ns["_"]


def test_never_refuses_without_asking(shell: Any, answers: Answers) -> None:
    add(shell, options="--approve never")
    run(shell, "chat", "--mcp box:add --no-stream", "Add them.")
    assert not answers.asked and "refused by the server's rule --approve never" in shell.user_ns["_"]


def test_no_stdin_is_one_line_naming_the_rules(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_stdin(prompt: str) -> str:
        raise NotImplementedError("raw_input was called, but this frontend does not support input requests.")

    monkeypatch.setattr(builtins, "input", no_stdin)
    add(shell)
    with pytest.raises(UsageError, match=r"box.add needs an answer.*--approve always\|never\|read-only"):
        run(shell, "chat", "--mcp box:add --no-stream", "Add them.")


def test_a_tool_error_goes_back_to_the_model_and_is_shown(shell: Any) -> None:
    add(shell, options="--approve always")
    _, out = run(shell, "chat", "--mcp box:fail --no-stream", "Try `the missing table`.")
    assert "returned: error: Error executing tool fail: refused: the missing table" in shell.user_ns["_"]
    assert "(tool error)" in shown(out)


def test_a_crash_and_a_hang_are_one_line(shell: Any) -> None:
    add(shell, options="--approve always --timeout 2")
    with pytest.raises(UsageError, match=r"calling crash.*it wrote: toolbox crashing: "):
        run(shell, "chat", "--mcp box:crash --no-stream", "Crash it.")
    with pytest.raises(UsageError, match=r"did not answer within 2 s \(calling hang\)"):
        run(shell, "chat", "--mcp box:hang --no-stream", "Wait for it.")


def test_mcp_with_python_tools_and_bad_selections(shell: Any) -> None:
    add(shell, options="--approve always")
    shell.run_cell("def box__add(a: int, b: int) -> int:\n    return a + b")
    with pytest.raises(UsageError, match="--tools and --mcp both name box__add"):
        run(shell, "chat", "--tools box__add --mcp box:add", "x")
    with pytest.raises(UsageError, match="has no tool 'nope'"):
        run(shell, "chat", "--mcp box:nope", "x")
    with pytest.raises(UsageError, match="--mcp goes with %%chat and %chat, not with --each"):
        shell.user_ns["rows"] = ["a"]
        run(shell, "chat", "--mcp box --each rows", "x {{row}}")
    with pytest.raises(UsageError, match="no MCP server named 'elsewhere'"):
        run(shell, "chat", "--mcp elsewhere", "x")
    shell.run_cell("def get_time(city: str) -> str:\n    return '12:00'")
    run(shell, "chat", "--tools get_time --mcp box:add --no-stream", "What time is it?")
    tools = session(shell).conversations["default"].exchanges[-1].messages[1]["tool_calls"]
    assert tools[0]["function"]["name"] == "get_time"  # both offered; the first is called


def test_assistant_run_calls_an_mcp_tool(shell: Any, api: str) -> None:
    add(shell, options="--approve always")
    a(shell, api, "create counter --model gpt-4o-mini --instructions 'Use the tools'")
    _, out = a(shell, api, "run counter --mcp box:add Add two and two.")
    outcome = shell.user_ns["_"]
    assert outcome.status == "completed" and "box__add" in outcome.text and "2" in outcome.text
    assert 'mcp box.add({"a": 1, "b": 1}) -> 2' in shown(out)


def test_ctrl_c_at_the_question_of_a_run_cancels_it_and_the_thread_runs_again(
        shell: Any, api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add(shell)  # --approve ask
    a(shell, api, "create counter --model gpt-4o-mini --instructions 'Use the tools'")
    a(shell, api, "threads new -o thread")
    thread = shell.user_ns["thread"]["id"]
    typed = iter([KeyboardInterrupt, "y"])

    def person(prompt: str) -> str:
        answer = next(typed)
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt
        return answer

    monkeypatch.setattr(builtins, "input", person)
    a(shell, api, f"run counter --mcp box:shout --thread {thread} Shout it, Braga.")
    assert shell.user_ns["_"].status in ("cancelled", "cancelling")
    a(shell, api, f"run counter --mcp box:shout --thread {thread} Shout it, Braga.")
    outcome = shell.user_ns["_"]
    assert outcome.status == "completed" and "BRAGA" in outcome.text
