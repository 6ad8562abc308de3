"""`%oai record` and `%oai replay`: a session's requests written against the sandbox, then answered
from the file in a shell with no key, and in a real kernel where a replayed reply streams."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

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
    assert f"requests  replaying from {recorded} at full speed" in shown.stdout
    assert shown.stdout.count("requests  ") == 1
