"""`oai_magics.embeddings.dedupe` and `outliers` used from code, exact and through an index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oai_magics.embeddings import dedupe, outliers
from oai_magics.embeddings.search import neighbour_table
from oai_magics.frames import embedding_frame


def clustered(count: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, 24))
    return (centres[rng.integers(0, 8, count)] + 0.2 * rng.standard_normal((count, 24))).astype(np.float32)


@pytest.mark.parametrize("exact_below", [10**9, 0], ids=["exact", "index"])
def test_dedupe_names_the_first_row_by_its_label(exact_below: int) -> None:
    if not exact_below:
        pytest.importorskip("usearch")
    matrix = clustered(60)
    matrix[40] = matrix[5] * 3  # the same direction: cosine 1
    matrix[50] = matrix[5] + 1e-4  # all but the same
    matrix[55] = matrix[40]
    frame = embedding_frame([f"t{i}" for i in range(60)], matrix, pd.Index([f"row{i}" for i in range(60)]))
    marked = dedupe(frame, 0.9999, exact_below=exact_below)
    expected = {"row40": "row5", "row50": "row5", "row55": "row5"}
    assert marked["duplicate_of"].dropna().to_dict() == expected
    assert list(marked.columns[:2]) == ["text", "duplicate_of"] and len(marked.columns) == len(frame.columns) + 1
    assert "duplicate_of" not in frame.columns  # the frame given is left as it was


@pytest.mark.parametrize("exact_below", [10**9, 0], ids=["exact", "index"])
def test_outliers_are_the_rows_far_from_every_other(exact_below: int) -> None:
    if not exact_below:
        pytest.importorskip("usearch")
    rng = np.random.default_rng(1)
    matrix = np.repeat(rng.standard_normal((1, 24)), 80, axis=0) + 0.1 * rng.standard_normal((80, 24))
    planted = [3, 44, 71]
    matrix[planted] = rng.standard_normal((3, 24)) * 5
    frame = embedding_frame([f"t{i}" for i in range(80)], matrix.astype(np.float32))
    marked = outliers(frame, 3, exact_below=exact_below)
    assert marked["outlier"].dtype == bool and sorted(np.flatnonzero(marked["outlier"])) == planted
    assert outliers(frame, 0, exact_below=exact_below)["outlier"].sum() == 0


def test_the_index_finds_the_exact_nearest_rows() -> None:
    pytest.importorskip("usearch")
    matrix = clustered(500)
    exact, exact_scores = neighbour_table(matrix, 5, exact_below=10**9)
    indexed, index_scores = neighbour_table(matrix, 5, exact_below=0)
    assert (exact != np.arange(500)[:, None]).all() and (indexed != np.arange(500)[:, None]).all()
    assert np.mean(exact[:, 0] == indexed[:, 0]) > 0.98
    assert np.allclose(exact_scores[:, 0], index_scores[:, 0], atol=1e-3)


def test_bad_values_are_refused_plainly() -> None:
    frame = embedding_frame(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="above 0, up to 1"):
        dedupe(frame, 2.0)
    with pytest.raises(ValueError, match="at least 0"):
        outliers(frame, -1)


def test_a_frame_of_one_row_has_no_duplicates_and_no_neighbours() -> None:
    frame = embedding_frame(["alone"], np.ones((1, 4), dtype=np.float32))
    assert dedupe(frame, 0.5)["duplicate_of"].isna().all()
    assert not outliers(frame, 1)["outlier"].any()


@pytest.mark.parametrize("exact_below", [10**9, 0], ids=["exact", "index"])
def test_a_row_without_a_vector_is_nobodys_duplicate_nor_an_outlier(exact_below: int) -> None:
    """A partial frame (a failed request's rows NaN) gives NA and False there, and the others' answers
    are those of the frame without them."""
    if not exact_below:
        pytest.importorskip("usearch")
    rng = np.random.default_rng(1)
    matrix = np.repeat(rng.standard_normal((1, 24)), 80, axis=0) + 0.1 * rng.standard_normal((80, 24))
    matrix[[3, 44]] = rng.standard_normal((2, 24)) * 5
    matrix[20] = matrix[10]
    matrix[[7, 60]] = np.nan
    frame = embedding_frame([f"t{i}" for i in range(80)], matrix.astype(np.float32))
    marked = outliers(dedupe(frame, 0.9999, exact_below=exact_below), 4, exact_below=exact_below)
    assert marked["duplicate_of"].dropna().to_dict() == {20: 10}
    assert sorted(np.flatnonzero(marked["outlier"])[:2]) == [3, 44] and not marked["outlier"][[7, 60]].any()
    positions, scores = neighbour_table(matrix, 3, exact_below)
    assert (positions[[7, 60]] == -1).all() and not np.isin(positions, [7, 60]).any()


def test_a_threshold_of_zero_or_below_is_refused() -> None:
    frame = embedding_frame(["a", "b"], np.eye(2, dtype=np.float32))
    for threshold in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="above 0"):
            dedupe(frame, threshold)
