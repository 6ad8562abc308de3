"""Embeddings, asked for as base64 and decoded straight into one float32 matrix."""

from __future__ import annotations

import base64
from typing import Any

from ..errors import APIError
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
    """Stack embeddings (base64 little-endian float32 or float lists) ordered by `index`."""
    import numpy as np  # first use only: keeps `import oai_magics.client` light

    ordered = sorted(items, key=lambda item: item.get("index", 0))
    if not ordered:
        return np.zeros((0, 0), dtype=np.float32)
    rows = []
    for item in ordered:
        vector = item.get("embedding")
        if isinstance(vector, str):
            rows.append(np.frombuffer(base64.b64decode(vector), dtype="<f4"))
        elif isinstance(vector, list):
            rows.append(np.asarray(vector, dtype=np.float32))
        else:
            raise APIError(f"embedding {item.get('index')} has no vector")
    if len({row.shape[0] for row in rows}) != 1:
        raise APIError("the embeddings in one answer have different lengths")
    return np.vstack(rows).astype(np.float32, copy=False)


class Embeddings(Resource):
    def create(self, **params: Any) -> EmbeddingResult:
        """POST /embeddings; `encoding_format` defaults to base64 (4x smaller on the wire)."""
        params.setdefault("encoding_format", "base64")
        return EmbeddingResult(self._post("/embeddings", params))
