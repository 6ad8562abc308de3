"""Indexed collections: a large set of texts whose vectors are in the cache, searchable in
milliseconds, kept beside the cache file (in `<cache file>.indexes/`).

A collection is named (the variable it came from) within a scope (server, model, dimensions). Its
files share one stem: `.usearch` the HNSW index of the vectors (labels are row positions), `.sqlite`
the rows' texts and what the collection is (scope, name, size, the index labels, when built), and
`.hashes.npy` one 64-bit hash per text, by which staleness is known: the same hashes, the index
holds these texts; the old hashes a prefix of the new, the texts were appended and only they are
added; anything else, the index is built again. The vectors go from the cache to the index a block
at a time (`EmbeddingCache.fill`), never as one matrix, and a search memory-maps the index, so a
collection of a million vectors costs the kernel little memory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..client.urls import without_userinfo
from ..jobs.job_frames import decode_index, encode_index
from ..sqlite_store import connect, transaction
from .cache import EmbeddingCache
from .search import EXPANSION_SEARCH, BlockAdder, index_top, new_index

__all__ = ["Collection", "Scope", "index_folder", "text_hashes", "fresh", "refresh", "latest", "forget_all", "vector_width"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (position INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS about (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_AT_ONCE = 900  # rows read per statement (older SQLite builds take at most 999 parameters)


def index_folder(cache_path: str | Path) -> Path:
    """Where the collections of a cache file are kept: beside it, so they go where it goes."""
    path = Path(cache_path).expanduser()
    return path.with_name(path.name + ".indexes")


def text_hashes(texts: Sequence[str]) -> np.ndarray:
    """One stable 64-bit hash per text (pandas' SipHash with its fixed key: the same in every process)."""
    import pandas as pd

    return pd.util.hash_array(np.asarray(texts, dtype=object)).astype(np.uint64)


@dataclass(frozen=True)
class Scope:
    server: str
    model: str
    dimensions: int | None

    def stem(self, name: str) -> str:
        key = json.dumps([without_userinfo(self.server), self.model, self.dimensions or 0, name])
        return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


class Collection:
    """One indexed collection on disk: search it, and read the rows it finds."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.base = folder / stem
        self._db = connect(self.base.with_suffix(".sqlite"), _SCHEMA)
        self.about = dict(self._db.execute("SELECT key, value FROM about"))

    def close(self) -> None:
        self._db.close()

    @property
    def size(self) -> int:
        return int(self.about.get("size", 0))

    @property
    def width(self) -> int:
        """The dimensions of its vectors (0: indexed before they were noted)."""
        return int(self.about.get("width", 0))

    def describe(self) -> str:
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(self.about.get("built", 0))))
        return f"{self.about.get('name')!r} ({self.size:,} texts of {self.about.get('model')}, indexed {built})"

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, cosines) of the k nearest rows, best first."""
        return index_top(_view(str(self.base.with_suffix(".usearch")), self._stamp()), query, k)

    def texts(self, positions: np.ndarray) -> list[str]:
        wanted, found = [int(p) for p in positions], {}
        for begin in range(0, len(wanted), _AT_ONCE):  # within SQLite's bound on a statement's parameters
            chunk = wanted[begin:begin + _AT_ONCE]
            found.update(self._db.execute(f"SELECT position, text FROM rows WHERE position IN ({','.join('?' * len(chunk))})",
                                          chunk))
        return [found[p] for p in wanted]

    def labels(self, positions: np.ndarray) -> Any:
        """The index labels of those rows, as the input had them (None: a default range index)."""
        stored = self.about.get("index")
        if not stored:
            return None
        return _labels(str(self.base.with_suffix(".sqlite")), self._stamp(), stored)[positions]

    def _stamp(self) -> float:
        return float(self.about.get("built", 0))


@functools.lru_cache(maxsize=4)
def _view(path: str, stamp: float) -> Any:
    """The index memory-mapped, once per build (`stamp`) in this process: later searches reuse it."""
    from usearch.index import Index

    index = Index.restore(path, view=True)
    index.expansion_search = EXPANSION_SEARCH  # a setting of the search, not kept in the file
    return index


@functools.lru_cache(maxsize=4)
def _labels(path: str, stamp: float, stored: str) -> Any:
    return decode_index(json.loads(stored))


def fresh(cache: EmbeddingCache, scope: Scope, name: str, texts: Sequence[str], index: Any = None,
          hashes: np.ndarray | None = None) -> Collection | None:
    """The collection `name` when it holds exactly `texts` (and index labels `index`) as vectors of
    the width the cache has for them; else None. Reads one vector of the cache, not one per text: a
    query over texts indexed before costs a hash of each text, no lookup."""
    folder, stem = index_folder(cache.path), scope.stem(name)
    width = vector_width(cache, scope, texts[0])
    old = _kept_hashes(folder, stem, width) if width else None
    if old is None or len(old) != len(texts) or not np.array_equal(old, text_hashes(texts) if hashes is None else hashes):
        return None
    collection = Collection(folder, stem)
    if collection.about.get("index") == _encoded(index):
        return collection
    collection.close()
    return None


def refresh(cache: EmbeddingCache, scope: Scope, name: str, texts: Sequence[str], index: Any = None) -> tuple[Collection, str]:
    """The collection `name` holding exactly `texts`, whose vectors must all be in `cache`: (it, what
    was done: "fresh", "updated" (texts appended to it) or "built")."""
    folder = index_folder(cache.path)
    stem = scope.stem(name)
    hashes = text_hashes(texts)
    hash_file = folder / f"{stem}.hashes.npy"
    kept = fresh(cache, scope, name, texts, index, hashes)
    if kept is not None:
        return kept, "fresh"
    width = vector_width(cache, scope, texts[0])
    if not width:
        raise ValueError("the collection's vectors are not in the cache")
    old = _kept_hashes(folder, stem, width)
    appended = old is not None and len(old) < len(hashes) and np.array_equal(old, hashes[:len(old)])
    start = len(old) if appended else 0
    folder.mkdir(parents=True, exist_ok=True)
    vectors = new_index(width)
    if appended:
        vectors.load(str(folder / f"{stem}.usearch"))
    adder = BlockAdder(vectors, width, start)
    cache.fill(scope.server, scope.model, scope.dimensions, [texts[r] for r in range(start, len(texts))], adder)
    adder.finish()
    # The hashes go first and come back last: a kernel stopped in between leaves none, and the
    # next query builds afresh rather than trusting an index that may not match them.
    hash_file.unlink(missing_ok=True)
    _save(folder, stem, vectors, scope, name, texts, start, index)
    with _partial(folder, stem, ".hashes.npy") as partial, open(partial, "wb") as out:
        np.save(out, hashes)  # to the file as named (given a name, np.save would add ".npy")
    return Collection(folder, stem), "updated" if appended else "built"


def _kept_hashes(folder: Path, stem: str, width: int) -> np.ndarray | None:
    """The hashes of the texts the kept index holds, or None when there is no whole index to trust,
    or its vectors are not `width` wide (the model's vectors changed width since: the same texts,
    and an index no query of today fits)."""
    hash_file = folder / f"{stem}.hashes.npy"
    if not (hash_file.exists() and (folder / f"{stem}.usearch").exists()):
        return None
    collection = Collection(folder, stem)
    try:
        if collection.about.get("width") != str(width):
            return None
    finally:
        collection.close()
    try:
        return np.load(hash_file)
    except FileNotFoundError:  # another kernel began building it again meanwhile
        return None


@contextlib.contextmanager
def _partial(folder: Path, stem: str, suffix: str) -> Iterator[str]:
    """A new file of its own to write, renamed to `<stem><suffix>` when written whole: a search
    elsewhere never reads half of one, and two kernels building the same collection at once never
    write into one file (a shared name let the one rename the other's half-written file, and then
    fail to find its own)."""
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f"{stem}.", suffix=".partial")
    os.close(handle)
    try:
        yield partial
        os.replace(partial, folder / f"{stem}{suffix}")
    finally:
        Path(partial).unlink(missing_ok=True)


