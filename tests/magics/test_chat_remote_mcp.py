"""%%chat --mcp-url: a turn through the Responses API whose `mcp` tool has the sandbox (as the API)
call a real MCP server of the tests' own; approvals by rule and by the person, headers from the
environment only, and the one-line errors."""

from __future__ import annotations

import builtins
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from IPython.core.error import UsageError

from oai_magics.sandbox import Sandbox
from tests.helpers.notes_server import RunningMcp, free_port, serve_mcp
from tests.helpers.sandboxes import Server

from .conftest import run


@pytest.fixture(scope="module")
def notes() -> Iterator[RunningMcp]:
    with serve_mcp() as running:
        yield running


def answering(monkeypatch: pytest.MonkeyPatch, answer: str) -> list[str]:
    """The person at the notebook answers every question with `answer`; the questions asked."""
    asked: list[str] = []

    def reply(question: str = "") -> str:
        asked.append(question)
        return answer

    monkeypatch.setattr(builtins, "input", reply)
    return asked


def shown(out: Any) -> str:
    """All a cell showed as text: what it printed, then the plain text of what it displayed."""
    return out.stdout + "\n".join(o.data.get("text/plain", "") for o in out.outputs)


def test_always_runs_the_call_and_shows_it_under_the_reply(shell: Any, notes: RunningMcp,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answering(monkeypatch, "n")
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --approve always", "lookup Oslo please")
    assert asked == []  # nobody was asked
    assert "notes: 4 tools" in shown(out)
    assert "mcp notes.lookup" in shown(out) and "Oslo: 2 notes (fjord walk, opera roof)" in shown(out)
    assert "`lookup` returned: Oslo: 2 notes" in shell.user_ns["_"]
    assert re.search(r"[1-9]\d* prompt \+ [1-9]\d* completion tokens", shown(out))  # the Responses usage, named as chat's
    # The reply is remembered like any other: the next turn (even without the server) sends it.
    memory = shell.user_ns["_"]
    run(shell, "chat", "", "And what did you find?")
    from oai_magics.magics import session_of

    exchanges = session_of(shell).conversations["default"].exchanges
    assert exchanges[0].messages[-1] == {"role": "assistant", "content": memory}


def test_ask_shows_the_call_and_a_yes_runs_it(shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answering(monkeypatch, "y")
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes", "lookup Bergen")
    assert asked == ["Run notes.lookup? [y/N] "]
    assert '"city": "Bergen"' in shown(out)  # the arguments, pretty-printed, before the question
    assert "Bergen: 1 notes (fish market)" in shown(out)


def test_a_no_is_sent_as_a_denial_and_the_call_never_runs(shell: Any, notes: RunningMcp,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, "n")
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes", "delete_note Oslo")
    assert "mcp notes.delete_note" in shown(out) and "(refused) -> refused by the user" in shown(out)
    assert "deleted" not in shown(out) and "denied" in shell.user_ns["_"]


def test_read_only_runs_read_only_tools_and_asks_for_the_rest(shell: Any, sandbox: Sandbox, notes: RunningMcp,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answering(monkeypatch, "n")
    Server(sandbox).forget()
    run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --approve read-only", "lookup Oslo")
    # The API ran the read-only tool at once: one request, no approval round.
    assert asked == [] and len(Server(sandbox).seen("/v1/responses", "POST")) == 1
    run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --approve read-only", "delete_note Oslo")
    assert asked == ["Run notes.delete_note? [y/N] "]


def test_several_requests_in_one_response_are_each_asked_and_answered_together(
        shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["y", "n"])
    asked: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda question="": asked.append(question) or next(answers))
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes", "lookup Oslo, then delete_note Oslo")
    assert asked == ["Run notes.lookup? [y/N] ", "Run notes.delete_note? [y/N] "]
    assert "mcp notes.lookup" in shown(out) and "Oslo: 2 notes" in shown(out)
    assert "mcp notes.delete_note" in shown(out) and "(refused) -> refused by the user" in shown(out)
    assert "Oslo: 2 notes" in shell.user_ns["_"] and "denied" in shell.user_ns["_"]


def test_never_denies_without_asking(shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answering(monkeypatch, "y")
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --approve never", "lookup Oslo")
    assert asked == [] and "refused by the rule --approve never" in shown(out)


def test_headers_come_from_the_environment_and_stay_out_of_the_notebook(
        shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TEAM", "team-secret-42")
    line = f"--mcp-url {notes.url} --mcp-label notes --mcp-tools whoami --mcp-header X-Team=NOTES_TEAM --approve always"
    _, out = run(shell, "chat", line, "whoami")
    assert "team team-secret-42" in shell.user_ns["_"]  # the server saw the header
    assert "team-secret-42" not in line
    monkeypatch.delenv("NOTES_TEAM")
    with pytest.raises(UsageError) as info:
        run(shell, "chat", line, "whoami")
    assert "NOTES_TEAM, which is not set" in str(info.value) and "\n" not in str(info.value)


def test_mcp_tools_narrow_what_the_model_sees(shell: Any, notes: RunningMcp) -> None:
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --mcp-tools lookup --approve always",
                 "delete_note Oslo")
    assert "notes: 1 tool\n" in shown(out) and "mcp notes.lookup" in shown(out)


def test_bad_options_and_unreachable_servers_are_one_line(shell: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    for line, words in [(f"--mcp-url {url}", "--mcp-label"), (f"--mcp-url {url} --mcp-label x --each rows", "--each"),
                        (f"--mcp-url {url} --mcp-label x --mcp-header X-Key", "HEADER=ENV_NAME"),
                        ("--approve always", "go with --mcp-url")]:
        with pytest.raises(UsageError, match=words):
            run(shell, "chat", line, "hello")
    with pytest.raises(UsageError) as info:
        run(shell, "chat", f"--mcp-url {url} --mcp-label gone --approve always", "hello")
    assert "424" in str(info.value) and "Error retrieving tool list from MCP server: 'gone'" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_server_without_responses_is_one_line(shell_at: Any, httpserver: Any) -> None:
    # (an address of its own: what a server answered the back-end probe is remembered by address)
    httpserver.expect_request("/no-responses/v1/responses", method="POST").respond_with_data("Not Found", status=404)
    ip = shell_at(httpserver.url_for("/no-responses/v1"))
    with pytest.raises(UsageError) as info:
        run(ip, "chat", "--mcp-url http://127.0.0.1:9/mcp --mcp-label notes", "hello")
    assert "has no /responses" in str(info.value) and "\n" not in str(info.value)


def test_without_streaming_the_same_calls_are_shown(shell: Any, notes: RunningMcp) -> None:
    _, out = run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --approve always --no-stream", "lookup Oslo")
    assert "notes: 4 tools" in shown(out) and "mcp notes.lookup" in shown(out)
    assert "`lookup` returned: Oslo: 2 notes" in shell.user_ns["_"]


def test_an_assistant_keeps_its_remote_server_by_variable_names_and_runs_with_it(
        shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TEAM", "team-secret-7")
    run(shell, "assistant", f"create keeper --api responses --mcp-url {notes.url} --mcp-label notes "
                            "--mcp-header X-Team=NOTES_TEAM --approve always")
    # The local assistant store names the variable, never its value.
    stored = b"".join(path.read_bytes() for path in Path(os.environ["OAI_MAGICS_CONFIG_DIR"]).rglob("*") if path.is_file())
    assert b"NOTES_TEAM" in stored and b"team-secret-7" not in stored
    asked = answering(monkeypatch, "n")
    _, out = run(shell, "assistant", "run keeper --api responses lookup Oslo")
    assert asked == [] and "Oslo: 2 notes" in shown(out)


def test_an_assistant_run_asks_by_its_servers_rule(shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    run(shell, "assistant", f"create asker --api responses --mcp-url {notes.url} --mcp-label notes")
    asked = answering(monkeypatch, "y")
    _, out = run(shell, "assistant", "run asker --api responses lookup Bergen")
    assert asked == ["Run notes.lookup? [y/N] "] and "Bergen: 1 notes" in shown(out)


def test_remote_mcp_on_other_back_ends_is_one_line(shell: Any, notes: RunningMcp) -> None:
    for api in ("chat", "assistants"):
        with pytest.raises(UsageError, match="needs the responses back end") as info:
            run(shell, "assistant", f"create other --api {api} --mcp-url {notes.url} --mcp-label notes")
        assert "\n" not in str(info.value)


def test_a_recording_keeps_the_header_names_only(shell: Any, notes: RunningMcp, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("NOTES_TEAM", "team-secret-99")
    tape = tmp_path / "remote.jsonl"
    run(shell, "oai", f"record {tape}")
    try:
        run(shell, "chat", f"--mcp-url {notes.url} --mcp-label notes --mcp-tools whoami --mcp-header "
                           "X-Team=NOTES_TEAM --approve always", "whoami")
    finally:
        run(shell, "oai", "record off")
    assert "team team-secret-99" in shell.user_ns["_"]  # the header was sent
    # What the requests sent (the answers hold what this test server echoes back on purpose).
    sent = [json.dumps(json.loads(line)["request"]) for line in tape.read_text().splitlines() if line.strip()]
    assert any('"X-Team"' in request for request in sent) and not any("team-secret-99" in r for r in sent)


def test_a_server_that_asks_for_approval_without_end_is_one_line_and_no_empty_reply(
        shell_at: Any, httpserver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug import Response

    from oai_magics.magics import session_of
    from oai_magics.mcp.remote import MAX_APPROVAL_ROUNDS

    answered: list[dict] = []

    def ask_again(request: Any) -> Response:
        """A hostile API: every response, whatever it was answered, asks for one more approval."""
        answered.extend(request.get_json().get("input") or [])
        number = len(answered)
        return Response(json.dumps({
            "id": f"resp_{number}", "object": "response", "status": "completed", "model": "gpt-5-mini",
            "output": [{"type": "mcp_approval_request", "id": f"mcpr_{number}", "server_label": "notes",
                        "name": "lookup", "arguments": '{"city": "Oslo"}'}]}), content_type="application/json")

    httpserver.expect_request("/asks-forever/v1/responses", method="POST").respond_with_handler(ask_again)
    ip = shell_at(httpserver.url_for("/asks-forever/v1"))
    asked = answering(monkeypatch, "y")
    with pytest.raises(UsageError) as info:
        run(ip, "chat", "--mcp-url http://127.0.0.1:9/mcp --mcp-label notes --no-stream", "lookup Oslo")
    assert f"approvals in {MAX_APPROVAL_ROUNDS} responses in a row" in str(info.value) and "\n" not in str(info.value)
    # Each question asked was sent back; none was asked to be thrown away.
    assert len(asked) == MAX_APPROVAL_ROUNDS - 1
    assert [item["approve"] for item in answered if item.get("type") == "mcp_approval_response"] == [True] * len(asked)
    # No empty reply passes for the model's answer in the conversation's memory.
    assert not session_of(ip).conversations["default"].exchanges


def test_a_later_turn_sends_the_listing_back_instead_of_listing_again(shell: Any, notes: RunningMcp) -> None:
    # Every turn of a conversation had the API list the server's tools anew: a round trip to the
    # server, and the listing's tokens, each time.
    line = f"--mcp-url {notes.url} --mcp-label notes --approve always"
    _, first = run(shell, "chat", line, "lookup Oslo")
    _, second = run(shell, "chat", line, "lookup Bergen")
    assert "notes: 4 tools" in shown(first) and "tools" not in shown(second).split("mcp notes.lookup")[0]
    assert "Bergen: 1 notes (fish market)" in shown(second)  # the call is made all the same
    _, narrowed = run(shell, "chat", line + " --mcp-tools lookup", "lookup Tromso")
    assert "notes: 1 tool" in shown(narrowed)  # another set of tools: listed anew
    _, fresh = run(shell, "chat", line + " --new", "lookup Oslo")
    assert "notes: 4 tools" in shown(fresh)  # a new conversation holds no listing
    _, alone = run(shell, "chat", line + " --no-memory", "lookup Oslo")
    assert "notes: 4 tools" in shown(alone)


def test_another_token_behind_the_same_variable_lists_the_tools_again(shell: Any, notes: RunningMcp,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Another token may see other tools: the listing made with the first was sent back all the same.
    line = f"--mcp-url {notes.url} --mcp-label notes --mcp-header X-Team=NOTES_TEAM --approve always"
    monkeypatch.setenv("NOTES_TEAM", "blue")
    _, first = run(shell, "chat", line, "lookup Oslo")
    _, same = run(shell, "chat", line, "lookup Oslo")
    monkeypatch.setenv("NOTES_TEAM", "green")
    _, other = run(shell, "chat", line, "lookup Oslo")
    assert "notes: 4 tools" in shown(first) and "notes: 4 tools" not in shown(same) and "notes: 4 tools" in shown(other)
