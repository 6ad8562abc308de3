"""The magics against a sandbox that behaves like today's api.openai.com: reasoning options, the
max-tokens parameter each profile's server takes, shutdown notes from the models listing, the
model_not_found line, and `%oai models` with shutdown dates and the models in use."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest
import requests
from IPython.core.error import UsageError

from oai_magics.magics import session_of
from oai_magics.sandbox import Sandbox
from tests.helpers.openapi import spec

from tests.helpers.shells import sent_bodies

from .conftest import listing_done, run, shell_on

def valid_by_2026_spec(sent: list[tuple[str, dict]]) -> None:
    for path, body in sent:
        if body["_status"] < 400:
            clean = {k: v for k, v in body.items() if k != "_status"}
            assert spec("2026").request_errors("POST", path, {}, "application/json", clean) == [], path


def test_reasoning_is_sent_and_its_tokens_shown_under_the_reply(shell: Any) -> None:
    session_of(shell).client  # the client exists, so its requests can be watched
    sent = sent_bodies(shell)
    _, out = run(shell, "chat", "--reasoning high --no-memory", "Why is the sky blue?")
    assert sent[-1][1]["reasoning_effort"] == "high"
    assert re.search(r"gpt-5\.4-mini · [\d.]+ s · \d+ prompt \+ \d+ completion tokens \(\d+ reasoning\)", out.stdout)
    _, out = run(shell, "chat", "--no-stream --reasoning none --no-memory", "Why is the sky blue?")
    assert "reasoning)" not in out.stdout  # none spent: nothing to say
    with pytest.raises(UsageError, match="argument --reasoning: invalid choice: 'extreme'"):
        shell.run_cell_magic("chat", "--reasoning extreme", "hi")
    valid_by_2026_spec(sent)


def test_max_tokens_falls_back_once_and_the_profile_remembers(shell: Any, sandbox: Sandbox) -> None:
    session_of(shell).client
    sent = sent_bodies(shell)
    _, out = run(shell, "chat", "--max-tokens 300 --no-memory", "Describe the sea")
    # Not the openai profile: max_tokens first; the reasoning model refuses it, and the same request
    # goes once more with max_completion_tokens.
    chats = [body for path, body in sent if path == "/chat/completions"]
    assert [("max_tokens" in b, "max_completion_tokens" in b, b["_status"]) for b in chats] == [
        (True, False, 400), (False, True, 200)]
    assert "oai_magics sandbox" in out.stdout
    run(shell, "chat", "--max-tokens 300 --no-memory", "Describe the sea")
    assert "max_completion_tokens" in chats[-1] and len([p for p, _ in sent if p == "/chat/completions"]) == 3
    # Another profile on the same server has learnt nothing yet.
    run(shell, "oai", f"profile add other --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
    run(shell, "oai", "use other")
    sent = sent_bodies(shell)
    run(shell, "chat", "--max-tokens 300 --no-memory", "Describe the sea")
    assert [("max_tokens" in b, b["_status"]) for _, b in sent if "_status" in b][:2] == [(True, 400), (False, 200)]
    valid_by_2026_spec(sent)


def test_the_openai_profile_sends_max_completion_tokens_first(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", sandbox.base_url)  # a proxy in front of the API, as its users set it
    monkeypatch.setenv("OPENAI_API_KEY", sandbox.api_key)
    with shell_on(sandbox, monkeypatch) as ip:
        run(ip, "oai", "use openai")
        session_of(ip).client
        sent = sent_bodies(ip)
        run(ip, "chat", "--max-tokens 300 --no-memory", "Describe the sea")
        run(ip, "chat", "-m gpt-4o-mini --max-tokens 300 --no-memory", "Describe the sea")
        assert [("max_completion_tokens" in b, "max_tokens" in b, b["_status"]) for _, b in sent] == [
            (True, False, 200), (True, False, 200)]
        valid_by_2026_spec(sent)


def test_a_model_near_its_shutdown_date_gets_one_line(shell: Any) -> None:
    run(shell, "chat", "--no-memory", "hello")  # the first call: the listing starts in the background
    listing_done(shell)
    listed = session_of(shell).watch.models("test")
    soon = listed["gpt-4o-2024-05-13"]["shutdown_date"]
    days = (dt.date.fromisoformat(soon) - dt.datetime.now(dt.timezone.utc).date()).days
    _, out = run(shell, "chat", "-m gpt-4o-2024-05-13 --no-memory", "hello")
    note = f"note: gpt-4o-2024-05-13 shuts down on {soon}, in {days} days (the server's models list says so); " \
           f"choose another chat model with -m gpt-5.4-mini, or for the session %config OAIMagics.chat_model = 'gpt-5.4-mini'"
    assert note in out.stdout.splitlines() and out.stdout.index(note) < out.stdout.index("oai_magics sandbox")
    _, out = run(shell, "chat", "-m gpt-4o-2024-05-13 --no-memory", "hello again")
    assert "note:" not in out.stdout  # said once
    _, out = run(shell, "chat", "-m gpt-4o-mini --no-memory", "hello")  # its date is months away
    assert "note:" not in out.stdout


def test_a_retired_model_says_so_and_names_the_ones_to_use(shell: Any) -> None:
    run(shell, "embed", "a text")  # any first call starts the listing
    listing_done(shell)
    with pytest.raises(UsageError) as info:
        run(shell, "chat", "-m o1-preview", "hello")
    assert re.search(r"NotFoundError: 404 \(model_not_found\).*; the server's chat models: gpt-5\.4-mini, gpt-5\.4-nano, "
                     r"gpt-5\.4, gpt-5-mini, .* pick one with -m gpt-5\.4-mini", str(info.value))
    assert "\n" not in str(info.value) and "o1-preview," not in str(info.value) and "gpt-4o-2024-05-13" not in str(info.value)
    with pytest.raises(UsageError) as info:  # a model given straight to the request: its kind told by its name
        run(shell, "image", "-m dall-e-9 a cat")
    assert "; the server's image models: gpt-image-1-mini, gpt-image-1.5, gpt-image-2, gpt-image-1, " in str(info.value)


def test_the_first_reply_never_waits_for_the_listing(shell: Any, sandbox: Sandbox, faults: Any) -> None:
    run(shell, "oai", f"profile add slow --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
    listing_done(shell)  # the shell's own listing has come: the fault below is for the new profile's
    faults(path="/v1/models", method="GET", hold=60)  # the next listing is held until released
    try:
        run(shell, "oai", "use slow")  # its client is made: the listing starts, and is held
        assert requests.get(sandbox.url + "/sandbox/faults/held?wait=30", timeout=40).json()["held"] == 1
        _, out = run(shell, "chat", "--no-memory", "hello")
        assert "oai_magics sandbox" in out.stdout  # answered while the listing is still held
        assert not session_of(shell).watch.ready("slow").is_set()
    finally:
        requests.post(sandbox.url + "/sandbox/faults/release", timeout=10)
    listing_done(shell)
    assert "gpt-5.4-mini" in session_of(shell).watch.models("slow")


def test_models_shows_shutdown_dates_and_the_models_in_use(shell: Any) -> None:
    shell.run_line_magic("config", "OAIMagics.embedding_model = 'text-embedding-3-large'")
    frame, out = run(shell, "oai", "models")
    assert str(frame["shutdown_date"].dtype).startswith("datetime64")
    by_id = frame.set_index("id")
    assert pd.isna(by_id.loc["gpt-5.4-mini", "shutdown_date"]) and not pd.isna(by_id.loc["o1-preview", "shutdown_date"])
    assert by_id.loc["gpt-5.4-mini", "used_for"] == "chat" and by_id.loc["text-embedding-3-large", "used_for"] == "embedding"
    assert by_id.loc["text-embedding-3-small", "used_for"] == ""
    assert "in use now: chat gpt-5.4-mini, image gpt-image-1-mini" in out.stdout
    assert "not listed by this server: edit text-davinci-edit-001" not in out.stdout  # the sandbox still has it


@pytest.mark.parametrize("api, sent_as", [("responses", ("reasoning", {"effort": "low"})),
                                          ("assistants", ("reasoning_effort", "low"))])
def test_an_assistant_run_takes_the_effort(shell: Any, api: str, sent_as: tuple[str, Any]) -> None:
    run(shell, "assistant", f"create thinker --api {api} --model gpt-5.4-mini")
    sent = sent_bodies(shell)
    run(shell, "assistant", f"run thinker --api {api} --reasoning low Why is the sky blue?")
    assert shell.user_ns["_"].status == "completed"
    starts = [body for path, body in sent if path.endswith("/runs") or path == "/responses"]
    name, value = sent_as
    assert starts and starts[0][name] == value
    valid_by_2026_spec([(p, b) for p, b in sent if p == "/responses"])
    with pytest.raises(UsageError, match="argument --reasoning: invalid choice"):
        run(shell, "assistant", f"run thinker --api {api} --reasoning lots hi")


def test_each_row_gets_the_limit_the_server_takes(shell: Any) -> None:
    shell.user_ns["towns"] = pd.DataFrame({"town": ["Lisbon", "Porto", "Braga", "Faro", "Evora"]})
    frame, _ = run(shell, "chat", "--each towns --workers 1 --max-tokens 300", "Tell me about {{row.town}}")
    assert frame["error"].isna().all() and frame["reply"].str.contains("oai_magics sandbox").all()
    assert session_of(shell).token_limit_names == {"test": "max_completion_tokens"}


def test_help_marks_the_legacy_calls(shell: Any) -> None:
    _, out = run(shell, "oai", "help")
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("  ")}
    for name in ("complete", "edit", "finetunes"):
        assert "legacy" in lines[name].lower(), name
    _, out = run(shell, "oai", "complete -h")
    assert "legacy: gpt-3.5-turbo-instruct" in " ".join(out.stdout.split())
    _, out = run(shell, "chat", "-h")
    assert "--reasoning EFFORT" in out.stdout and "none, minimal, low, medium, high, xhigh, max" in " ".join(out.stdout.split())


def test_a_configured_profile_may_say_which_limit_its_server_takes(shell: Any, sandbox: Sandbox, caplog: Any) -> None:
    shell.run_line_magic("config", f"OAIMagics.profiles = {{'modern': {{'base_url': '{sandbox.base_url}', "
                                   f"'key_env': 'SANDBOX_TEST_KEY', 'token_limit': 'max_completion_tokens'}}}}")
    run(shell, "oai", "use modern")
    session_of(shell).client
    sent = sent_bodies(shell)
    run(shell, "chat", "--max-tokens 300 --no-memory", "Describe the sea")
    assert [("max_completion_tokens" in b, b["_status"]) for _, b in sent] == [(True, 200)]
    shell.run_line_magic("config", "OAIMagics.profiles = {'odd': {'base_url': 'http://x/v1', 'token_limit': 'tokens'}}")
    assert session_of(shell).profiles.get("odd") is None
    assert "token_limit must be one of max_tokens, max_completion_tokens, not 'tokens'" in caplog.text
