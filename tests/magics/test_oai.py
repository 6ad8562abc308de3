"""%oai: configuration, profiles, the key, and the rest of the API, in a real shell."""

from __future__ import annotations

import re
import unicodedata
import wave
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.magics import session_of
from tests.helpers.shells import retire

from .conftest import listing_done, run


def test_help_lists_subcommands_and_unknown_is_one_line(shell: Any) -> None:
    _, out = run(shell, "oai", "help")
    for name in ("config", "key", "use", "models", "files", "moderate", "speak", "transcribe", "translate",
                 "complete", "edit", "finetunes", "usage", "history", "profiles"):
        assert f"  {name}" in out.stdout
    with pytest.raises(UsageError, match="unknown subcommand 'frobnicate'"):
        shell.run_line_magic("oai", "frobnicate")


def test_config_shows_where_the_key_comes_from_never_the_key(shell: Any, sandbox: Any) -> None:
    _, out = run(shell, "oai", "config")
    assert "profile   test" in out.stdout and sandbox.base_url in out.stdout
    assert "$SANDBOX_TEST_KEY" in out.stdout and sandbox.api_key not in out.stdout
    shell.run_line_magic("config", "OAIMagics.embedding_model = 'text-embedding-3-large'")
    _, out = run(shell, "oai", "config")
    assert "embedding model       text-embedding-3-large" in out.stdout


def test_client_settings_apply_to_the_client_already_in_use(shell: Any, faults: Any) -> None:
    run(shell, "oai", "models")  # the session's client exists, built with the default timeout and retries
    listing_done(shell)  # the session's own listing (for shutdown dates) is not the request to delay
    shell.run_line_magic("config", "OAIMagics.timeout = 1")
    shell.run_line_magic("config", "OAIMagics.max_retries = 0")
    faults(path="/v1/models", method="GET", delay=4)  # answered after the new timeout, well before the old one
    with pytest.raises(UsageError, match=r"1 s"):
        shell.run_line_magic("oai", "models")


def test_key_is_asked_without_echo(shell: Any, monkeypatch: Any) -> None:
    secret = "sk-typed.0123456789.abcdefghij"
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or secret)
    run(shell, "oai", "use openai")
    _, out = run(shell, "oai", "key")
    assert prompts and secret not in out.stdout and "30 characters" in out.stdout
    _, out = run(shell, "oai", "config")
    assert "typed with %oai key" in out.stdout and secret not in out.stdout


def test_profiles_table_and_use_auto(shell: Any, monkeypatch: Any) -> None:
    table, _ = run(shell, "oai", "profiles")
    assert {"openai", "sandbox", "test"} <= set(table.index) and bool(table.loc["test", "active"])
    assert table.loc["openai", "base_url"] == "https://api.openai.com/v1"
    assert table.loc["sandbox", "base_url"].startswith("the embedded sandbox")
    _, out = run(shell, "oai", "use openai")
    assert "no API key yet: type one with %oai key, or set $OPENAI_API_KEY" in out.stdout
    monkeypatch.setenv("OPENAI_API_KEY", "sk-anything")
    _, out = run(shell, "oai", "use auto")
    assert session_of(shell).profile_name == "openai"
    with pytest.raises(UsageError, match="Unknown profile 'nope'"):
        shell.run_line_magic("oai", "use nope")


def test_profiles_belong_to_their_session(shell: Any, sandbox: Any) -> None:
    run(shell, "oai", f"profile add mine --base-url {sandbox.base_url}")
    shell.run_line_magic("config", f"OAIMagics.profiles = {{'configured': {{'base_url': '{sandbox.base_url}'}}}}")
    table, _ = run(shell, "oai", "profiles")
    assert {"mine", "configured"} <= set(table.index)
    shell.run_line_magic("unload_ext", "oai_magics")
    retire(shell)
    other = InteractiveShell.instance()  # the next session (or the next test) starts with the built-ins only
    other.run_line_magic("load_ext", "oai_magics")
    table, _ = run(other, "oai", "profiles")
    assert set(table.index) == {"openai", "sandbox"}
    with pytest.raises(UsageError, match="Unknown profile 'mine'"):
        other.run_line_magic("oai", "use mine")
    other.run_line_magic("unload_ext", "oai_magics")
    retire(other)


