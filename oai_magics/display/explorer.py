"""The embeddings explorer: a map of the texts to look at, select from and ask about.

`explore(frame)` places every row on a 2-D map (`embeddings.maps`: PCA, UMAP or t-SNE), groups the
rows into clusters, optionally has a chat model name them (`embeddings.cluster_names`), and returns
an `Explorer`. Shown in a cell it is the interactive map (`explorer_view`); where widgets cannot be
shown (no Jupyter kernel, or jupyter-scatter not installed) a line says why and the static map of
`plots` is drawn instead, its points coloured the same way.

`Explorer.frame` holds the input's own columns (never the vector columns) and `x`, `y`, `cluster`
(Int64) and `cluster_name`; `selection()` the rows selected in the page; `neighbours(row, k)` the
nearest rows by exact cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..embeddings.maps import layout, unit_rows
from ..frames import vectors_of
from ..local_errors import LocalError

__all__ = ["Explorer", "explore", "explorer_frame"]

ADDED = ("x", "y", "cluster", "cluster_name")
DEFAULT_CLUSTERS = 8  # k-means clusters when none were asked for: a map with a handful of colours


class Explorer:
    """An explored set of embeddings: `.frame`, `.selection()`, `.neighbours(row, k)`, and the map
    when shown in a cell."""

    def __init__(self, frame: pd.DataFrame, vectors: np.ndarray, *, text: str = "text", color_by: str = "cluster",
                 hover: Sequence[str] = (), method: str = "pca", notes: Sequence[str] = ()) -> None:
        self.frame = frame
        self.text = text
        self.color_by = color_by
        self.hover = list(hover)
        self.method = method
        self.notes = list(notes)  # lines told once, with the map (clusters left unnamed, ...)
        self._unit = unit_rows(vectors)
        self._view: Any = None

    def __repr__(self) -> str:
        named = self.frame["cluster_name"].replace("", pd.NA).dropna().unique()
        return (f"<Explorer: {len(self.frame)} rows, {self.method} map, {self.frame['cluster'].nunique()} clusters"
                f"{' (' + ', '.join(map(str, named[:5])) + (', ...' if len(named) > 5 else '') + ')' if len(named) else ''}>")

    def selection(self) -> pd.DataFrame:
        """The rows selected in the map (lasso, box, click or search), live; none before it is shown."""
        positions = self._view.positions() if self._view is not None else np.empty(0, dtype=np.int64)
        return self.frame.iloc[np.sort(positions)]

    def select(self, rows: Sequence[Any]) -> None:
        """Select rows (index labels of `.frame`) in the shown map, as a lasso would."""
        if self._view is None:
            raise LocalError("the map is not shown yet: display the explorer first")
        positions = self.frame.index.get_indexer(list(rows))
        self._view.scatter.selection(positions[positions >= 0])

    def neighbours(self, row: Any, k: int = 10) -> pd.DataFrame:
        """The `k` rows nearest to `row` (an index label of `.frame`) by cosine similarity, nearest
        first, in a `similarity` column; exact, over every vector."""
        if row not in self.frame.index:
            raise LocalError(f"no row {row!r} in the explorer's frame")
        position = self.frame.index.get_loc(row)
        if not isinstance(position, (int, np.integer)):
            raise LocalError(f"the frame's index holds {row!r} more than once: neighbours need a unique row")
        positions, scores = self._nearest(int(position), k)
        found = self.frame.iloc[positions].copy()
        found["similarity"] = scores
        return found

    def _nearest(self, position: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, similarities) of the `k` nearest other rows."""
        if k < 1:
            raise LocalError(f"k must be 1 or more, not {k}")
        scores = self._unit @ self._unit[position]
        scores[position] = -np.inf  # a row is not its own neighbour
        k = min(k, len(scores) - 1)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top].astype(np.float32)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        from .explorer_view import MapView, interactive_unavailable

        for line in self.notes:
            print(line)
        why = interactive_unavailable()
        if why:
            print(f"{why}: here is the static map")
            try:
                self.static_map()
            except LocalError as exc:  # shown by IPython's display, outside any magic: one line, not a traceback
                print(exc.line())
            return
        if self._view is None:
            self._view = MapView(self.frame, self.text, self.color_by, self.hover, self._nearest)
            for line in self._view.notes:
                print(line)
        display(self._view.box)

    def static_map(self) -> Any:
        """The map as a PNG (display.plots), coloured like the interactive one; the figure."""
        from .explorer_view import cluster_labels
        from .plots import MAX_GROUPS, embedding_map

        labels = {"pca": ("PC 1", "PC 2"), "umap": ("UMAP 1", "UMAP 2"), "tsne": ("t-SNE 1", "t-SNE 2")}[self.method]
        shown = self.frame[[self.text]].rename(columns={self.text: "text"})
        colours = self.frame[self.color_by]
        if self.color_by == "cluster" and self.frame["cluster"].nunique() <= MAX_GROUPS:  # more: a colour scale
            colours = cluster_labels(self.frame).rename("cluster")
        return embedding_map(shown, colours, coords=self.frame[["x", "y"]].to_numpy(), axis_labels=labels)


