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
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["BUSY_TIMEOUT", "connect", "transaction"]

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
