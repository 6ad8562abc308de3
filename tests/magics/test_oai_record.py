"""`%oai record` and `%oai replay`: a session's requests written against the sandbox, then answered
from the file in a shell with no key, and in a real kernel where a replayed reply streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.sandbox import Sandbox
from tests.helpers.kernels import Kernel, kernel  # noqa: F401 (a fixture: a real kernel on this folder's sandbox)
from tests.helpers.shells import extension_shell

from .conftest import shell_on

PROMPT = "List three rivers of Portugal."


@pytest.fixture
def recorded(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A chat reply and an embedding recorded against the sandbox by `%oai record`; the reply and
    the vectors as they came are kept beside the file (`.reply`, `.vectors`)."""
    path = tmp_path / "session.replay.jsonl"
    with shell_on(sandbox, monkeypatch) as ip, capture_output() as shown:
        ip.run_line_magic("oai", f"record {path}")
        ip.run_cell_magic("chat", "--no-memory -o reply", PROMPT)
        frame = ip.run_line_magic("embed", "-d 4 a tram in Lisbon")
        ip.run_line_magic("oai", "record off")
    assert f"recording every request and its answer into {path}" in shown.stdout
    assert "recording stopped: " in shown.stdout
    path.with_suffix(".reply").write_text(ip.user_ns["reply"], encoding="utf-8")
    path.with_suffix(".vectors").write_text(frame.to_json(), encoding="utf-8")
    return path


