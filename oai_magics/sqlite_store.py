"""SQLite files that several kernels share: one way to open them, one way to change them.

The embedding cache and the assistants store are each one SQLite file in the user's folders, and
two kernels (or a kernel and a form's worker thread) may write to one at the same time. They open
it with `connect()`:

- WAL journal: readers never block the writer nor the writer the readers, so a long lookup in one
  kernel does not stall a write in another;
- a 30 s busy timeout instead of SQLite's default 5 s: a writer waits for another kernel's
  transaction to end rather than failing with "database is locked" under load;
- autocommit mode (`isolation_level=None`): Python's sqlite3 never opens a transaction behind our
  back, so every change is exactly the transaction `transaction()` makes.

A change that reads before it writes (append to a list held in a row) must read inside its
transaction, or two writers both read the old value and the second write drops the first one's.

A file written by an earlier version is brought up to date by `migrate()`: named steps, each run
once per file in a transaction of its own and then recorded in the file (two stores that share a
file keep their steps apart by name). `forget_userinfo()` is the step every store takes: a base
URL's user info (a gateway's token) was once written with the server's URL.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .client.urls import without_userinfo

__all__ = ["BUSY_TIMEOUT", "connect", "transaction", "migrate", "forget_userinfo"]

Migration = Callable[[sqlite3.Connection], None]

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another's transaction


def connect(path: str | Path, schema: str, *, pragmas: Sequence[str] = ()) -> sqlite3.Connection:
    """Open (creating it and its folder if need be) the SQLite file at `path` as a shared store.

    `pragmas` ("page_size=65536", ...) run first, before the journal turns to WAL and the tables
    exist: a page size only takes effect in a new file. `schema` is one or more CREATE ... IF NOT
    EXISTS statements. The connection may be used from several threads; callers serialise their
    use of it with a lock of their own.
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None)
    for pragma in pragmas:
        db.execute(f"PRAGMA {pragma}")
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction around the block: committed when it ends, rolled back if it raises.

    A writing transaction begins IMMEDIATE: it takes the file's write lock before its first read,
    so what it reads cannot change before it writes (a deferred one would read a snapshot that
    another writer may overtake, and then fail at its first write). A reading one (`write=False`)
    sees one snapshot of the file throughout, whatever other kernels write meanwhile.
    """
    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrate(db: sqlite3.Connection, steps: dict[str, Migration]) -> None:
    """Run each step (name -> function of the connection) that this file has not run yet, each in
    one transaction with its record, so two kernels opening an old file at once run it once.

    Old content is overwritten with zeros as it is rewritten (`secure_delete`), and the WAL is
    emptied into the file afterwards, so what a step removes is gone from the disk, not only from
    the tables.
    """
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied REAL NOT NULL)")
    (secure,) = db.execute("PRAGMA secure_delete").fetchone()  # builds differ (Debian's is on)
    db.execute("PRAGMA secure_delete=ON")
    ran = False
    try:
        for name, step in steps.items():
            with transaction(db):
                if db.execute("SELECT 1 FROM migrations WHERE name=?", (name,)).fetchone():
                    continue
                step(db)
                db.execute("INSERT INTO migrations VALUES (?, julianday('now'))", (name,))
                ran = True
    finally:
        db.execute(f"PRAGMA secure_delete={int(secure)}")
    if ran:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def forget_userinfo(table: str, *, drop: bool = False) -> Migration:
    """A step that rewrites the `server` column of `table` without a URL's user info (as
    `client.urls.without_userinfo` shows it: `https://***@host/v1`); with `drop`, rows whose server
    held user info are deleted instead (their keys were made from it and cannot be remade)."""

    def step(db: sqlite3.Connection) -> None:
        for (server,) in db.execute(f"SELECT DISTINCT server FROM {table}").fetchall():
            masked = without_userinfo(server)
            if masked == server:
                continue
            if drop:
                db.execute(f"DELETE FROM {table} WHERE server=?", (server,))
            else:  # a row already stored under the masked URL (same server, same id) is the newer one
                db.execute(f"UPDATE OR IGNORE {table} SET server=? WHERE server=?", (masked, server))
                db.execute(f"DELETE FROM {table} WHERE server=?", (server,))

    return step
