"""Embeddings, asked for as base64 and decoded straight into one float32 matrix."""

from __future__ import annotations

from typing import Any

from ..errors import APIError, APIResponseValidationError
from .base import Resource

__all__ = ["Embeddings", "EmbeddingResult"]


class EmbeddingResult(dict):
    """The server's JSON, unchanged, plus `.matrix`: one float32 row per input, in input order."""

    @property
    def matrix(self) -> Any:
        if "_matrix" not in self.__dict__:
            self.__dict__["_matrix"] = decode_matrix(self.get("data") or [])
        return self.__dict__["_matrix"]


def decode_matrix(items: list[dict]) -> Any:
    """Stack embeddings (base64 little-endian float32 or float lists) ordered by `index`.

    Each vector is decoded straight into its row of one preallocated float32 matrix. Decoding is
    most of the client's work on a big batch (16 MB of base64 for 2,048 x 1,536), so it goes
    through pybase64's SIMD decoder, about ten times faster than the standard library's.
    """
    import numpy as np  # first use only: keeps `import oai_magics.client` light

    ordered = sorted(items, key=lambda item: item.get("index", 0))
    matrix = None
    for row, item in enumerate(ordered):
        vector = item.get("embedding")
        if isinstance(vector, str):
            values = _from_base64(vector)
            if values is None:  # raised here, outside the decoder's except block, so it has no context
                raise APIError(f"embedding {item.get('index')} is not base64 of float32 values")
        elif isinstance(vector, list):
            values = np.asarray(vector, dtype=np.float32)
        else:
            raise APIError(f"embedding {item.get('index')} has no vector")
        if matrix is None:
            matrix = np.empty((len(ordered), values.shape[0]), dtype=np.float32)
        elif values.shape[0] != matrix.shape[1]:
            raise APIError("the embeddings in one answer have different lengths")
        matrix[row] = values
    return matrix if matrix is not None else np.zeros((0, 0), dtype=np.float32)


def _from_base64(vector: str) -> Any:
    """The float32 values a base64 string holds; None when it is not base64 of whole values."""
    import numpy as np
    from pybase64 import b64decode

    try:
        return np.frombuffer(b64decode(vector, validate=True), dtype="<f4")
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
        return result


def _is_tokens(inputs: list) -> bool:
    """One input given as token ids (a list of ints), not a list of inputs."""
    return bool(inputs) and all(isinstance(item, int) for item in inputs)