@pytest.fixture
def keyless(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A fresh shell on the default `openai` profile, with no key anywhere."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with extension_shell() as ip:
        yield ip


def test_a_shell_with_no_key_replays_what_was_recorded(recorded: Path, keyless: InteractiveShell) -> None:
    ip = keyless
    with capture_output() as shown:
        ip.run_line_magic("oai", f"replay {recorded} --speed full")
        ip.run_cell_magic("chat", "--no-memory -o reply", PROMPT)
        frame = ip.run_line_magic("embed", "-d 4 a tram in Lisbon")
    assert "replaying " in shown.stdout and "no key is needed" in shown.stdout
    assert ip.user_ns["reply"] == recorded.with_suffix(".reply").read_text(encoding="utf-8")
    assert "oai_magics sandbox" in ip.user_ns["reply"]
    assert frame.shape == (1, 5) and frame.to_json() == recorded.with_suffix(".vectors").read_text(encoding="utf-8")
    with capture_output():
        ip.run_line_magic("oai", "replay off")
    with pytest.raises(UsageError, match="No API key for profile 'openai'"):  # live again, and there is no key
        ip.run_cell_magic("chat", "--no-memory", PROMPT)


def test_a_changed_prompt_is_refused_naming_the_difference(recorded: Path, keyless: InteractiveShell) -> None:
    with capture_output():
        keyless.run_line_magic("oai", f"replay {recorded}")
    with pytest.raises(UsageError) as info:
        keyless.run_cell_magic("chat", "--no-memory", "List three rivers of Spain.")
    message = str(info.value)
    assert "\n" not in message and "not in the recording session.replay.jsonl" in message
    assert "messages[0].content ('List three rivers of Spain.' here, 'List three rivers of Portugal.' recorded)" in message


def test_what_is_wrong_with_a_command_is_one_line(tmp_path: Path, keyless: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="no recording at missing.jsonl; make one with %oai record missing.jsonl"):
        keyless.run_line_magic("oai", "replay missing.jsonl")
    (tmp_path / "broken.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="broken.jsonl line 1 is not a recorded exchange"):
        keyless.run_line_magic("oai", f"replay {tmp_path / 'broken.jsonl'}")
    with pytest.raises(UsageError, match="nothing is being recorded"):
        keyless.run_line_magic("oai", "record off")
    with pytest.raises(UsageError, match="invalid choice: 'slow'"):
        keyless.run_line_magic("oai", f"replay {tmp_path / 'broken.jsonl'} --speed slow")


def test_a_replayed_reply_streams_in_a_kernel(kernel: Kernel, tmp_path: Path) -> None:  # noqa: F811
    """The reply arrives in several display updates, as it did live, though no server answers."""
    path = tmp_path / "kernel.replay.jsonl"
    cell = f"%%chat --no-memory\n{PROMPT}"
    assert kernel.run(f"%oai record {path}")["status"] == "ok"
    live = kernel.run(cell)
    assert kernel.run("%oai record off")["status"] == "ok"
    assert kernel.run(f"%oai replay {path}\n%oai use sandbox")["status"] == "ok"
    replayed = kernel.run(cell)
    assert replayed["status"] == "ok", replayed
    updates = [m for m in replayed["outputs"] if m["msg_type"] == "update_display_data"]
    assert len(updates) > 1
    assert updates[-1]["content"]["data"]["text/markdown"] == _last_markdown(live)
    assert kernel.run("%oai replay off\n%oai use test")["status"] == "ok"


def _last_markdown(reply: dict) -> str:
    return [m for m in reply["outputs"] if "text/markdown" in m["content"].get("data", {})][-1]["content"]["data"]["text/markdown"]


def test_config_says_where_answers_come_from(recorded: Path, keyless: InteractiveShell) -> None:
    with capture_output() as shown:
        keyless.run_line_magic("oai", f"replay {recorded} --speed full")
        keyless.run_line_magic("oai", "config")
        keyless.run_line_magic("oai", "replay off")
        keyless.run_line_magic("oai", "config")
    assert "requests  replaying from " in shown.stdout and f"{recorded.name} at full speed" in shown.stdout
    assert shown.stdout.count("requests  ") == 1


def test_a_folder_is_refused_in_one_line_before_anything_is_sent(tmp_path: Path, keyless: InteractiveShell) -> None:
    with pytest.raises(UsageError, match=r"^%oai record: cannot write .*: Is a directory$"):
        keyless.run_line_magic("oai", f"record {tmp_path}")
    with pytest.raises(UsageError, match=r"^%oai replay: .* is a folder, not a recording$"):
        keyless.run_line_magic("oai", f"replay {tmp_path}")


@pytest.mark.parametrize("edit, wrong", [
    (lambda line: line["response"].pop("status"), "its answer has no status"),
    (lambda line: line["response"].update(status="ok"), "its answer has no status"),
    (lambda line: line["request"].pop("method"), "its request has no method"),
    (lambda line: line["request"].update(path=5), "its request has no path"),
    (lambda line: line["response"].update(headers=["x"]), "its answer's headers are not names and values"),
    (lambda line: line["response"].update(events="x"), "its answer's events are not a list of events"),
    (lambda line: line["response"].update(events=[5]), "its answer's events are not a list of events"),
    (lambda line: line["response"].update(events=[{"data": "x", "t": "soon"}]), "its answer's events are not a list of events"),
    (lambda line: line["response"].update(base64="not base64!"), "its answer's body is not base64"),
])
def test_a_recording_edited_by_hand_is_refused_naming_the_line(recorded: Path, keyless: InteractiveShell,
                                                                edit: Any, wrong: str) -> None:
    """A line edited into something replay cannot answer with is one line when the recording is read,
    not a traceback at the request that meets it."""
    import json

    lines = recorded.read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[-1])
    edit(changed)
    lines[-1] = json.dumps(changed)
    recorded.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        keyless.run_line_magic("oai", f"replay {recorded}")
    assert str(info.value) == f"%oai replay: {recorded.name} line {len(lines)}: {wrong}"


def test_config_while_replaying_names_no_server_and_no_key(recorded: Path, keyless: InteractiveShell) -> None:
    """The quick start replays on the sandbox profile: no sandbox starts and no key is used, and the
    lines say so instead of a sandbox that 'starts on first use'."""
    with capture_output() as shown:
        keyless.run_line_magic("oai", f"replay {recorded}")
        keyless.run_line_magic("oai", "use sandbox")
        keyless.run_line_magic("oai", "config")
    assert "server    none: every answer comes from the recording" in shown.stdout
    assert "api key   none needed while replaying" in shown.stdout
    assert "starts on first use" not in shown.stdout and keyless.magics_manager.registry["OAIMagics"].session.sandbox is None


def test_recording_and_replaying_at_once_is_refused_rather_than_one_ending_unsaid(recorded: Path, tmp_path: Path,
                                                                                   keyless: InteractiveShell) -> None:
    """Starting a replay while recording (or the other way round) stopped the first without a word, and
    the `off` that followed said nothing was on."""
    with capture_output():
        keyless.run_line_magic("oai", f"record {tmp_path / 'new.jsonl'}")
    with pytest.raises(UsageError, match=r"^%oai replay: recording into .*new.jsonl; %oai record off first$"):
        keyless.run_line_magic("oai", f"replay {recorded}")
    with capture_output():
        keyless.run_line_magic("oai", "record off")
        keyless.run_line_magic("oai", f"replay {recorded}")
    with pytest.raises(UsageError, match=r"^%oai record: replaying from .*session.replay.jsonl; %oai replay off first$"):
        keyless.run_line_magic("oai", f"record {tmp_path / 'new.jsonl'}")
    with capture_output() as shown:
        keyless.run_line_magic("oai", "replay off")
    assert "replay off" in shown.stdout


def test_recording_into_another_file_says_the_first_one_stopped(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """`%oai record b` while recording into a: a ended without a word; the same command run twice
    (a cell re-run) is one recording, not a restart."""
    # Named from the kernel's folder, as a notebook does: a file within it is shown by that name, so
    # the lines read the same wherever the test's folder lies (it failed with TMPDIR under the cwd).
    monkeypatch.chdir(tmp_path)
    first, second = Path("a.jsonl"), Path("b.jsonl")
    with shell_on(sandbox, monkeypatch) as ip, capture_output() as shown:
        ip.run_line_magic("oai", f"record {first}")
        ip.run_cell_magic("chat", "--no-memory", PROMPT)
        ip.run_line_magic("oai", f"record {first}")
        ip.run_line_magic("oai", f"record {second}")
        ip.run_cell_magic("chat", "--no-memory", "Name one bridge in Porto.")
        ip.run_line_magic("oai", "record off")
    lines = shown.stdout.splitlines()
    assert f"already recording into {first} (1 exchange so far)" in lines
    assert any(line.startswith(f"recording into {first} stopped (1 exchange written); recording every request "
                               f"and its answer into {second}") for line in lines), lines
    assert f"recording stopped: 1 exchange written to {second}" in lines
    assert len(first.read_text().splitlines()) == 1 and "Porto" in second.read_text()


def test_the_model_listing_behind_the_shutdown_notes_is_not_recorded(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """Recording from the first request on: the session's own GET /models (on a thread of its own,
    beside the chat) went into the recording, a row the notebook never asked for, there or not by a race."""
    monkeypatch.chdir(tmp_path)  # the file is shown by its name within the kernel's folder, wherever tmp_path lies
    path = Path("first.jsonl")
    monkeypatch.setenv("SANDBOX_TEST_KEY", sandbox.api_key)
    with extension_shell() as ip, capture_output() as shown:
        # --assistants-api: `%oai use` then needs no client, so the chat below makes the session's first
        ip.run_line_magic("oai", f"profile add rec --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY "
                                 "--assistants-api chat")
        ip.run_line_magic("oai", "use rec")
        ip.run_line_magic("oai", f"record {path}")
        ip.run_cell_magic("chat", "--no-memory", PROMPT)
        ip.run_line_magic("oai", "record off")
    assert f"recording stopped: 1 exchange written to {path}" in shown.stdout
    assert "/models" not in path.read_text()


def test_a_recording_without_the_back_end_probe_decides_nothing_about_the_server(recorded: Path,
                                                                                keyless: InteractiveShell) -> None:
    """`recorded` began after the session had asked the server which APIs it has, so its answer is
    not in it. Replayed, the probe's "not in the recording" was taken for an answer: the chat back
    end chosen for the session, on a line that quoted the refusal."""
    with capture_output() as shown:
        keyless.run_line_magic("oai", f"replay {recorded}")
        keyless.run_line_magic("oai", "use sandbox")
    assert "%assistant back end: found on first use (from the recording)" in shown.stdout
    assert "chat API" not in shown.stdout
    with pytest.raises(UsageError, match=r"^NotRecordedError: .*GET /v1/assistants"):
        keyless.run_line_magic("assistant", "list")


def test_a_batch_job_replays_to_its_collection(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                keyless: InteractiveShell) -> None:
    """A job has a new id on every run, and names the file it uploads and tags its batches with it:
    replay matches them without it. Collecting it asks the recording, not a profile pointing at the
    server the replayed job names."""
    path = tmp_path / "collect.replay.jsonl"
    with shell_on(sandbox, monkeypatch) as ip, capture_output():
        ip.user_ns["texts"] = ["one", "two"]
        ip.run_line_magic("oai", f"record {path}")
        job = ip.run_line_magic("embed", "--batch -d 4 -i texts")
        recorded = ip.run_line_magic("embed", f"--collect {job.id} --wait")
        ip.run_line_magic("oai", "record off")
    keyless.user_ns["texts"] = ["one", "two"]
    with capture_output():
        keyless.run_line_magic("oai", f"replay {path} --speed full")
        again = keyless.run_line_magic("embed", "--batch -d 4 -i texts")
        replayed = keyless.run_line_magic("embed", f"--collect {again.id} --wait")
    assert again.id != job.id and again.batches == job.batches
    assert replayed.to_json() == recorded.to_json()


def test_embeddings_are_recorded_and_replayed_past_the_cache_and_start_no_sandbox(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keyless: InteractiveShell) -> None:
    """A text already in the cache sent no request, so none was recorded and the replay elsewhere (a
    fresh cache) failed; and a replay on the sandbox profile started a sandbox for %embed's cache. A
    recording and a replay keep a cache of their own, empty at the start."""
    path = tmp_path / "cached.replay.jsonl"
    with shell_on(sandbox, monkeypatch) as ip, capture_output():
        ip.run_line_magic("embed", "-d 4 a warm text")  # in the user's cache now
        ip.run_line_magic("oai", f"record {path}")
        recorded = ip.run_line_magic("embed", "-d 4 a warm text")
        ip.run_line_magic("oai", "record off")
    assert '"path": "/v1/embeddings"' in path.read_text(encoding="utf-8")
    with capture_output():
        keyless.run_line_magic("oai", f"replay {path} --speed full")
        keyless.run_line_magic("oai", "use sandbox")
        replayed = keyless.run_line_magic("embed", "-d 4 a warm text")
    assert replayed.to_json() == recorded.to_json()
    assert keyless.magics_manager.registry["OAIMagics"].session.sandbox is None


def test_config_names_a_recording_beside_the_notebook_by_its_name(recorded: Path, keyless: InteractiveShell,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook's output travels with it: the folders of the machine it ran on stay out of it."""
    monkeypatch.chdir(recorded.parent)  # the kernel's folder is the notebook's
    with capture_output() as shown:
        keyless.run_line_magic("oai", f"replay {recorded.name}")
        keyless.run_line_magic("oai", "config")
    assert f"requests  replaying from {recorded.name} at recorded speed" in shown.stdout
    assert str(recorded.parent) not in shown.stdout