def vector_width(cache: EmbeddingCache, scope: Scope, text: str) -> int:
    """The dimensions of the cached vector of `text` (0: it is not cached)."""
    widths: list[int] = []
    cache.fill(scope.server, scope.model, scope.dimensions, [text], lambda rows, block: widths.append(block.shape[1]))
    return widths[0] if widths else 0


def _encoded(index: Any) -> str:
    return json.dumps(encode_index(index)) if index is not None else ""


def _save(folder: Path, stem: str, vectors: Any, scope: Scope, name: str, texts: Sequence[str], start: int,
          index: Any) -> None:
    """Write the index (to a new file, then renamed over the old: a search elsewhere never reads half
    of one) and the rows and description beside it."""
    with _partial(folder, stem, ".usearch") as partial:
        vectors.save(partial)
    db = connect((folder / stem).with_suffix(".sqlite"), _SCHEMA)
    try:
        with transaction(db):
            if not start:
                db.execute("DELETE FROM rows")
            db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?)",
                           ((position, texts[position]) for position in range(start, len(texts))))
            about = {"name": name, "server": without_userinfo(scope.server), "model": scope.model,
                     "dimensions": str(scope.dimensions or 0), "size": str(len(texts)), "width": str(vectors.ndim), "built": repr(time.time()),
                     "index": _encoded(index)}
            db.executemany("INSERT OR REPLACE INTO about VALUES (?, ?)", about.items())
    finally:
        db.close()


def latest(cache_path: str | Path, scope: Scope) -> Collection | None:
    """The collection of this scope indexed last, or None."""
    folder = index_folder(cache_path)
    best: tuple[float, Collection] | None = None
    for file in sorted(folder.glob("*.sqlite")) if folder.is_dir() else []:
        if not file.with_suffix(".usearch").exists():
            continue
        collection = Collection(folder, file.stem)
        about = collection.about
        mine = (about.get("server") == without_userinfo(scope.server) and about.get("model") == scope.model
                and about.get("dimensions") == str(scope.dimensions or 0))
        if mine and (best is None or float(about["built"]) > best[0]):
            if best is not None:
                best[1].close()
            best = (float(about["built"]), collection)
        else:
            collection.close()
    return best[1] if best else None


def forget_all(cache_path: str | Path) -> int:
    """Remove every collection kept beside the cache (when the cache is cleared); how many."""
    folder = index_folder(cache_path)
    files = list(folder.glob("*")) if folder.is_dir() else []
    for file in files:
        file.unlink(missing_ok=True)
    return sum(1 for f in files if f.suffix == ".usearch")
