"""The local store of the responses back end: records per server, the thread and run indexes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from oai_magics.assistants.store import AssistantStore, config_dir
from tests.helpers.together import run_together


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


# A kernel changing one record of a shared store: it opens the store, says it is ready, waits for the
# word, then makes its changes one at a time (each round of tool outputs extends the run; an assistant
# gets one more field each time), each change naming its kernel and round.
KERNEL = """
import sys
from oai_magics.assistants.store import AssistantStore
path, name, rounds, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = AssistantStore(path)
print("ready", flush=True)
sys.stdin.readline()
for i in range(rounds):
    if target == "run":
        store.extend_run("http://one/v1", "resp_0", f"resp_{name}_{i}", {f"call_{name}_{i}": str(i)})
    else:
        store.change_assistant("http://one/v1", target, lambda record: {**record, f"{name}_{i}": i})
store.close()
"""
ROUNDS = 150
MARKS = {f"{name}_{i}" for name in "ab" for i in range(ROUNDS)}


def two_kernels(path: Path, target: str) -> None:
    """Two kernels changing `target` ("run" or an assistant id) at the same time; both end well."""
    run_together(KERNEL, [[str(path), name, str(ROUNDS), target] for name in "ab"])


def test_two_kernels_extending_one_run_lose_nothing(tmp_path: Path) -> None:
    store = AssistantStore(tmp_path / "shared.sqlite3")
    store.add_run("http://one/v1", "resp_0", "conv_1", "asst_1", 100)
    two_kernels(store.path, "run")
    run = store.run("http://one/v1", "resp_0")
    assert run is not None and len(run["responses"]) == 1 + 2 * ROUNDS
    assert run["responses"][0] == "resp_0" and set(run["responses"][1:]) == {f"resp_{mark}" for mark in MARKS}
    assert set(run["outputs"]) == {f"call_{mark}" for mark in MARKS}
    store.close()


def test_two_kernels_changing_one_assistant_lose_nothing(tmp_path: Path) -> None:
    store = AssistantStore(tmp_path / "shared.sqlite3")
    made = store.add_assistant("http://one/v1", {"name": "helper", "model": "m", "tools": []})
    two_kernels(store.path, made["id"])
    (record,) = store.assistants("http://one/v1")
    assert MARKS <= set(record) and record["name"] == "helper"
    assert store.change_assistant("http://one/v1", "asst_gone", lambda r: r) is None
    store.close()


def test_the_store_is_shared_in_wal_mode(tmp_path: Path) -> None:
    AssistantStore(tmp_path / "a.sqlite3").close()
    other = sqlite3.connect(tmp_path / "a.sqlite3")
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()


def test_records_an_earlier_version_stored_under_a_token_are_rewritten_without_it(tmp_path: Path) -> None:
    path, token = tmp_path / "a.sqlite3", "gw-token-c02"
    store = AssistantStore(path)
    store.close()
    old = sqlite3.connect(path)  # as an earlier version wrote them: the URL as typed
    old.execute("DELETE FROM migrations")
    old.execute("INSERT INTO assistants VALUES (?, 'asst_1', 'helper', ?, 100)",
                (f"https://{token}@gateway.example/v1", json.dumps({"id": "asst_1", "name": "helper"})))
    old.execute("INSERT INTO threads VALUES (?, 'conv_1', 'First', '{}', 100)", (f"https://{token}@gateway.example/v1",))
    old.commit()
    old.close()
    store = AssistantStore(path)
    masked = "https://***@gateway.example/v1"
    assert [a["name"] for a in store.assistants(masked)] == ["helper"] and store.threads(masked)[0]["id"] == "conv_1"
    store.close()
    assert [p.name for p in tmp_path.iterdir() if token.encode() in p.read_bytes()] == []


def test_the_responses_back_end_keys_its_records_on_the_url_without_user_info(tmp_path: Path) -> None:
    from oai_magics.assistants.responses_api import ResponsesBackend
    from oai_magics.client import Client

    store = AssistantStore(tmp_path / "a.sqlite3")
    client = Client(api_key="sk-test", base_url="https://gw-token-77@gateway.example/v1")
    backend = ResponsesBackend(client, store)
    backend.create_assistant(name="helper", model="gpt-4o-mini")
    assert [a["name"] for a in store.assistants("https://***@gateway.example/v1")] == ["helper"]
    store.close()
    client.close()
    assert [p.name for p in tmp_path.iterdir() if b"gw-token-77" in p.read_bytes()] == []
