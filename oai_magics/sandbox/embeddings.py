"""Embeddings: hashed character n-grams and words, L2-normalised.

Texts that share words and letter sequences share features, so similar texts really are nearer
each other than unrelated ones, which is enough for similarity demos and tests. Deterministic.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import require_model
from .errors import invalid
from .textgen import count_tokens
from .web import json_body, optional, reject_unknown

MAX_INPUTS = 2048
MAX_TOKENS_PER_REQUEST = 300_000
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset("""a an the and or of to in on at for by with from is are was were be been it its this that as
into after before than then over under up down out our your their his her we you they i he she them us my me do does
did how what when where why who which will would can could should may might must not no so if but about all any some
more most such only own same too very just also""".split())


def features(text: str) -> list[tuple[str, float]]:
    """(feature, weight): content words weigh most, then their stems, then letter trigrams inside
    them, so "rocket" and "rockets" are near and function words count for little."""
    words = _WORD.findall(text.lower())
    content = [w for w in words if w not in STOPWORDS]
    found = [(f"w:{w}", 3.0) for w in content]
    found += [(f"s:{w[:5]}", 2.0) for w in content if len(w) > 5]
    for word in content:
        padded = f"<{word}>"
        found += [(f"c:{padded[i:i + 3]}", 0.5) for i in range(len(padded) - 2)]
    return found or [(f"w:{w}", 1.0) for w in words]  # a text of function words only still embeds


@functools.lru_cache(maxsize=8)
def projection(dims: int) -> np.ndarray:
    """A fixed random rotation-like matrix: it spreads the sparse hashed features over every
    dimension (as real embeddings are dense) while keeping their angles (Johnson-Lindenstrauss)."""
    rng = np.random.default_rng(dims)
    return (rng.standard_normal((dims, dims)) / np.sqrt(dims)).astype(np.float32)


def embed(text: str, dims: int, keep: int | None = None) -> np.ndarray:
    """The model's full vector; with `keep`, its first `keep` values renormalised, which is how
    the API shortens text-embedding-3 vectors when asked for fewer `dimensions`.

    Only the rows of the projection that the text's features hit are summed: a few dozen rows
    instead of a full matrix product, and the same result whichever batch the text arrives in."""
    weights: dict[int, float] = {}
    for feature, weight in features(text):
        value = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
        weights[value % dims] = weights.get(value % dims, 0.0) + (weight if (value >> 63) & 1 else -weight)
    rows = sorted(weights)
    vector = (np.array([weights[r] for r in rows], dtype=np.float32) @ projection(dims)[rows])[:keep]
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).astype(np.float32)


def inputs_of(value: object) -> list[str]:
    """The `input` parameter as texts: a string, strings, token ids or lists of token ids."""
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list) and value and all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        texts = [" ".join(map(str, value))]
    elif isinstance(value, list) and all(isinstance(v, (str, list)) for v in value):
        texts = [v if isinstance(v, str) else " ".join(map(str, v)) for v in value]
    else:
        raise invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
                      param="input")
    if not texts:
        raise invalid("'$.input' is invalid: an empty array. Please check the API reference.", param="input")
    if len(texts) > MAX_INPUTS:
        raise invalid(f"'$.input' is invalid: at most {MAX_INPUTS} inputs per request, got {len(texts)}.", param="input")
    for index, text in enumerate(texts):
        if text == "":
            raise invalid(f"'$.input' is invalid: input {index} is an empty string.", param="input")
    return texts


async def create(request: Request) -> Response:
    body = await json_body(request)
    reject_unknown(body, {"input", "model", "encoding_format", "dimensions", "user"})
    model = require_model(body.get("model"), ("embedding",))
    if "input" not in body:
        raise invalid("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    texts = inputs_of(body["input"])
    fmt = optional(body, "encoding_format", "string", "float", choices=("float", "base64"))
    keep = None
    if body.get("dimensions") is not None:
        if model.id == "text-embedding-ada-002":
            raise invalid("This model does not support specifying dimensions.", param="dimensions")
        keep = optional(body, "dimensions", "integer", minimum=1, maximum=model.dimensions)
    counts = [count_tokens(t) for t in texts]
    for index, count in enumerate(counts):
        if count > model.context:
            raise invalid(f"This model's maximum context length is {model.context} tokens, however you requested "
                          f"{count} tokens in input {index}. Please reduce your prompt.", param="input")
    if sum(counts) > MAX_TOKENS_PER_REQUEST:
        raise invalid(f"Requested {sum(counts)} tokens, max {MAX_TOKENS_PER_REQUEST} tokens per request", param="input",
                      code="max_tokens_per_request")
    data = []
    for index, vector in enumerate(embed(text, model.dimensions, keep) for text in texts):
        encoded = base64.b64encode(vector.astype("<f4").tobytes()).decode() if fmt == "base64" else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    total = sum(counts)
    return JSONResponse({"object": "list", "data": data, "model": model.id,
                         "usage": {"prompt_tokens": total, "total_tokens": total}})


ROUTES = [("/embeddings", create, ["POST"])]
