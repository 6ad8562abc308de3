"""Embeddings at scale: planning requests, direct concurrent jobs (paced by `jobs/`), the
persistent cache, embedding jobs for the Batch API, nearest-neighbour search (exact, or an index kept
beside the cache) and hygiene (`dedupe`, `outliers`). Imported on first use (it needs numpy)."""

from __future__ import annotations

from typing import Any

from ..jobs.estimates import estimate_tokens  # its home is jobs/; named here too, as it was before
from .direct import EmbeddingJobError, embed_texts
from .hygiene import dedupe, outliers
from .planning import Batch, check_texts, plan_batches

__all__ = ["Batch", "plan_batches", "embed_texts", "EmbeddingJobError", "check_texts", "estimate_tokens",
           "dedupe", "outliers", "explore"]


def explore(frame: Any, **options: Any) -> Any:
    """An `Explorer` of an embedding frame: its map, clusters, selection and neighbours (the
    options and what comes back: `oai_magics.display.explorer.explore`)."""
    from ..display.explorer import explore as explore_frame  # the map is shown by display/, loaded on first use

    return explore_frame(frame, **options)