def explorer_frame(frame: pd.DataFrame, coords: np.ndarray, labels: np.ndarray, names: dict[int, str]) -> pd.DataFrame:
    """The input's own columns (not the vectors) with `x`, `y`, `cluster` (Int64) and `cluster_name`."""
    vector_columns = set(c for c in frame.columns if isinstance(c, str) and c.startswith("e") and c[1:].isdigit())
    kept = frame[[c for c in frame.columns if c not in vector_columns and c not in ADDED]].copy()
    kept["x"] = coords[:, 0].astype(np.float32)
    kept["y"] = coords[:, 1].astype(np.float32)
    kept["cluster"] = pd.array(labels, dtype="Int64")
    kept["cluster_name"] = pd.array([names.get(int(c), "") for c in labels], dtype="string")
    return kept


def explore(frame: pd.DataFrame, *, vectors: np.ndarray | None = None, text: str = "text", method: str = "pca",
            clusters: int | str | None = None, name_clusters: bool = False, client: Any = None,
            model: str | None = None, cache_path: str | Path | None = None, cache: bool = True,
            color_by: str | None = None,
            hover: Sequence[str] = (), seed: int = 0) -> Explorer:
    """An Explorer of an embedding frame (`%embed`'s: a `text` column and e0, e1, ... vectors, plus any
    columns of your own). `vectors` (one row per frame row) replaces the frame's vector columns.

    `method`: "pca", "umap" or "tsne"; `clusters`: a number (k-means) or "auto" (HDBSCAN); None:
    DEFAULT_CLUSTERS, or one cluster (and a line saying why) where scikit-learn is not installed;
    `name_clusters`: ask `model` (default: the profile's chat model) through `client` (default:
    `Client()` from the environment) for a name per cluster, cached in `cache_path`'s SQLite file
    (default: the embedding cache's; `cache=False`: neither read nor kept); `color_by`: a column of `frame` (default: the cluster);
    `hover`: columns shown with the text; `seed`: the same seed gives the same map and clusters.
    """
    matrix = vectors_of(frame) if vectors is None else np.asarray(vectors, dtype=np.float32)
    _check(frame, matrix, text, color_by, hover)
    matrix = unit_rows(matrix)  # the map, the clusters and the neighbours all read directions
    notes: list[str] = []
    if clusters is None:
        clusters = _default_clusters(notes)
    coords, labels = layout(matrix, method, clusters, seed)
    names: dict[int, str] = {-1: "noise"} if (labels < 0).any() else {}
    if name_clusters:
        names, failures = _names(matrix, labels, frame[text].astype(str).tolist(), client, model,
                              cache_path if cache else None, cache)
        notes += failures
    explored = explorer_frame(frame, coords, labels, names)
    return Explorer(explored, matrix, text=text, color_by=color_by or "cluster", hover=hover, method=method,
                    notes=notes)


def _default_clusters(notes: list[str]) -> int:
    """DEFAULT_CLUSTERS where scikit-learn is installed; else one cluster, and a line in `notes`: the
    PCA map needs numpy alone, so a missing extra costs the colours, not the map."""
    from ..embeddings.maps import MissingExtra, require

    try:
        require("sklearn", "scikit-learn", "k-means clustering")
    except MissingExtra as missing:
        notes.append(f"{missing.line()}; every row is in one cluster")
        return 1
    return DEFAULT_CLUSTERS


def _check(frame: pd.DataFrame, matrix: np.ndarray, text: str, color_by: str | None, hover: Sequence[str]) -> None:
    """One line for each kind of input the explorer cannot take."""
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise LocalError("no vectors to explore: give an embedding frame (e0, e1, ... columns) or vectors=")
    if len(matrix) != len(frame):
        raise LocalError(f"{len(matrix)} vectors for {len(frame)} rows: give one vector per row")
    if len(frame) < 2:
        raise LocalError("a map needs at least 2 rows")
    if not np.isfinite(matrix).all():
        raise LocalError("some vectors are missing (NaN): embed those rows again before exploring")
    for name, what in [(text, "text column"), (color_by, "--color-by column"), *((h, "--hover column") for h in hover)]:
        if name is not None and name not in frame.columns:
            raise LocalError(f"no {what} {name!r} in the frame")
    if color_by is not None:
        try:
            frame[color_by].nunique(dropna=False)  # a colour is given per distinct value
        except TypeError:  # dicts or lists: no value to tell apart
            raise LocalError(f"--color-by {color_by!r} holds values that are not labels or numbers "
                             f"(such as {type(frame[color_by].iloc[0]).__name__}): colour by a column of those") from None


def _names(matrix: np.ndarray, labels: np.ndarray, texts: list[str], client: Any, model: str | None,
           cache_path: str | Path | None, cache: bool) -> tuple[dict[int, str], list[str]]:
    from ..embeddings.cache import default_cache_path
    from ..embeddings.cluster_names import NameCache, name_clusters
    from ..model_defaults import default

    own = client is None
    if own:
        from ..client import Client

        client = Client()
    names = NameCache(cache_path or default_cache_path()) if cache else None
    try:
        return name_clusters(client, model or default("chat"), matrix, labels, texts, cache=names)
    finally:
        if names is not None:
            names.close()
        if own:
            client.close()
