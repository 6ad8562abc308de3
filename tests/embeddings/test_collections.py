"""Indexed collections on disk: when an index is trusted, and two builders or a stopped one.

The vectors are stored straight into a real cache (as if embedded earlier): a collection is built
from the cache alone, so no server is needed here (the magic's way, over HTTP, is in
tests/magics/test_embed_search.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from oai_magics.embeddings import collections
from oai_magics.embeddings.cache import EmbeddingCache
from oai_magics.embeddings.collections import Scope, refresh

pytest.importorskip("usearch")

SCOPE = Scope("http://127.0.0.1:9/v1", "text-embedding-3-small", None)
TEXTS = [f"text {i}" for i in range(200)]


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[EmbeddingCache]:
    opened = EmbeddingCache(tmp_path / "embeddings.sqlite")
    yield opened
    opened.close()


def vectors(width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((len(TEXTS), width)).astype(np.float32)


def nearest(collection: Any, matrix: np.ndarray, row: int) -> int:
    positions, _ = collection.search(matrix[row], 1)
    return int(positions[0])


def test_an_index_of_vectors_of_another_width_is_built_again(cache: EmbeddingCache) -> None:
    """The model's vectors changed width (the same texts embedded again): the kept index fits no query of today."""
    cache.store(SCOPE.server, SCOPE.model, None, TEXTS, vectors(8))
    collection, done = refresh(cache, SCOPE, "docs", TEXTS)
    assert done == "built"
    collection.close()
    wider = vectors(12, seed=1)
    cache.store(SCOPE.server, SCOPE.model, None, TEXTS, wider)
    collection, done = refresh(cache, SCOPE, "docs", TEXTS)
    assert done == "built" and nearest(collection, wider, 17) == 17
    assert collection.width == 12
    collection.close()


class Hooked:
    """A real index whose `save` then runs `after_save` (once), before the file written takes its
    place: another kernel's work, or Ctrl-C."""

    def __init__(self, index: Any, after_save: Any) -> None:
        self._index, self._after_save = index, after_save

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def save(self, path: str) -> None:
        self._index.save(path)
        hook, self._after_save = self._after_save, None
        if hook:
            hook()


def hook_first_save(monkeypatch: pytest.MonkeyPatch, after_save: Any) -> None:
    real, made = collections.new_index, []

    def new_index(width: int) -> Any:
        made.append(real(width))
        return Hooked(made[-1], after_save) if len(made) == 1 else made[-1]

    monkeypatch.setattr(collections, "new_index", new_index)


def test_two_builders_of_one_collection_at_once_both_finish_with_a_whole_index(cache: EmbeddingCache,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = vectors(8)
    cache.store(SCOPE.server, SCOPE.model, None, TEXTS, matrix)
    other = EmbeddingCache(cache.path)  # another kernel builds the same collection while this one saves
    hook_first_save(monkeypatch, lambda: refresh(other, SCOPE, "docs", TEXTS)[0].close())
    collection, done = refresh(cache, SCOPE, "docs", TEXTS)
    other.close()
    assert done == "built" and nearest(collection, matrix, 5) == 5
    collection.close()
    collection, done = refresh(cache, SCOPE, "docs", TEXTS)
    assert done == "fresh" and collection.size == len(TEXTS)
    collection.close()
    assert not list(collections.index_folder(cache.path).glob("*.partial"))


def test_a_build_stopped_while_saving_leaves_no_half_file_and_the_next_is_whole(cache: EmbeddingCache,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = vectors(8)
    cache.store(SCOPE.server, SCOPE.model, None, TEXTS[:100], matrix[:100])
    refresh(cache, SCOPE, "docs", TEXTS[:100])[0].close()
    cache.store(SCOPE.server, SCOPE.model, None, TEXTS, matrix)

    def interrupt() -> None:
        raise KeyboardInterrupt

    hook_first_save(monkeypatch, interrupt)
    with pytest.raises(KeyboardInterrupt):
        refresh(cache, SCOPE, "docs", TEXTS)
    monkeypatch.undo()
    collection, done = refresh(cache, SCOPE, "docs", TEXTS)
    assert done != "fresh" and collection.size == len(TEXTS)
    assert nearest(collection, matrix, 150) == 150
    collection.close()
    assert not list(collections.index_folder(cache.path).glob("*.partial"))