def test_use_sandbox_starts_the_embedded_server(shell: Any) -> None:
    _, out = run(shell, "oai", "use sandbox")
    session = session_of(shell)
    assert session.sandbox is not None and session.sandbox.base_url in out.stdout
    assert len(session.client.models.list()) > 10


def test_models_files_round_trip(shell: Any, tmp_path: Path) -> None:
    models, _ = run(shell, "oai", "models --filter embedding")
    assert list(models.columns[:2]) == ["id", "object"] and all("embedding" in m for m in models["id"])
    assert isinstance(models["created"].dtype, pd.DatetimeTZDtype)
    note = tmp_path / "notes.txt"
    note.write_text("remember the milk\n")
    uploaded, out = run(shell, "oai", f"files upload {note}")
    assert "purpose: assistants (the default; choose another with --purpose" in out.stdout
    file_id = uploaded["id"][0]
    assert uploaded["purpose"][0] == "assistants"
    listing, _ = run(shell, "oai", "files")
    assert file_id in set(listing["id"]) and isinstance(listing["created_at"].dtype, pd.DatetimeTZDtype)
    target = tmp_path / "copy.txt"
    run(shell, "oai", f"files download {file_id} --to {target}")
    assert target.read_text() == "remember the milk\n"
    _, out = run(shell, "oai", f"files delete {file_id}")
    assert f"deleted {file_id}" in out.stdout
    with pytest.raises(UsageError, match=r"NotFoundError: 404"):
        shell.run_line_magic("oai", f"files show {file_id}")
    with pytest.raises(UsageError, match="an id cannot be empty"):
        shell.run_line_magic("oai", "files show ''")


@pytest.mark.parametrize("file_id", ["a/b", "%2F", "?x", "#x"])
def test_an_id_with_a_slash_or_url_syntax_is_looked_up_as_one_id(shell: Any, file_id: str) -> None:
    with pytest.raises(UsageError, match=re.escape(f"No file found with id {file_id!r}.")):  # not "Invalid URL"
        shell.run_line_magic("oai", f"files show {file_id}")


def test_a_404_from_a_base_url_without_v1_says_so_and_other_404s_do_not(shell: Any, sandbox: Any) -> None:
    root = sandbox.base_url.removesuffix("/v1")
    with pytest.raises(UsageError, match=r"NotFoundError: 404") as info:
        shell.run_line_magic("oai", "files show file-nothing")
    assert "/v1" not in str(info.value)  # a real "no such file" from a server at the right address
    run(shell, "oai", f"profile add rootless --base-url {root} --key-env SANDBOX_TEST_KEY")
    run(shell, "oai", "use rootless")
    with pytest.raises(UsageError, match=r"^NotFoundError: 404 .*\(the base URL has no /v1: most servers serve "
                                         r"the API under it\)$"):
        shell.run_line_magic("chat", "--no-stream hello")


EMPTY_MODEL = "argument -m/--model: a model name cannot be empty (leave the option out for the default model)"


@pytest.mark.parametrize("magic, line, message", [
    ("oai", "models --limit -5", "unrecognized arguments: --limit -5 (%oai models -h lists what it takes)"),
    ("oai", "models --limit 0", "unrecognized arguments: --limit 0 (%oai models -h lists what it takes)"),
    ("chat", "--model '' hi", EMPTY_MODEL),
    ("image", "-m '' a cat", EMPTY_MODEL),
    ("oai", "complete -m '' Once", EMPTY_MODEL),
    ("assistant", "create -m '' --name x", EMPTY_MODEL),
    ("chat", "--max-tokens 0 hi", "argument --max-tokens: expected 1 or more, got 0"),
])
def test_an_odd_flag_value_is_one_clear_line_and_nothing_is_sent(shell: Any, magic: str, line: str,
                                                                 message: str) -> None:
    before = len(session_of(shell).records)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic(magic, line)
    assert str(info.value) == message and len(session_of(shell).records) == before


