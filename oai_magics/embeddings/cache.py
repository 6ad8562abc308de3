"""The persistent embedding cache: nothing is paid for twice.

One SQLite file (WAL, so two kernels can write at once) keyed by (server, model, dimensions, text
hash), vectors stored as float32 blobs. The server is its base URL without user info (a gateway's
token written as `https://TOKEN@host/v1` is never stored nor hashed into a key: the URL is kept as
`https://***@host/v1`). Vectors an earlier version stored under a URL with user info are deleted
when the file is first opened: their keys were made from the token, so no lookup could find them
without keeping it, and they are fetched again once when next asked for. The default file is `embeddings.sqlite` in the user's cache
folder (`$OAI_MAGICS_CACHE_DIR`, else `$XDG_CACHE_HOME/oai_magics`, else `~/.cache/oai_magics`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..client.urls import without_userinfo
from ..sqlite_store import connect, forget_userinfo, migrate, transaction

__all__ = ["EmbeddingCache", "default_cache_dir", "default_cache_path", "cache_file"]

_BLOCK = 2048  # vectors handed over at a time: 12 MB at 1,536 dimensions, reused from block to block
# Looking up at least a third of the stored entries, one pass over the key index beats probing it
# once per text (a probe costs about three times a step of the pass).
_SCAN_SHARE = 3
# One key per (server, model, dimensions, text), so a text is found in the key index alone. A rowid
# table with large pages: a 6 KB vector then sits in one page instead of a chain of overflow pages
# (SQLite advises against WITHOUT ROWID for rows this large), and vectors stored together are read
# front to back by rowid.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key BLOB PRIMARY KEY, server TEXT NOT NULL, model TEXT NOT NULL, dimensions INTEGER NOT NULL,
    vector BLOB NOT NULL, stored REAL NOT NULL
)
"""
_FRAMED = b"oai-magics-frame"  # blake2b personalisation of the keys of scopes with line breaks
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


def cache_file(configured: str) -> Path:
    """The file `%config OAIMagics.cache_path` names, else the cache folder's embeddings.sqlite. The
    Batch API jobs are kept in it too."""
    return Path(configured).expanduser() if configured else default_cache_path()


def entry_keys(scope: hashlib.blake2b, texts: Sequence[str]) -> list[bytes]:
    """The key of each text within a scope (`scope_of`): the scope is hashed once and its state
    copied for each text. A text holding a lone surrogate (a file name read with `surrogateescape`)
    is hashed as it is rather than refused."""
    keys = []
    for text in texts:
        digest = scope.copy()
        digest.update(text.encode("utf-8", "surrogatepass"))
        keys.append(digest.digest())
    return keys


def scope_of(server: str, model: str, dimensions: int | None) -> hashlib.blake2b:
    """The key's hash with the (server, model, dimensions) scope already in it.

    A key hashes "server\\nmodel\\ndimensions\\n" and then the text: the first three line breaks end
    the scope, so the key is unambiguous while neither server nor model holds a line break. One
    that does (a model "m\\n0\\nx" would meet a text "x\\n0\\nt" of model "m") has its parts
    length-prefixed and hashed under a personalisation of their own, apart from every other key.
    Keys of the usual scopes are thus the ones stored so far, and no vector paid for is lost.
    """
    if "\n" not in server and "\n" not in model:
        return hashlib.blake2b(f"{server}\n{model}\n{dimensions or 0}\n".encode("utf-8", "surrogatepass"),
                               digest_size=16)
    parts = [part.encode("utf-8", "surrogatepass") for part in (server, model, str(dimensions or 0))]
    framed = b"".join(len(part).to_bytes(8, "little") + part for part in parts)
    return hashlib.blake2b(framed, digest_size=16, person=_FRAMED)


