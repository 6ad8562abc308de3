"""The local store of the responses back end: records per server, the thread and run indexes."""

from __future__ import annotations

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
