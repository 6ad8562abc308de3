"""Nearest neighbours by cosine similarity: exact numpy search for small matrices, an approximate
HNSW index (usearch) for large ones.

Why usearch rather than faiss or hnswlib: one small wheel with no BLAS or CUDA of its own, kept up
to date for every platform we support, and an index that saves to one file and is memory-mapped
back (`view`), so a million vectors are searched without reading them into the kernel's memory.
It is the optional extra `search` and imported on first use; without it every search is exact.

Scores are cosines (1 at the same direction); the rows need not be normalised.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

__all__ = ["EXACT_BELOW", "SEARCH_EXTRA", "exact_top", "neighbour_table", "have_index", "new_index",
           "index_top", "normalised", "BlockAdder", "EXPANSION_SEARCH"]

# Below this many values (rows x dimensions) exact search is as fast as the index, and exact.
# Measured on 2 shared cores (the search alone, top 10, median of 20 queries): 10,000 x 256 took 0.24 ms
# exact and 0.22 ms through the index (64 candidates), 50,000 x 256 3.3 ms exact and 4.7 ms through
# the index (256 candidates; EXPANSION_SEARCH is now larger, which only moves the crossover up),
# 10,000 x 1,536 1.9 ms exact and 3.2 ms through the index. So
# search alone crosses at about 50,000 x 256 (12,800,000 values); the index costs a build besides
# (about 2,500 vectors a second, once per collection), so exact is kept up to 20,000,000 values
# (78,125 texts of 256 dimensions, 13,020 of 1,536), where one exact query takes under 10 ms.
EXACT_BELOW = 20_000_000
SEARCH_EXTRA = "pip install 'oai-magics[search]'"
# Candidates weighed as each vector is added (usearch's default is 128): 40 built 50,000 x 256 in
# 20 s instead of 75 s on 2 shared cores, and still found every planted query's own row first.
_EXPANSION_ADD = 40
# Candidates weighed per query (default 64). On vectors with the spectrum of real embeddings
# (benchmarks/search_scale.py), with expansion_add 40, the share of the exact top 10 found over
# 1,000,000 x 256 was 0.83 with 256 candidates (1.2 ms a query), 0.87 with 512 (2.0 ms), 0.94 with 1,024
# (5.0 ms) and 0.95 with 2,048 (10.7 ms); at 50,000 and 200,000, 256 already found 0.996. A wrong
# neighbour costs the user more than 10 ms, and the whole magic stays far below 50 ms. On isotropic
# clusters, where the top 10 are near-ties, recall says little: that data, not these settings, was the limit.
EXPANSION_SEARCH = 2048
_VALUES_PER_ADD = 1 << 24  # values handed to one usearch `add` (64 MB of float32; 65,536 rows of 256)
_ROWS_AT_ONCE = 1024  # rows compared with all others at a time in `neighbour_table`: bounded memory


def have_index() -> bool:
    """Whether usearch can be imported (asked only where an index would be used: its first use)."""
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


def new_index(dimensions: int) -> Any:
    """An empty cosine index of float32 vectors (float32 so its scores are the exact ones, to
    rounding; the vectors are memory-mapped when searched, so their size is disk, not memory)."""
    from usearch.index import Index

    return Index(ndim=dimensions, metric="cos", dtype="f32", expansion_add=_EXPANSION_ADD,
                 expansion_search=EXPANSION_SEARCH)


def normalised(matrix: np.ndarray) -> np.ndarray:
    """The rows scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def exact_top(matrix: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, cosines) of the k rows most similar to `query`, best first."""
    norm = np.linalg.norm(query) or 1.0
    row_norms = np.linalg.norm(matrix, axis=1)
    scores = (matrix @ (query / norm)) / np.where(row_norms == 0, 1.0, row_norms)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return top, scores[top].astype(np.float32)


def index_top(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, cosines) of the k rows of `index` nearest `query`, best first."""
    found = index.search(np.asarray(query, dtype=np.float32), min(k, len(index)))
    return found.keys.astype(np.int64), (1.0 - found.distances).astype(np.float32)


