"""Where each embedding lands on a 2-D map, and which cluster it belongs to.

Maps: PCA (numpy alone, instant), UMAP (umap-learn) or t-SNE (scikit-learn); clusters: k-means for a
number, HDBSCAN for `auto` (its noise is cluster -1). Both come from the `explore` extra and are
imported on first use; a missing one is one line naming the extra. Every method is given the seed,
so the same vectors and seed give the same map and the same clusters.

UMAP, t-SNE and the clustering work on the vectors' first `REDUCED` principal components: embedding
models spread meaning over hundreds of dimensions, the neighbourhoods these methods read survive the
cut, and at 100,000 rows of 1,536 dimensions it turns minutes of distance computations into seconds.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..frames import principal_components
from ..local_errors import LocalError

__all__ = ["MAPS", "MissingExtra", "require", "layout", "map_2d", "clusters", "parse_clusters", "checked_clusters", "central_rows", "unit_rows"]

MAPS = ("pca", "umap", "tsne")
REDUCED = 50  # principal components kept before UMAP, t-SNE and clustering
EXTRA = "pip install 'oai-magics[explore]'"


class MissingExtra(LocalError, ImportError):
    """A map or clustering method whose library is not installed."""


def require(module: str, package: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{what} needs {package}, which is not installed: {EXTRA}") from None


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """The rows scaled to length 1 (a zero row stays zero), as float32: cosine becomes a dot product."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if np.allclose(norms, 1.0, atol=1e-4):  # an embedding model's vectors mostly are: no second copy
        return matrix
    return matrix / np.where(norms == 0, 1.0, norms)


def reduced(matrix: np.ndarray) -> np.ndarray:
    """The rows on their first REDUCED principal components (all of them, when fewer), main first."""
    return principal_components(matrix, min(REDUCED, matrix.shape[1]))


def layout(unit: np.ndarray, method: str, spec: int | str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(the map, the clusters) of rows of length 1, from one projection on their principal components:
    at 100,000 rows that projection is most of the work, and the PCA map is its first two columns."""
    _check_method(method)
    spec = checked_clusters(spec)  # before the projection: a wrong count is told at once
    points = reduced(unit)
    return _map(points, method, seed), _clusters(points, spec, seed)


def map_2d(matrix: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(n, 2) float32 coordinates of the rows by `method` (one of MAPS)."""
    _check_method(method)
    return _map(reduced(np.asarray(matrix, dtype=np.float32)), method, seed)


def _check_method(method: str) -> None:
    if method not in MAPS:
        raise LocalError(f"no map {method!r}: choose one of {', '.join(MAPS)}")


def _map(points: np.ndarray, method: str, seed: int) -> np.ndarray:
    """The map of rows given on their principal components (main first)."""
    if method == "pca" or len(points) < 4:  # too few points for a neighbourhood: the plain projection
        flat = points[:, :2]
        return np.pad(flat, ((0, 0), (0, 2 - flat.shape[1]))) if flat.shape[1] < 2 else flat.copy()
    if method == "umap":
        require("umap", "umap-learn", "--map umap")
        require("sklearn", "scikit-learn", "--map umap")
        import umap

        model = umap.UMAP(n_components=2, metric="cosine", random_state=seed, n_neighbors=min(15, len(points) - 1),
                          n_jobs=1)  # a seed makes UMAP run on one thread anyway; saying so keeps it quiet
        return model.fit_transform(points).astype(np.float32)
    require("sklearn", "scikit-learn", "--map tsne")
    from sklearn.manifold import TSNE

    model = TSNE(n_components=2, metric="cosine", init="pca", random_state=seed, perplexity=min(30.0, (len(points) - 1) / 3))
    return model.fit_transform(points).astype(np.float32)


def parse_clusters(value: str) -> int | str:
    """`--clusters`: a number of clusters (1 or more) or "auto"; a ValueError says what is wrong."""
    if value.strip().lower() == "auto":
        return "auto"
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"--clusters takes a number or auto, not {value!r}") from None
    if count < 1:
        raise ValueError(f"--clusters takes a number of 1 or more, not {count}")
    return count


def checked_clusters(spec: int | str) -> int | str:
    """`spec` as `parse_clusters` reads it, from code as from `--clusters`: a wrong one is one line
    here, not scikit-learn's parameter error."""
    try:
        return parse_clusters(str(spec))
    except ValueError as exc:
        raise LocalError(str(exc).replace("--clusters takes", "clusters takes")) from None


def clusters(matrix: np.ndarray, spec: int | str, seed: int = 0) -> np.ndarray:
    """The cluster of each row (int64): k-means into `spec` clusters, or HDBSCAN for "auto" (-1: noise)."""
    return _clusters(reduced(unit_rows(matrix)), checked_clusters(spec), seed)


def _clusters(points: np.ndarray, spec: int | str, seed: int) -> np.ndarray:
    """The clusters of rows given on their principal components."""
    if spec == 1:  # one cluster is every row: no k-means, so no scikit-learn, needed
        return np.zeros(len(points), dtype=np.int64)
    require("sklearn", "scikit-learn", "--clusters")
    if spec == "auto":
        from sklearn.cluster import HDBSCAN

        # A cluster is at least 1 % of the rows (and 5): below that a map of thousands is confetti.
        size = max(5, len(points) // 100)
        if len(points) < size:
            return np.full(len(points), -1, dtype=np.int64)
        return HDBSCAN(min_cluster_size=size, copy=True).fit_predict(points).astype(np.int64)
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    count = min(int(spec), len(points))
    with warnings.catch_warnings():
        # Rows that are all alike (the same text many times) make fewer clusters than asked: k-means
        # then gives as many as there are, which is the answer, not a warning under the cell.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(n_clusters=count, n_init=3, random_state=seed).fit_predict(points).astype(np.int64)


def central_rows(unit: np.ndarray, labels: np.ndarray, cluster: int, count: int) -> np.ndarray:
    """The positions of a cluster's `count` rows nearest its centre (cosine), nearest first."""
    members = np.flatnonzero(labels == cluster)
    centre = unit[members].mean(axis=0)
    closeness = unit[members] @ centre
    return members[np.argsort(-closeness, kind="stable")[:count]]
