"""JSON listings, conversations and embedding matrices as pandas DataFrames.

Timestamps (`created`, `created_at`, ...) become timezone-aware datetimes, nested objects stay as
they are, and the `id` column comes first, so a listing reads well and still holds everything.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["listing_frame", "embedding_frame", "similarity_frame", "TIME_FIELDS"]

TIME_FIELDS = ("created", "created_at", "updated_at", "completed_at", "started_at", "cancelled_at", "failed_at",
               "expires_at", "expired_at", "incomplete_at", "finished_at", "time")
FIRST = ("id", "object", "status", "name", "model")


def listing_frame(items: Iterable[dict]) -> pd.DataFrame:
    """One row per object, id first, epoch-second fields as UTC datetimes."""
    rows = list(items)
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=["id"])
    for column in frame.columns:
        if column in TIME_FIELDS and pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    first = [c for c in FIRST if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def embedding_frame(texts: Sequence[str], matrix: np.ndarray, index: Any = None) -> pd.DataFrame:
    """`text` plus one float32 column per dimension (e0, e1, ...), one row per input.

    The matrix becomes the frame's float block as it is: pandas copies a 2-D array given to the
    constructor unless told not to, and for 100,000 x 1,536 vectors that copy is 614 MB.
    """
    vectors = pd.DataFrame(np.asarray(matrix, dtype=np.float32), columns=[f"e{i}" for i in range(matrix.shape[1])],
                           index=index if index is not None else pd.RangeIndex(len(texts)), copy=False)
    vectors.insert(0, "text", text_column(texts, vectors.index))
    return vectors


def text_column(texts: Sequence[str], index: Any) -> pd.Series:
    """Texts as pandas' string column, or as objects when one cannot be stored as UTF-8.

    With pyarrow installed, pandas keeps strings in Arrow, which refuses a lone surrogate (a name
    read from a file with `surrogateescape`); such a text is still the user's and stays as it is.
    """
    try:
        return pd.Series(list(texts), index=index)
    except UnicodeEncodeError:
        return pd.Series(list(texts), index=index, dtype=object)


def vectors_of(frame: pd.DataFrame) -> np.ndarray:
    """The embedding matrix back out of an embedding frame."""
    columns = [c for c in frame.columns if isinstance(c, str) and c.startswith("e") and c[1:].isdigit()]
    return frame[columns].to_numpy(dtype=np.float32)


def similarity_frame(frame: pd.DataFrame, query_vector: np.ndarray, top: int | None = None) -> pd.DataFrame:
    """The inputs ranked by cosine similarity to a query vector."""
    matrix = vectors_of(frame)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query_vector) or 1.0)
    scores = matrix @ query_vector / np.where(norms == 0, 1.0, norms)
    ranked = pd.DataFrame({"text": frame["text"], "similarity": scores.astype(np.float32)}, index=frame.index)
    ranked = ranked.sort_values("similarity", ascending=False)
    return ranked.head(top) if top else ranked


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """The rows projected on their two main axes (a 2-D map of the embeddings)."""
    return principal_components(matrix, 2)


SVD_UP_TO = 200_000  # values (rows x dimensions) up to which the centred rows' SVD is instant (130 texts of 1,536)


def principal_components(matrix: np.ndarray, count: int) -> np.ndarray:
    """The rows projected on their `count` main axes, as float32 (zeros past the data's rank).

    A small matrix is centred and decomposed (SVD: the most accurate). A large one is projected on
    the top eigenvectors of its d x d covariance instead, so no centred copy and no n x d factor is
    made: for 100,000 x 1,536 vectors the SVD holds two extra 614 MB matrices and takes minutes,
    the covariance one 9 MB matrix and seconds (squaring the data costs digits a map never shows).
    """
    matrix = np.asarray(matrix)
    if len(matrix) < 2:
        return np.zeros((len(matrix), count), dtype=np.float32)
    if matrix.size <= SVD_UP_TO:
        centred = matrix - matrix.mean(axis=0, keepdims=True)
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        coords = centred @ axes[:count].T
    else:
        mean = matrix.mean(axis=0, dtype=np.float64)
        covariance = (matrix.T @ matrix).astype(np.float64) / len(matrix) - np.outer(mean, mean)
        top = _main_axes(covariance, count).astype(np.float32 if matrix.dtype == np.float32 else np.float64)
        coords = matrix @ top - (mean @ top).astype(top.dtype)
    coords = np.asarray(coords, dtype=np.float32)
    if coords.shape[1] < count:
        coords = np.pad(coords, ((0, 0), (0, count - coords.shape[1])))
    return coords


def _main_axes(covariance: np.ndarray, count: int, rounds: int = 6) -> np.ndarray:
    """The `count` main eigenvectors (columns) of a covariance matrix, by subspace iteration from a
    fixed start: a full `eigh` of 1,536 x 1,536 finds all 1,536 and takes seconds; a few products
    with a thin block find the leading ones to the precision a map needs, in milliseconds."""
    size = covariance.shape[0]
    width = min(size, count + 20)  # a margin of extra directions: the leading ones settle faster
    block = np.random.default_rng(0).standard_normal((size, width))
    for _ in range(rounds):
        block, _ = np.linalg.qr(covariance @ block)
    values, vectors = np.linalg.eigh(block.T @ covariance @ block)  # width x width: small
    return block @ vectors[:, ::-1][:, :count]
