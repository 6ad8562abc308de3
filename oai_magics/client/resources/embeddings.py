"""Embeddings, asked for as base64 and decoded straight into one float32 matrix."""

from __future__ import annotations

from typing import Any

from ..errors import APIResponseValidationError
from .base import Resource

__all__ = ["Embeddings", "EmbeddingResult", "decode_matrix", "in_input_order"]


class EmbeddingResult(dict):
    """The server's JSON, unchanged, plus `.matrix`: one float32 row per input, in input order."""

    @property
    def matrix(self) -> Any:
        if "_matrix" not in self.__dict__:
            self.__dict__["_matrix"] = decode_matrix(self.get("data") or [])
        return self.__dict__["_matrix"]


def decode_matrix(items: list[dict], what: str = "POST /embeddings") -> Any:
    """Stack embeddings (base64 little-endian float32 or float lists) ordered by `index`.

    Each vector is decoded straight into its row of one preallocated float32 matrix. Decoding is
    most of the client's work on a big batch (16 MB of base64 for 2,048 x 1,536), so it goes
    through pybase64's SIMD decoder, about ten times faster than the standard library's. A vector
    that is not one is an `APIResponseValidationError` naming `what` (the endpoint).
    """
    import numpy as np  # first use only: keeps `import oai_magics.client` light

    ordered = in_input_order(items, what)
    matrix = None
    for row, item in enumerate(ordered):
        values = _vector(item.get("embedding"))
        if values is None:
            raise APIResponseValidationError(f"{what} answered with embedding {row} that is not a vector of numbers "
                                             f"(a list of them, or base64 of float32 values)")
        if matrix is None:
            matrix = np.empty((len(ordered), values.shape[0]), dtype=np.float32)
        elif values.shape[0] != matrix.shape[1]:
            raise APIResponseValidationError(f"{what} answered with embeddings of different lengths "
                                             f"({matrix.shape[1]} and {values.shape[0]})")
        matrix[row] = values
    return matrix if matrix is not None else np.zeros((0, 0), dtype=np.float32)


def in_input_order(items: list[dict], what: str = "POST /embeddings") -> list[dict]:
    """The items ordered by `index`, which must number them 0..n-1 once each: row i of the matrix is
    input i's, so an index repeated or out of range would give one input's vector to another.
    An answer with no index at all is taken in the order given."""
    if all("index" not in item for item in items):
        return items
    indexes = [item.get("index") for item in items]
    if sorted(i if type(i) is int else -1 for i in indexes) != list(range(len(items))):
        shown = ", ".join(map(str, indexes[:8])) + (", ..." if len(indexes) > 8 else "")
        raise APIResponseValidationError(f"{what} answered with embedding indexes {shown}, "
                                         f"not 0 to {len(items) - 1} once each")
    ordered: list[dict] = [{}] * len(items)
    for index, item in zip(indexes, items):
        ordered[index] = item
    return ordered


def _vector(vector: Any) -> Any:
    """One embedding as a float32 vector; None when it is not a flat, non-empty list of finite
    float32 numbers or base64 of them (NaN, or a value float32 cannot hold, would be cached as if real)."""
    import numpy as np

    if isinstance(vector, str):
        values = _from_base64(vector)
    elif isinstance(vector, list):
        try:  # a nested list among the numbers: not a vector
            values = np.asarray(vector)
        except (TypeError, ValueError):
            return None
        if values.dtype.kind not in "fi":  # strings ("0.1") and booleans are no numbers, though numpy would cast them
            return None
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
            values = values.astype(np.float32)
    else:
        return None
    if values is None or values.ndim != 1 or not values.size or not np.isfinite(values).all():
        return None
    return values


def _from_base64(vector: str) -> Any:
    """The float32 values a base64 string holds; None when it is not base64 of whole values."""
    import numpy as np
    from pybase64 import b64decode

    try:
        try:
            raw = b64decode(vector, validate=True)
        except ValueError:  # wrapped in lines, as base64.encodebytes writes it (the strict read is the fast one)
            raw = b64decode("".join(vector.split()), validate=True)
        return np.frombuffer(raw, dtype="<f4")
    except ValueError:  # a character outside base64, or a length that is no whole number of values
        return None


class Embeddings(Resource):
    def create(self, **params: Any) -> EmbeddingResult:
        """POST /embeddings; `encoding_format` defaults to base64 (4x smaller on the wire)."""
        params.setdefault("encoding_format", "base64")
        result = EmbeddingResult(self._post("/embeddings", params, fields={"data": list}))
        inputs = params.get("input")
        wanted = 1 if isinstance(inputs, str) or not isinstance(inputs, list) or _is_tokens(inputs) else len(inputs)
        if len(result["data"]) != wanted:  # each row of the matrix is some input's: a missing one shifts the rest
            raise APIResponseValidationError(f"POST /embeddings answered with {len(result['data'])} embeddings "
                                             f"for {wanted} input{'s' if wanted != 1 else ''}")
        in_input_order(result["data"])  # refused here, not on first use of `.matrix`
        return result


def _is_tokens(inputs: list) -> bool:
    """One input given as token ids (a list of ints), not a list of inputs."""
    return bool(inputs) and all(isinstance(item, int) for item in inputs)
