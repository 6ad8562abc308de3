"""Hygiene of an embedding frame: near-duplicate rows and outliers, each as a new column.

`dedupe(frame, threshold)` adds `duplicate_of`: the index label of the first (earliest) row that a
row nearly duplicates (cosine >= threshold), NA for a row that duplicates none before it.
`outliers(frame, count)` adds `outlier`: True for the `count` rows furthest from their neighbours
(the mean cosine distance to their `neighbours` nearest rows). Both compare every row with its
nearest ones: exactly for small frames, through an approximate index for large ones
(`search.neighbour_table`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .search import EXACT_BELOW, neighbour_table

__all__ = ["dedupe", "outliers", "DUPLICATE_CANDIDATES", "NEIGHBOURS"]

DUPLICATE_CANDIDATES = 16  # nearest rows looked at for an earlier duplicate (a row repeated more often keeps its first 16)
NEIGHBOURS = 10  # k of `outliers`: the mean distance to this many nearest rows


def dedupe(frame: Any, threshold: float, *, exact_below: int = EXACT_BELOW) -> Any:
    """A copy of the embedding frame with `duplicate_of` (module docstring)."""
    import pandas as pd

    from ..frames import vectors_of

    if not 0.0 < threshold <= 1.0:  # why not 0 or below: magics.embed_search.a_cosine
        raise ValueError(f"a near-duplicate threshold is a cosine above 0, up to 1, not {threshold}")
    positions, scores = neighbour_table(vectors_of(frame), DUPLICATE_CANDIDATES, exact_below)
    rows = np.arange(len(positions))[:, None]
    # An exact match's cosine can round to just below 1: a threshold of 1 means "the same vector".
    earlier = (positions >= 0) & (positions < rows) & (scores >= threshold - 1e-6)
    first = np.where(earlier, positions, len(positions)).min(axis=1, initial=len(positions))
    found = first < len(positions)
    labels = pd.Series(frame.index[np.where(found, first, 0)] if len(frame) else [], index=frame.index, dtype=object)
    column = labels.where(found, pd.NA)
    if pd.api.types.is_integer_dtype(frame.index.dtype):
        column = column.astype("Int64")
    return _with(frame, "duplicate_of", column)


def outliers(frame: Any, count: int, *, neighbours: int = NEIGHBOURS, exact_below: int = EXACT_BELOW) -> Any:
    """A copy of the embedding frame with `outlier` (module docstring)."""
    from ..frames import vectors_of

    if count < 0:
        raise ValueError(f"the number of outliers is at least 0, not {count}")
    positions, scores = neighbour_table(vectors_of(frame), neighbours, exact_below)
    known = (~np.isnan(scores)).sum(axis=1)  # a mean of what is there, NaN for a row with none (no warning)
    distance = np.nansum(1.0 - scores, axis=1) / np.where(known, known, np.nan) if scores.shape[1] else np.zeros(len(frame))
    marked = np.zeros(len(frame), dtype=bool)
    if count and scores.shape[1]:  # a row with no other beside it is no outlier of anything
        # A row without neighbours (its vector NaN: a failed request's) is unknown, not far: never marked.
        far = np.argsort(-np.nan_to_num(distance, nan=-np.inf), kind="stable")[:count]
        marked[far[np.isfinite(distance[far])]] = True
    return _with(frame, "outlier", marked)


def _with(frame: Any, name: str, values: Any) -> Any:
    """The frame with the column `name` after `text` (before the vectors), without copying the vectors twice."""
    result = frame.copy(deep=False)
    if name in result.columns:
        result = result.drop(columns=name)
    after = list(result.columns).index("text") + 1 if "text" in result.columns else 0
    result.insert(after, name, values)
    return result
