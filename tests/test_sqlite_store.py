"""How a shared SQLite store is opened and changed: WAL, a long busy timeout, a transaction that holds
the write lock from its first read, and nothing of a failed change left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oai_magics.sqlite_store import BUSY_TIMEOUT, connect, forget_userinfo, migrate, transaction

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


USERS = "CREATE TABLE IF NOT EXISTS users (server TEXT, name TEXT)"


@pytest.mark.parametrize("drop", [False, True], ids=["rewritten", "deleted"])
def test_a_migration_leaves_no_trace_of_what_it_removed_on_the_disk(tmp_path: Path, drop: bool) -> None:
    # Even where SQLite's build leaves deleted content in free space (secure_delete off by default),
    # and while the file is open: the token is in neither the file nor its WAL.
    db = connect(tmp_path / "store.sqlite3", USERS)
    db.execute("PRAGMA secure_delete=OFF")
    with transaction(db):
        db.executemany("INSERT INTO users VALUES (?, ?)", [("https://kept/v1", f"n{i}") for i in range(40)]
                       + [("https://gw-token-e8@host/v1", "gateway")])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the token reaches the file itself
    migrate(db, {"users: no user info": forget_userinfo("users", drop=drop)})
    servers = [server for (server,) in db.execute("SELECT DISTINCT server FROM users ORDER BY server")]
    assert servers == ([] if drop else ["https://***@host/v1"]) + ["https://kept/v1"]
    assert [p.name for p in tmp_path.iterdir() if b"gw-token-e8" in p.read_bytes()] == []
    assert db.execute("PRAGMA secure_delete").fetchone() == (0,)  # the connection's own setting is kept
    migrate(db, {"users: no user info": lambda _: pytest.fail("a step runs once per file")})
    db.close()
