"""The embedding cache's keys: the parts of a key (server, model, dimensions, text) never run into one
another, so a model with a line break is kept apart from a text with one."""

from __future__ import annotations

from typing import Any

import numpy as np

from oai_magics.embeddings.cache import EmbeddingCache


def test_the_cache_keeps_a_model_with_a_line_break_apart_from_a_text_with_one(tmp_path: Any) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    cache.store("http://s/v1", "m", None, ["x\n0\nt"], np.array([[1.0, 2.0]], dtype=np.float32))
    assert cache.missing("http://s/v1", "m\n0\nx", None, ["t"]) == [0]  # today: the other text's vector