class EmbeddingCache:
    """Vectors by (server, model, dimensions, text). Safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        # synchronous=NORMAL: WAL keeps this crash-safe; a lost last write is re-fetched
        self._db = connect(self.path, _SCHEMA, pragmas=(f"page_size={_PAGE_SIZE}", f"mmap_size={_MMAP_SIZE}",
                                                        "synchronous=NORMAL"))
        migrate(self._db, {"vectors: no user info in server URLs": forget_userinfo("vectors", drop=True)})

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def fill(self, server: str, model: str, dimensions: int | None, texts: Sequence[str],
             put: Callable[[np.ndarray, np.ndarray], None]) -> list[int]:
        """Hand the stored vectors to `put(rows, block)` a few thousand rows at a time; returns the rows
        not stored.

        Blocks go straight to their destination, so a large lookup never holds a second copy of the
        matrix; whole blocks, because per-row numpy calls cost more than the reading itself. A block
        is reused once `put` returns: `put` copies it.
        """
        return self._find(scope_of(without_userinfo(server), model, dimensions), texts, put)

    def missing(self, server: str, model: str, dimensions: int | None, texts: Sequence[str]) -> list[int]:
        """The rows whose texts are not stored (their vectors are not read)."""
        return self._find(scope_of(without_userinfo(server), model, dimensions), texts, None)

    def _find(self, scope: hashlib.blake2b, texts: Sequence[str], put: Callable[[np.ndarray, np.ndarray], None] | None) -> list[int]:
        keys = entry_keys(scope, texts)
        found = np.zeros(len(texts), dtype=bool)
        # One snapshot: the rowids found by the first query still name the same vectors when the
        # second reads them, whatever another kernel writes meanwhile.
        with self._lock, transaction(self._db, write=False):
            rowids, rows = self._locate(keys)
            if put is None:
                found[rows] = True
            else:
                self._read(rowids, rows, put, found)
        return np.flatnonzero(~found).tolist()

    def _locate(self, keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(rowids, rows): where each stored text's vector is, for every row that holds one, in rowid
        order (the table's order on disk, so the vectors are then read front to back)."""
        row_of = dict(zip(keys, range(len(keys))))  # each distinct text once (a repeated one: its last row)
        (entries,) = self._db.execute("SELECT COALESCE(MAX(rowid), 0) FROM vectors").fetchone()  # >= the count, at once
        if len(row_of) * _SCAN_SHARE >= entries:  # most of the store is wanted: one pass over the key index
            hits = [(rowid, row_of[key]) for key, rowid in self._db.execute("SELECT key, rowid FROM vectors")
                    if key in row_of]
        else:  # a few among many: probe the index for each
            unique, hits = list(row_of), []
            step = self._variables()
            for begin in range(0, len(unique), step):
                chunk = unique[begin:begin + step]
                query = f"SELECT key, rowid FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
                hits += [(rowid, row_of[key]) for key, rowid in self._db.execute(query, chunk)]
        pairs = np.array(hits, dtype=np.int64).reshape(-1, 2)
        rowids, rows = pairs[:, 0], pairs[:, 1]
        if len(row_of) < len(keys):  # a text given twice takes its vector twice
            rowid_of_row = np.full(len(keys), -1, dtype=np.int64)
            rowid_of_row[rows] = rowids
            rowid_of_row = rowid_of_row[[row_of[key] for key in keys]]
            rows = np.flatnonzero(rowid_of_row >= 0)
            rowids = rowid_of_row[rows]
        order = np.argsort(rowids, kind="stable")
        return rowids[order], rows[order]

    def _read(self, rowids: np.ndarray, rows: np.ndarray, put: Callable[[np.ndarray, np.ndarray], None],
              found: np.ndarray) -> None:
        """Hand the vectors at the sorted `rowids` to `put(rows, block)`, a block at a time."""
        unique, inverse = np.unique(rowids, return_inverse=True)  # a rowid repeats when its text does
        repeated = len(unique) < len(rowids)
        for begin, block, good in self._blocks(unique):
            # The rows of this block's rowids are one run of the sorted pairs.
            low, high = np.searchsorted(inverse, [begin, begin + len(good)]) if repeated else (begin, begin + len(good))
            targets, picks = rows[low:high], inverse[low:high] - begin
            if not repeated and good.all():  # the usual case: the block as it is, not copied again
                vectors = block[:len(good)]
            else:
                keep = good[picks]
                targets, vectors = targets[keep], block[picks[keep]]
            if len(targets):
                put(targets, vectors)
                found[targets] = True

    def _blocks(self, rowids: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first position, block, which of its rows were read) for each run of the sorted `rowids`.

        The block is allocated once and reused; each blob is copied once, straight into it (no list
        of bytes objects, no join). A blob of another width than the first (stored by an earlier
        version of the model) is left out, so it is fetched and stored again.
        """
        step = min(_BLOCK, self._variables())
        block, view, width = np.empty((0, 0), dtype="<f4"), memoryview(b""), 0
        for begin in range(0, len(rowids), step):
            ids = rowids[begin:begin + step].tolist()
            good = np.zeros(len(ids), dtype=bool)
            if ids[-1] - ids[0] + 1 == len(ids):  # no gap (texts stored in the order they are asked for): one range
                query, ids = "SELECT vector FROM vectors WHERE rowid BETWEEN ? AND ? ORDER BY rowid", [ids[0], ids[-1]]
            else:
                query = f"SELECT vector FROM vectors WHERE rowid IN ({','.join('?' * len(ids))}) ORDER BY rowid"
            # Within the snapshot every rowid is still there, so the i-th vector is the i-th rowid's.
            for i, (blob,) in enumerate(self._db.execute(query, ids)):
                if not width:
                    width = len(blob)
                    block = np.empty((step, width // 4), dtype="<f4")
                    view = memoryview(block).cast("B")
                if len(blob) == width:
                    view[i * width:(i + 1) * width] = blob
                    good[i] = True
            yield begin, block, good

    def _variables(self) -> int:
        """Bound parameters one statement may take (999 in older SQLite builds, 32,766 in newer)."""
        return self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def store(self, server: str, model: str, dimensions: int | None, texts: Sequence[str], matrix: np.ndarray) -> None:
        """Keep one vector per text (rows of NaN, from failed requests, are skipped)."""
        server = without_userinfo(server)
        stamp, scope = time.time(), scope_of(server, model, dimensions)
        rows = [(key, server, model, dimensions or 0, np.asarray(vector, dtype="<f4").tobytes(), stamp)
                for key, vector in zip(entry_keys(scope, texts), matrix) if not np.isnan(vector[:1]).any()]
        with self._lock, transaction(self._db) as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?, ?)", rows)

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
