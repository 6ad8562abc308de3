"""How a shared SQLite store is opened and changed: WAL, a long busy timeout, a transaction that holds
the write lock from its first read, and nothing of a failed change left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oai_magics.sqlite_store import BUSY_TIMEOUT, connect, transaction

SCHEMA = "CREATE TABLE IF NOT EXISTS items (name TEXT PRIMARY KEY, count INTEGER)"


def test_a_store_is_opened_in_wal_mode_with_a_long_busy_timeout(tmp_path: Path) -> None:
    db = connect(tmp_path / "deep" / "store.sqlite3", SCHEMA, pragmas=("page_size=16384",))
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA busy_timeout").fetchone() == (int(BUSY_TIMEOUT * 1000),) and BUSY_TIMEOUT > 5
    assert db.execute("PRAGMA page_size").fetchone() == (16384,)  # set before the first table, so it took
    db.close()


def test_a_writing_transaction_holds_the_write_lock_from_its_first_read(tmp_path: Path) -> None:
    db = connect(tmp_path / "store.sqlite3", SCHEMA)
    other = sqlite3.connect(tmp_path / "store.sqlite3", timeout=0, isolation_level=None)
    with transaction(db):
        db.execute("SELECT count FROM items").fetchall()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # another kernel cannot write between our read and our write
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    db.close()


def test_a_failed_change_leaves_nothing_behind(tmp_path: Path) -> None:
    db = connect(tmp_path / "store.sqlite3", SCHEMA)
    with pytest.raises(ValueError), transaction(db):
        db.execute("INSERT INTO items VALUES ('a', 1)")
        raise ValueError("the second half of the change failed")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone() == (0,)
    with transaction(db):
        db.execute("INSERT INTO items VALUES ('a', 1)")
    assert db.execute("SELECT count FROM items").fetchall() == [(1,)]
    db.close()
