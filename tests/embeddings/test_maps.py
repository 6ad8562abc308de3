"""Maps and clusters of embeddings: deterministic for a seed, one line for a wrong choice."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

from oai_magics.embeddings.maps import MissingExtra, central_rows, clusters, map_2d, parse_clusters, unit_rows
from oai_magics.local_errors import LocalError


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """Three tight groups of 40 vectors in 64 dimensions, around three random directions."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(3, 64))
    return np.vstack([centre + 0.05 * rng.normal(size=(40, 64)) for centre in centres]).astype(np.float32)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_the_same_seed_gives_the_same_map(blobs: np.ndarray, method: str) -> None:
    first, again = map_2d(blobs, method, seed=3), map_2d(blobs, method, seed=3)
    assert first.shape == (120, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)


def test_kmeans_and_hdbscan_find_the_groups_the_same_way_each_time(blobs: np.ndarray) -> None:
    truth = np.repeat([0, 1, 2], 40)
    for spec in (3, "auto"):
        labels = clusters(blobs, spec, seed=0)
        np.testing.assert_array_equal(labels, clusters(blobs, spec, seed=0))
        assert labels.dtype == np.int64
        # one label per group and a different one for each (whatever numbers they got)
        assert len({tuple(np.unique(labels[truth == g])) for g in range(3)}) == 3
        assert all(len(np.unique(labels[truth == g])) == 1 for g in range(3))


def test_another_seed_can_give_other_cluster_numbers_but_not_other_groups(blobs: np.ndarray) -> None:
    a, b = clusters(blobs, 3, seed=0), clusters(blobs, 3, seed=5)
    pairs = set(zip(a.tolist(), b.tolist()))
    assert len(pairs) == 3  # the same partition, perhaps renumbered


def test_central_rows_are_the_nearest_to_the_centre() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0.5, 0.5], [0, 1]], dtype=np.float32)
    labels = np.array([0, 0, 0, 1])
    assert list(central_rows(unit_rows(vectors), labels, 0, 2)) == [1, 0]


@pytest.mark.parametrize("text, expected", [("4", 4), ("auto", "auto"), (" AUTO ", "auto")])
def test_cluster_counts(text: str, expected: Any) -> None:
    assert parse_clusters(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "many", "2.5"])
def test_bad_cluster_counts(text: str) -> None:
    with pytest.raises(ValueError, match="--clusters takes"):
        parse_clusters(text)


def test_an_unknown_map_is_one_line(blobs: np.ndarray) -> None:
    with pytest.raises(LocalError, match="no map 'mds': choose one of pca, umap, tsne"):
        map_2d(blobs, "mds")


@pytest.mark.parametrize("module, call, message", [
    ("umap", lambda v: map_2d(v, "umap"), "--map umap needs umap-learn"),
    ("sklearn", lambda v: clusters(v, 3), "--clusters needs scikit-learn"),
])
def test_a_missing_library_names_the_extra(blobs: np.ndarray, monkeypatch: Any, module: str, call: Any,
                                           message: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(MissingExtra, match=message) as caught:
        call(blobs)
    assert "pip install 'oai-magics[explore]'" in caught.value.line()


def test_a_large_matrix_gets_the_same_principal_components_without_an_svd() -> None:
    from oai_magics.frames import SVD_UP_TO, principal_components

    rng = np.random.default_rng(2)
    spread = np.concatenate([[10.0, 6.0, 4.0], np.linspace(1.5, 0.1, 397)])  # three clear main axes, as topics give
    matrix = (rng.normal(size=(1000, 400)) * spread + rng.normal(size=400)).astype(np.float32)
    assert matrix.size > SVD_UP_TO  # the covariance path
    centred = matrix - matrix.mean(axis=0)
    _, _, axes = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    expected = centred @ axes[:3].T
    found = principal_components(matrix, 3)
    np.testing.assert_allclose(np.abs(found), np.abs(expected), rtol=1e-3, atol=1e-3)  # an axis may point either way


def test_layout_gives_the_map_and_clusters_of_one_projection(blobs: np.ndarray) -> None:
    from oai_magics.embeddings.maps import layout

    unit = unit_rows(blobs)
    coords, labels = layout(unit, "pca", 3, seed=0)
    np.testing.assert_allclose(coords, map_2d(unit, "pca"), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(labels, clusters(unit, 3, seed=0))


@pytest.mark.parametrize("spec, message", [(0, "1 or more, not 0"), (-3, "1 or more, not -3"),
                                           ("many", "a number or auto, not 'many'"), (2.5, "not '2.5'")])
def test_a_wrong_cluster_count_from_code_is_one_line(blobs: np.ndarray, spec: Any, message: str) -> None:
    from oai_magics.embeddings.maps import layout

    with pytest.raises(LocalError, match=message):
        clusters(blobs, spec)
    with pytest.raises(LocalError, match=message):
        layout(unit_rows(blobs), "pca", spec)


def test_rows_all_alike_make_one_cluster_without_a_warning() -> None:
    import warnings

    alike = np.tile(np.random.default_rng(0).normal(size=(1, 16)), (20, 1)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set(clusters(alike, 8)) == {0}
