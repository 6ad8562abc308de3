"""State: every stored object as JSON in one SQLite table, uploaded bytes in files on disk.

Objects have a kind ("file", "assistant", "thread", "message", "run", "run_step", "fine_tune",
...), an id, an optional parent id (a message's thread, say) and an insertion sequence, so lists
come back in a stable order even when many objects share a `created_at` second.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

__all__ = ["Store", "new_id", "now"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    parent TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_kind_parent ON objects (kind, parent);
"""


def now() -> int:
    return int(time.time())


def new_id(prefix: str) -> str:
    """An id in the API's style: `asst_` + 24 random characters."""
    return prefix + secrets.token_hex(12)


class Store:
    """A small document store over SQLite; safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.blob_dir = self.data_dir / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.data_dir / "sandbox.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- objects -------------------------------------------------------------------------------
    def put(self, kind: str, obj: dict, parent: str | None = None) -> dict:
        with self._lock:
            self._db.execute("INSERT INTO objects (kind, id, parent, body) VALUES (?, ?, ?, ?)",
                             (kind, obj["id"], parent, json.dumps(obj)))
        return obj

    def get(self, kind: str, object_id: str, parent: str | None = None) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT body, parent FROM objects WHERE kind = ? AND id = ?", (kind, object_id)).fetchone()
        if row is None or (parent is not None and row[1] != parent):
            return None
        return json.loads(row[0])

    def save(self, kind: str, obj: dict) -> dict:
        with self._lock:
            self._db.execute("UPDATE objects SET body = ? WHERE kind = ? AND id = ?", (json.dumps(obj), kind, obj["id"]))
        return obj

    def update(self, kind: str, object_id: str, **changes: Any) -> dict:
        with self._lock:
            obj = self.get(kind, object_id)
            assert obj is not None, object_id
            obj.update(changes)
            return self.save(kind, obj)

    def delete(self, kind: str, object_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, object_id))
            self._db.execute("DELETE FROM objects WHERE parent = ?", (object_id,))
        return cursor.rowcount > 0

    def all(self, kind: str, parent: str | None = None, where: Callable[[dict], bool] | None = None) -> list[dict]:
        """Objects of a kind (under a parent), oldest first."""
        with self._lock:
            if parent is None:
                rows = self._db.execute("SELECT body FROM objects WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
            else:
                rows = self._db.execute("SELECT body FROM objects WHERE kind = ? AND parent = ? ORDER BY seq",
                                        (kind, parent)).fetchall()
        items = [json.loads(row[0]) for row in rows]
        return [item for item in items if where is None or where(item)]

    # -- uploaded bytes ------------------------------------------------------------------------
    def blob_path(self, blob_id: str) -> Path:
        return self.blob_dir / blob_id

    def write_blob(self, blob_id: str, chunks: Iterable[bytes]) -> int:
        size = 0
        tmp = self.blob_path(blob_id).with_suffix(".part")
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
        os.replace(tmp, self.blob_path(blob_id))
        return size

    def read_blob(self, blob_id: str) -> bytes:
        return self.blob_path(blob_id).read_bytes()

    def delete_blob(self, blob_id: str) -> None:
        self.blob_path(blob_id).unlink(missing_ok=True)
