"""The persistent embedding cache: nothing is paid for twice.

One SQLite file (WAL, so two kernels can write at once) keyed by (server, model, dimensions, text
hash), vectors stored as float32 blobs. The default file is `embeddings.sqlite` in the user's cache
folder (`$OAI_MAGICS_CACHE_DIR`, else `$XDG_CACHE_HOME/oai_magics`, else `~/.cache/oai_magics`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["EmbeddingCache", "default_cache_dir", "default_cache_path"]

_CHUNK = 500  # hashes per SELECT: under SQLite's limit on bound parameters
# One key per (server, model, dimensions, text) so a lookup is one index probe. A rowid table with
# large pages: a 6 KB vector then sits in one page instead of a chain of overflow pages (SQLite
# advises against WITHOUT ROWID for rows this large), which makes reading 100,000 of them fast.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key BLOB PRIMARY KEY, server TEXT NOT NULL, model TEXT NOT NULL, dimensions INTEGER NOT NULL,
    vector BLOB NOT NULL, stored REAL NOT NULL
)
"""
_PAGE_SIZE = 65536  # only takes effect in a new file, before the first table
_MMAP_SIZE = 1 << 30


def default_cache_dir() -> Path:
    chosen = os.environ.get("OAI_MAGICS_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "oai_magics"


def default_cache_path() -> Path:
    return default_cache_dir() / "embeddings.sqlite"


def entry_key(scope: bytes, text: str) -> bytes:
    """The key of a text within a (server, model, dimensions) scope."""
    digest = hashlib.blake2b(scope, digest_size=16)
    digest.update(text.encode("utf-8"))
    return digest.digest()


def scope_of(server: str, model: str, dimensions: int | None) -> bytes:
    return f"{server}\n{model}\n{dimensions or 0}\n".encode("utf-8")


class EmbeddingCache:
    """Vectors by (server, model, dimensions, text). Safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA page_size={_PAGE_SIZE}")
        self._db.execute(f"PRAGMA mmap_size={_MMAP_SIZE}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe; a lost last write is re-fetched
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def fill(self, server: str, model: str, dimensions: int | None, texts: Sequence[str],
             put: Callable[[int, np.ndarray], None]) -> list[int]:
        """Hand every stored vector to `put(row, vector)` as it is read; returns the rows not stored.

        Vectors go straight to their destination, so a large lookup never holds a second copy.
        """
        return self._find(scope_of(server, model, dimensions), texts, put)

    def missing(self, server: str, model: str, dimensions: int | None, texts: Sequence[str]) -> list[int]:
        """The rows whose texts are not stored (their vectors are not read)."""
        return self._find(scope_of(server, model, dimensions), texts, None)

    def _find(self, scope: bytes, texts: Sequence[str], put: Callable[[int, np.ndarray], None] | None) -> list[int]:
        rows_of: dict[bytes, list[int]] = {}
        for row, text in enumerate(texts):
            rows_of.setdefault(entry_key(scope, text), []).append(row)
        unique = list(rows_of)
        found = np.zeros(len(texts), dtype=bool)
        columns = "key, vector" if put is not None else "key, NULL"
        with self._lock:
            for begin in range(0, len(unique), _CHUNK):
                chunk = unique[begin:begin + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for digest, blob in self._db.execute(f"SELECT {columns} FROM vectors WHERE key IN ({marks})", chunk):
                    rows = rows_of[digest]
                    found[rows] = True
                    if put is not None:
                        vector = np.frombuffer(blob, dtype="<f4")
                        for row in rows:
                            put(row, vector)
        return np.flatnonzero(~found).tolist()

    def store(self, server: str, model: str, dimensions: int | None, texts: Sequence[str], matrix: np.ndarray) -> None:
        """Keep one vector per text (rows of NaN, from failed requests, are skipped)."""
        stamp, scope = time.time(), scope_of(server, model, dimensions)
        rows = [(entry_key(scope, text), server, model, dimensions or 0, np.asarray(vector, dtype="<f4").tobytes(), stamp)
                for text, vector in zip(texts, matrix) if not np.isnan(vector[:1]).any()]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def summary(self) -> list[dict[str, Any]]:
        """Entries and bytes per (server, model, dimensions)."""
        with self._lock:
            cursor = self._db.execute("SELECT server, model, dimensions, COUNT(*), SUM(LENGTH(vector)) FROM vectors "
                                      "GROUP BY server, model, dimensions ORDER BY server, model, dimensions")
            return [{"server": s, "model": m, "dimensions": d or None, "entries": n, "bytes": b}
                    for s, m, d, n, b in cursor]

    def clear(self, model: str | None = None) -> int:
        """Forget every vector (or one model's); returns how many were removed."""
        with self._lock:
            if model:
                removed = self._db.execute("DELETE FROM vectors WHERE model=?", (model,)).rowcount
            else:
                removed = self._db.execute("DELETE FROM vectors").rowcount
            self._db.execute("VACUUM")
            return removed
