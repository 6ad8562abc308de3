"""frames: listings and embeddings as DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oai_magics.frames import embedding_frame, listing_frame, pca_2d, similarity_frame, vectors_of


def test_listing_puts_id_first_converts_times_and_keeps_nested_objects() -> None:
    frame = listing_frame([
        {"object": "assistant", "created_at": 1_700_000_000, "id": "asst_1", "tools": [{"type": "file_search"}],
         "metadata": {"team": "data"}},
        {"object": "assistant", "created_at": 1_700_000_060, "id": "asst_2", "tools": [], "metadata": {}},
    ])
    assert list(frame.columns[:2]) == ["id", "object"]
    assert frame["created_at"][1] == pd.Timestamp("2023-11-14 22:14:20", tz="UTC")
    assert frame["tools"][0] == [{"type": "file_search"}] and frame["metadata"][0] == {"team": "data"}


def test_empty_listing_is_an_empty_frame_with_an_id_column() -> None:
    assert list(listing_frame([]).columns) == ["id"]


def test_embedding_frame_round_trips_its_vectors() -> None:
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3)
    frame = embedding_frame(["a", "b"], matrix, index=pd.Index(["x", "y"]))
    assert list(frame.columns) == ["text", "e0", "e1", "e2"] and list(frame.index) == ["x", "y"]
    assert frame["e2"].dtype == np.float32 and np.array_equal(vectors_of(frame), matrix)


def test_similarity_ranks_by_cosine_and_pca_separates_clusters() -> None:
    matrix = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 0, 1], [0, 0.1, 0.9]], dtype=np.float32)
    frame = embedding_frame(list("abcd"), matrix)
    ranked = similarity_frame(frame, np.array([1, 0, 0], dtype=np.float32), top=2)
    assert list(ranked["text"]) == ["a", "b"] and ranked["similarity"].iloc[0] == 1.0
    coords = pca_2d(matrix)
    assert coords.shape == (4, 2)
    assert np.sign(coords[0, 0]) == np.sign(coords[1, 0]) != np.sign(coords[2, 0]) == np.sign(coords[3, 0])
    assert pca_2d(matrix[:1]).tolist() == [[0.0, 0.0]]