def test_moderate_speak_transcribe_translate(shell: Any, tmp_path: Path) -> None:
    scores, _ = run(shell, "oai", "moderate I will punch you")
    assert bool(scores.loc["violence", "flagged"]) and scores.index[0] == "violence"
    value, out = run(shell, "oai", f"speak --save {tmp_path / 'hi.wav'} -o voice Hello from the notebook")
    audio = shell.user_ns["voice"]
    assert value is None and audio is shell.user_ns["_"] and len(out.outputs) == 1  # shown once, stored
    assert audio.data[:4] == b"RIFF"
    with wave.open(str(tmp_path / "hi.wav")) as handle:
        assert handle.getnframes() > 10_000
    text, _ = run(shell, "oai", f"transcribe {tmp_path / 'hi.wav'}")
    assert text.startswith("This is a sandbox transcription of hi.wav")
    _, out = run(shell, "oai", f"translate -f srt {tmp_path / 'hi.wav'}")
    assert out.stdout.startswith("1\n00:00:00,000 -->")


def test_complete_and_edit(shell: Any) -> None:
    _, out = run(shell, "oai", "complete -m davinci-002 --max-tokens 6 -o story Once upon a time")
    assert shell.user_ns["story"] and len(shell.user_ns["story"].split()) <= 6
    assert "davinci-002 · " in out.stdout
    fixed, _ = run(shell, "oai", "edit -i 'Fix the spelling' what day of the wek is it")
    assert fixed == "What day of the wek is it.\n"


def test_finetunes_life_cycle(shell: Any, tmp_path: Path) -> None:
    from oai_magics.sandbox import start

    data = tmp_path / "train.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n')
    with start(data_dir=tmp_path / "slow", job_delay=600) as slow:  # the job stays pending: cancel cannot race it
        with capture_output():
            shell.run_line_magic("oai", f"profile add slow --base-url {slow.base_url} --key-env SANDBOX_TEST_KEY")
            shell.run_line_magic("oai", "use slow")
            none_yet = shell.run_line_magic("oai", "finetunes")  # a line saying how to start one, and an empty table
        assert isinstance(none_yet, pd.DataFrame) and none_yet.empty
        uploaded, _ = run(shell, "oai", f"files upload {data} --purpose fine-tune")
        job, _ = run(shell, "oai", f"finetunes create --training-file {uploaded['id'][0]} -m curie --suffix nb")
        job_id = job["id"][0]
        assert job["status"][0] == "pending"
        for line in ("finetunes", "finetunes list"):
            listing, _ = run(shell, "oai", line)
            assert list(listing["id"]) == [job_id]
        events, _ = run(shell, "oai", f"finetunes events {job_id}")
        assert events["message"][0].startswith("Created fine-tune")
        cancelled, _ = run(shell, "oai", f"finetunes cancel {job_id}")
        assert cancelled["status"][0] == "cancelled"
        shown, _ = run(shell, "oai", f"finetunes show {job_id}")
        assert shown["status"][0] == "cancelled"
        with pytest.raises(UsageError, match="required: --training-file"):
            shell.run_line_magic("oai", "finetunes create")


def test_download_keeps_only_the_last_part_of_a_server_given_name(shell: Any, tmp_path: Path, monkeypatch: Any) -> None:
    outside, here = tmp_path / "outside", tmp_path / "work" / "here"
    outside.mkdir()
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    client = session_of(shell).client
    hostile = {"../../outside/up.txt": "up.txt", str(outside / "absolute.txt"): "absolute.txt",
               "..\\..\\outside\\back.txt": "back.txt", "..": None, "notes.txt": "notes.txt"}
    for name, expected in hostile.items():
        file_id = client.files.create((name, f"from {name}".encode()), purpose="assistants")["id"]
        _, out = run(shell, "oai", f"files download {file_id}")  # the default name: the server's
        written = here / (expected or file_id)
        assert written.read_text() == f"from {name}" and f"wrote {written}" in out.stdout
    assert not list(outside.iterdir()) and not list((tmp_path / "work").glob("*.txt"))
    again = client.files.create(("../notes.txt", b"second"), purpose="assistants")["id"]
    run(shell, "oai", f"files download {again}")
    run(shell, "oai", f"files download {again} --to {tmp_path / 'work'}")  # a folder the user gave
    assert (here / "notes.txt").read_text() == "from notes.txt"  # never overwritten: a numbered copy instead
    assert (here / "notes (1).txt").read_text() == "second" and (tmp_path / "work" / "notes.txt").read_text() == "second"
    with pytest.raises(UsageError, match="exists: choose another name with --to"):
        shell.run_line_magic("oai", f"files download {again} --to {here / 'notes.txt'}")
    with pytest.raises(UsageError, match=r"^File exists: .*notes\.txt$"):  # a file named as a folder: one line
        shell.run_line_magic("oai", f"files download {again} --to {here / 'notes.txt'}/")
    assert (here / "notes.txt").read_text() == "from notes.txt"


