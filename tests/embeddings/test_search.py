"""The index a collection is built into: blocks from the cache gathered into large batches."""

from __future__ import annotations

import numpy as np
import pytest

from oai_magics.embeddings import search

pytest.importorskip("usearch")


def test_block_adder_adds_every_row_under_its_own_key_across_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "_VALUES_PER_ADD", 7 * 8)  # batches of 7 rows of 8, blocks of other sizes
    vectors = np.random.default_rng(1).standard_normal((40, 8)).astype(np.float32)
    index = search.new_index(8)
    adder = search.BlockAdder(index, 8, start=100)
    for begin, end in ((0, 3), (3, 20), (20, 21), (21, 40)):
        adder(np.arange(begin, end), vectors[begin:end])
    adder.finish()
    assert len(index) == 40
    for row in (0, 6, 7, 20, 39):
        keys, cosines = search.index_top(index, vectors[row], 1)
        assert keys[0] == 100 + row and cosines[0] == pytest.approx(1.0, abs=1e-5)
