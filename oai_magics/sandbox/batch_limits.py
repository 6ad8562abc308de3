"""The Batch API's per-batch limits, and the errors that fail a batch over one of them.

The 2026 spec (`CreateBatchRequest`): an input file "can contain up to 50,000 requests, and can be
up to 200 MB in size", and "`/v1/embeddings` batches are also restricted to a maximum of 50,000
embedding inputs across all requests in the batch". The 200 MB are binary: the API's own error names
the limit in bytes, "The batch input file is larger than the 209715200 maximum for the gpt-4o model",
and 209,715,200 = 200 x 1024 x 1024. A batch over a limit fails at validation, its `errors` saying
which limit, as every other problem of the input file does.

The limits are settings of the sandbox (`start(batch_limits=...)`), so a splitter can be tried
against small ones without writing 200 MB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BatchLimits", "file_too_large", "over_limits", "embedding_inputs"]

EMBEDDINGS = "/v1/embeddings"


@dataclass(frozen=True)
class BatchLimits:
    """What one batch may hold; the defaults are the API's."""

    requests: int = 50_000  # request lines per input file
    embedding_inputs: int = 50_000  # inputs over all the requests of an embeddings batch
    file_bytes: int = 200 * 1024 * 1024  # bytes per input file: 200 MB, binary (209,715,200)


def file_too_large(path: Path, limits: BatchLimits) -> dict | None:
    """The error of an input file over the size limit, in the API's words (which name the model of
    its first request), or None. Only the first line is read: the rest may be hundreds of MB."""
    if path.stat().st_size <= limits.file_bytes:
        return None
    with open(path, "rb") as handle:
        first = handle.readline()
    return _error("file_too_large", f"The batch input file is larger than the {limits.file_bytes} maximum for the "
                                    f"{_model(first)} model. Please try again with a smaller batch.")


def over_limits(lines: list[dict], endpoint: str, limits: BatchLimits) -> list[dict]:
    """The errors of valid request lines that are too many for one batch, or hold too many inputs."""
    errors = []
    if len(lines) > limits.requests:
        errors.append(_error("too_many_requests", f"A batch may hold at most {limits.requests} requests; "
                                                  f"this file has {len(lines)}."))
    if endpoint == EMBEDDINGS:
        inputs = sum(embedding_inputs(line["body"]) for line in lines)
        if inputs > limits.embedding_inputs:
            errors.append(_error("too_many_embedding_inputs",
                                 f"A /v1/embeddings batch may hold at most {limits.embedding_inputs} embedding inputs "
                                 f"across all its requests; this file has {inputs}."))
    return errors


def embedding_inputs(body: dict) -> int:
    """How many inputs one embeddings request holds: a string or one token array is one input, a
    list of strings or of token arrays one per item."""
    value = body.get("input")
    if isinstance(value, list) and not (value and all(isinstance(item, int) for item in value)):
        return len(value)
    return 1


def _model(line: bytes) -> str:
    try:
        model: Any = json.loads(line)["body"]["model"]
    except (ValueError, KeyError, TypeError):
        return "requested"
    return model if isinstance(model, str) else "requested"


def _error(code: str, message: str) -> dict:
    """A file-wide error: it names no parameter and no line."""
    return {"code": code, "message": message, "param": None, "line": None}