@pytest.mark.parametrize("name, suffix", [("河" * 100 + ".jsonl", ".jsonl"), ("a" * 300 + ".tar.gz", ".tar.gz"),
                                          ("b" * 254 + "\u200b.txt", ".txt")])
def test_a_long_server_name_downloaded_twice_stays_within_the_limit(shell: Any, tmp_path: Path, monkeypatch: Any,
                                                                    name: str, suffix: str) -> None:
    monkeypatch.chdir(tmp_path)
    file_id = session_of(shell).client.files.create((name, b"twice"), purpose="assistants")["id"]
    for _ in range(3):
        run(shell, "oai", f"files download {file_id}")
    written = sorted(tmp_path.iterdir(), key=lambda p: len(p.name))
    assert len(written) == 3 and all(p.read_bytes() == b"twice" for p in written)
    assert all(len(p.name.encode()) <= 255 and p.name.endswith(suffix) for p in written)
    assert [p.name.endswith(f" ({n}){suffix}") for n, p in enumerate(written)] == [False, True, True]


def test_characters_that_do_not_show_are_taken_out_of_a_server_name(shell: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    client = session_of(shell).client
    hidden = {"invoice\u202egpj.exe": "invoicegpj.exe",  # a right-to-left override shows it as "invoiceexe.jpg"
              "pay\u200bpal\u2060.txt": "paypal.txt", "bell\x07\x7f\x1b[31m.txt": "bell[31m.txt", "\ufeff\u200e": None}
    for name, expected in hidden.items():
        file_id = client.files.create((name, b"x"), purpose="assistants")["id"]
        _, out = run(shell, "oai", f"files download {file_id}")
        assert (tmp_path / (expected or file_id)).read_bytes() == b"x"
        assert f"wrote {tmp_path / (expected or file_id)} (1 bytes)" in out.stdout
    assert all(unicodedata.category(c) not in ("Cc", "Cf") for p in tmp_path.iterdir() for c in p.name)


def test_files_list_and_show_take_out_characters_that_do_not_show(shell: Any) -> None:
    file_id = session_of(shell).client.files.create(("invoice\u202egpj.exe\x1b", b"x"), purpose="assistants")["id"]
    listed, _ = run(shell, "oai", "files list")
    shown, _ = run(shell, "oai", f"files show {file_id}")
    for table in (listed, shown):
        assert table.set_index("id").loc[file_id, "filename"] == "invoicegpj.exe"


def test_help_lists_every_subcommand_with_its_description(shell: Any) -> None:
    _, out = run(shell, "oai", "help")
    assert "::" not in out.stdout
    for name, description in (("files", "Files on the server"), ("finetunes", "Legacy fine-tunes"),
                              ("config", "Show the profile"), ("usage", "Requests and tokens")):
        assert re.search(rf"^  {name} +{description}", out.stdout, re.M), name
    _, out = run(shell, "oai", "files help")
    for name in ("list", "upload", "download", "show", "delete"):
        assert re.search(rf"^  {name} +\w", out.stdout, re.M), name
    for line, usage in (("files upload --help", "%oai files upload [--purpose PURPOSE] path"),
                        ("finetunes create -h", "%oai finetunes create --training-file FILE_ID"),
                        ("files -h", "%oai files SUBCOMMAND")):
        _, out = run(shell, "oai", line)
        assert usage in out.stdout, line
    with pytest.raises(UsageError, match=r"%oai files: unknown subcommand 'frobnicate'"):
        shell.run_line_magic("oai", "files frobnicate")


def test_usage_counts_requests_and_tokens(shell: Any) -> None:
    shell.run_cell_magic("chat", "", "count my tokens")
    table, _ = run(shell, "oai", "usage")
    chat = table[table["endpoint"] == "/chat/completions"].iloc[-1]
    assert chat["status"] == 200 and chat["total_tokens"] == chat["prompt_tokens"] + chat["completion_tokens"] > 0


@pytest.mark.parametrize("name", ["timeout", "run_timeout", "render_interval", "sandbox_run_delay"])
@pytest.mark.parametrize("value", ["float('nan')", "float('inf')", "-1"])
def test_a_wait_that_never_ends_is_refused_and_the_setting_kept(shell: Any, name: str, value: str) -> None:
    magics = shell.magics_manager.registry["OAIMagics"]
    before = getattr(magics, name)
    shell.run_line_magic("config", f"OAIMagics.{name} = {value}")  # IPython reports the refusal in one line
    assert getattr(magics, name) == before


def test_a_notebook_value_in_an_option_is_filled_in(shell: Any, sandbox: Any) -> None:
    shell.user_ns["url"] = sandbox.base_url
    _, out = run(shell, "oai", "profile add filled --base-url {{url}} --key-env SANDBOX_TEST_KEY")
    _, out = run(shell, "oai", "use filled")
    assert sandbox.base_url in out.stdout and "{{" not in out.stdout


@pytest.mark.parametrize("line", ["models", "profiles", "files list", "files", "usage", "history", "finetunes list",
                                  "finetunes", "cache", "jobs list", "jobs"])
def test_every_listing_takes_an_output_name(shell: Any, line: str, tmp_path: Path) -> None:
    run(shell, "chat", "Hello")  # a conversation for `history`, a request for `usage`
    if line.startswith("finetunes"):
        data = tmp_path / "train.jsonl"
        data.write_text('{"prompt": "a", "completion": "b"}\n')
        uploaded, _ = run(shell, "oai", f"files upload {data} --purpose fine-tune")
        run(shell, "oai", f"finetunes create --training-file {uploaded['id'][0]} -m curie")
    shown, _ = run(shell, "oai", f"{line} -o table")
    assert isinstance(shown, pd.DataFrame) and shell.user_ns["table"] is shown
    for name in ("2x", "class"):  # `class` is an identifier, but no cell can read it back
        with pytest.raises(UsageError, match="-o needs a Python name"):
            run(shell, "oai", f"{line} -o {name}")


def test_a_refused_key_has_its_own_line_and_no_magic_advises_running_again(shell: Any, httpserver: Any,
                                                                            monkeypatch: Any) -> None:
    refusal = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                         "code": "invalid_api_key", "param": None}}
    # A server of its own (a path no other test uses): `%oai use` asks a server it has not asked before.
    httpserver.expect_request(re.compile("^/refusing/v1/")).respond_with_json(refusal, status=401)
    monkeypatch.setenv("WRONG_KEY", "sk-wrong-0123456789")
    run(shell, "oai", f"profile add wrong --base-url {httpserver.url_for('/refusing/v1')} --key-env WRONG_KEY")
    _, out = run(shell, "oai", "use wrong")
    refused = next(line for line in out.stdout.splitlines() if "refused the key" in line)
    assert not refused.startswith("%assistant") and "401" in refused
    assert "%oai key" in refused and "$WRONG_KEY" in refused and "sk-wrong" not in out.stdout
    with pytest.raises(UsageError) as embedded:
        run(shell, "embed", "hello")
    with pytest.raises(UsageError) as asked:
        run(shell, "oai", "models")
    shell.user_ns["rows"] = pd.DataFrame({"text": ["a", "b"]})
    _, each = run(shell, "chat", "--each rows", "Say {{row.text}}")
    for said in (str(embedded.value), str(asked.value), each.stdout):
        assert "refused the key" in said and "%oai key" in said
        assert not re.search(r"again to send|give this frame back|[Rr]e-?run", said.replace("%oai use wrong again", ""))


def test_an_empty_listing_of_finetunes_still_stores_a_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # With no fine-tune yet, `%oai finetunes list -o table` printed its hint and stored None, where every
    # other empty listing stores an empty DataFrame (a fresh sandbox: the session's has fine-tunes).
    from oai_magics.sandbox import start

    from .conftest import shell_on

    with start(data_dir=tmp_path / "sandbox") as fresh, shell_on(fresh, monkeypatch) as ip:
        shown, out = run(ip, "oai", "finetunes list -o table")
    assert "No fine-tunes yet" in out.stdout
    assert isinstance(ip.user_ns["table"], pd.DataFrame) and ip.user_ns["table"].empty and ip.user_ns["table"] is shown