def neighbour_table(matrix: np.ndarray, k: int, exact_below: int = EXACT_BELOW) -> tuple[np.ndarray, np.ndarray]:
    """(positions, cosines), each n x k: every row's k nearest other rows, best first (-1 and NaN
    where there are fewer than k others). Exact below `exact_below` values, else through an index
    built for the purpose (and not kept: a frame in memory is no collection of the cache).

    A row with a NaN (a failed request's, in a partial frame) has no neighbours and is nobody's: its
    cosines are no numbers, and sorting them put it among the nearest (exact) or broke the graph (index)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    whole = np.isfinite(matrix).all(axis=1)
    if not whole.all():
        positions = np.full((len(matrix), max(0, min(k, int(whole.sum()) - 1))), -1, dtype=np.int64)
        scores = np.full(positions.shape, np.nan, dtype=np.float32)
        kept = np.flatnonzero(whole)
        found, found_scores = neighbour_table(matrix[kept], k, exact_below)
        positions[kept] = np.where(found >= 0, kept[np.maximum(found, 0)], -1)
        scores[kept] = found_scores
        return positions, scores
    k = max(0, min(k, len(matrix) - 1))
    if matrix.size < exact_below or not have_index() or k == 0:
        return _exact_table(matrix, k)
    index = new_index(matrix.shape[1])
    index.add(np.arange(len(matrix)), np.ascontiguousarray(matrix))
    found = index.search(np.ascontiguousarray(matrix), k + 1)
    return _without_self(found.keys.astype(np.int64), (1.0 - found.distances).astype(np.float32), k)


def _exact_table(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    unit = normalised(np.asarray(matrix, dtype=np.float32))
    positions = np.full((len(unit), k), -1, dtype=np.int64)
    scores = np.full((len(unit), k), np.nan, dtype=np.float32)
    for begin, block in _row_blocks(unit):
        sims = block @ unit.T
        sims[np.arange(len(block)), np.arange(begin, begin + len(block))] = -np.inf  # never its own neighbour
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k else np.empty((len(block), 0), dtype=np.int64)
        picked = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-picked, axis=1, kind="stable")
        positions[begin:begin + len(block)] = np.take_along_axis(top, order, axis=1)
        scores[begin:begin + len(block)] = np.take_along_axis(picked, order, axis=1)
    return positions, scores


def _without_self(keys: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k best, its own position left out (an index finds a row itself first, or, among
    exact duplicates, perhaps second)."""
    rows = np.arange(len(keys))[:, None]
    keep = (keys != rows) & (keys < len(keys))  # an index pads a short answer with an impossible key
    first = np.argsort(~keep, axis=1, kind="stable")[:, :k]  # the kept ones, in their order
    kept = np.take_along_axis(keep, first, axis=1)
    positions = np.where(kept, np.take_along_axis(keys, first, axis=1), -1)
    cosines = np.where(kept, np.take_along_axis(scores, first, axis=1), np.nan).astype(np.float32)
    return positions, cosines


def _row_blocks(matrix: np.ndarray) -> Iterable[tuple[int, np.ndarray]]:
    for begin in range(0, len(matrix), _ROWS_AT_ONCE):
        yield begin, matrix[begin:begin + _ROWS_AT_ONCE]


class BlockAdder:
    """Adds the blocks `EmbeddingCache.fill` hands over (`put(rows, block)`) to an index, gathered
    into large batches first; `finish()` adds the last one. The vectors go from the cache to the
    index without a matrix of them all in between.

    Why gather: usearch spreads one `add` over every core, and the cache's blocks of 2,048 rows
    leave the threads idle between calls: 100,000 x 256 vectors took 14.6 s in blocks of 2,048 and
    9.7 s in blocks of 65,536 on 2 shared cores.
    """

    def __init__(self, index: Any, width: int, start: int = 0) -> None:
        self.index, self.start = index, start
        self._rows = max(1, _VALUES_PER_ADD // max(1, width))
        self._keys = np.empty(self._rows, dtype=np.uint64)
        self._vectors = np.empty((self._rows, width), dtype=np.float32)
        self._held = 0

    def __call__(self, rows: np.ndarray, block: np.ndarray) -> None:
        keys = np.asarray(rows, dtype=np.uint64) + np.uint64(self.start)
        done = 0
        while done < len(keys):
            taken = min(len(keys) - done, self._rows - self._held)
            self._keys[self._held:self._held + taken] = keys[done:done + taken]
            self._vectors[self._held:self._held + taken] = block[done:done + taken]
            self._held, done = self._held + taken, done + taken
            if self._held == self._rows:
                self.finish()

    def finish(self) -> None:
        if self._held:
            self.index.add(self._keys[:self._held], self._vectors[:self._held])
            self._held = 0
