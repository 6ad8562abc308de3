"""The local store of the responses back end: records per server, the thread and run indexes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from oai_magics.assistants.store import AssistantStore, config_dir


def test_config_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OAI_MAGICS_CONFIG_DIR", str(tmp_path / "mine"))
    assert config_dir() == tmp_path / "mine"
    monkeypatch.delenv("OAI_MAGICS_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "oai_magics"


def test_records_belong_to_one_server_and_survive_a_reopen(tmp_path: Path) -> None:
    store = AssistantStore(tmp_path / "a.sqlite3")
    made = store.add_assistant("http://one/v1", {"name": "helper", "model": "m", "tools": []})
    store.add_thread("http://one/v1", "conv_1", "First", {"k": "v"}, 100)
    store.add_run("http://one/v1", "resp_1", "conv_1", made["id"], 101)
    store.extend_run("http://one/v1", "resp_1", "resp_2", {"call_1": "42"})
    store.close()
    again = AssistantStore(tmp_path / "a.sqlite3")
    assert [a["name"] for a in again.assistants("http://one/v1")] == ["helper"]
    assert again.assistants("http://two/v1") == [] and again.threads("http://two/v1") == []
    assert again.threads("http://one/v1") == [{"id": "conv_1", "title": "First", "metadata": {"k": "v"}, "created_at": 100}]
    run = again.run("http://one/v1", "resp_1")
    assert run is not None and run["responses"] == ["resp_1", "resp_2"] and run["outputs"] == {"call_1": "42"}
    again.cancel_run("http://one/v1", "resp_1")
    assert again.runs("http://one/v1", "conv_1")[0]["cancelled"] is True
    again.delete_thread("http://one/v1", "conv_1")
    assert again.threads("http://one/v1") == [] and again.run("http://one/v1", "resp_1") is None


# One kernel extending a run: it opens the store, says it is ready, waits for the word, then adds its
# responses one change at a time, as a run's rounds of tool outputs do.
EXTENDER = """
import sys
from oai_magics.assistants.store import AssistantStore
path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = AssistantStore(path)
print("ready", flush=True)
sys.stdin.readline()
for i in range(rounds):
    store.extend_run("http://one/v1", "resp_0", f"resp_{name}_{i}", {f"call_{name}_{i}": str(i)})
store.close()
"""


def test_two_kernels_extending_one_run_lose_nothing(tmp_path: Path) -> None:
    path, rounds = tmp_path / "shared.sqlite3", 150
    store = AssistantStore(path)
    store.add_run("http://one/v1", "resp_0", "conv_1", "asst_1", 100)
    kernels = [subprocess.Popen([sys.executable, "-c", EXTENDER, str(path), name, str(rounds)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for kernel in kernels:  # both have the file open before either writes
        assert kernel.stdout is not None and kernel.stdout.readline() == "ready\n"
    for kernel in kernels:
        assert kernel.stdin is not None
        kernel.stdin.write("go\n")
        kernel.stdin.flush()
    for kernel in kernels:
        _, errors = kernel.communicate(timeout=120)
        assert kernel.returncode == 0, errors
    run = store.run("http://one/v1", "resp_0")
    assert run is not None
    expected = {f"resp_{name}_{i}" for name in "ab" for i in range(rounds)}
    assert len(run["responses"]) == 1 + 2 * rounds and set(run["responses"][1:]) == expected
    assert set(run["outputs"]) == {f"call_{name}_{i}" for name in "ab" for i in range(rounds)}
    store.close()


def test_the_store_is_shared_in_wal_mode(tmp_path: Path) -> None:
    AssistantStore(tmp_path / "a.sqlite3").close()
    other = sqlite3.connect(tmp_path / "a.sqlite3")
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
