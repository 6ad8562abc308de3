"""`%embed --query` at scale and `%embed --dedupe` / `--outliers`: the parts of %embed that search.

A query over a large input (`search.EXACT_BELOW` values or more) whose vectors are all cached is
answered from an indexed collection kept beside the cache (`embeddings.collections`): built on the
first query, brought up to date when texts are appended, and searched in milliseconds afterwards;
`%embed --query TEXT` with no input searches the collection indexed last for the model. Smaller
inputs, and any input without the `search` extra installed, are searched exactly.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

from IPython.core.error import UsageError

__all__ = ["a_cosine", "collection_name", "search_indexed", "search_collection", "search_latest", "query_vector", "exact_note", "tidy",
           "exact_below"]


def a_cosine(text: str) -> float:
    """An `@argument(type=a_cosine)` for --dedupe: a cosine similarity above 0, up to 1.

    Not 0 or below: a threshold there calls unrelated texts duplicates, and only each row's nearest
    `hygiene.DUPLICATE_CANDIDATES` are looked at, so most of the rows it would match were never
    compared: the column would be as wrong as it is useless."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a cosine similarity above 0, up to 1 (such as 0.95), got {text!r}") from None
    if not 0.0 < value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"expected a cosine similarity above 0, up to 1 (such as 0.95), got {text}")
    return value


def collection_name(args: Any) -> str:
    """What a collection is called: the variable (and column) it came from."""
    if args.input:
        return f"{args.input}[{args.column!r}]" if args.column else args.input
    return "%%embed cell"


def search_indexed(session: Any, args: Any, texts: Sequence[str], index: Any, model: str, cache_path: Path) -> Any:
    """The ranking through the collection of these very texts when it was indexed before, else None.
    Asked before anything else: a query over texts ranked once costs a hash of each text, not a
    check and a cache lookup of each (226 -> 44 ms a query at 50,000 texts; `benchmarks/search_scale.py`)."""
    from ..embeddings.cache import EmbeddingCache
    from ..embeddings.collections import Scope, fresh
    from ..embeddings.search import have_index

    # Texts only: pandas hashes a column holding a number as strings (7 as "7"), and the cache cannot
    # hash a NaN; %embed's own check names the rows that are not text.
    if args.no_cache or not have_index() or not texts or not all(isinstance(text, str) for text in texts):
        return None
    cache = EmbeddingCache(cache_path)
    try:
        collection = fresh(cache, Scope(session.client.base_url, model, args.dimensions), collection_name(args), texts, index)
    finally:
        cache.close()
    if collection is None:
        return None
    try:
        if collection.width * len(texts) < exact_below(session):  # the crossover was raised since: searched exactly
            return None
        return ranked(session, args, model, collection, "fresh", cache_path)
    finally:
        collection.close()


def search_collection(session: Any, args: Any, texts: Sequence[str], index: Any, model: str, cache_path: Path) -> Any:
    """The ranking of a large input through its indexed collection beside the cache file
    `cache_path`, or None when the input is small enough for exact search (or there is no cache to
    index, or no `search` extra)."""
    from ..embeddings import EmbeddingJobError, embed_texts
    from ..embeddings.cache import EmbeddingCache
    from ..embeddings.collections import Scope, refresh, vector_width
    from ..embeddings.search import have_index

    smallest = exact_below(session)
    # 3,072 is the widest OpenAI model (text-embedding-3-large): fewer texts are searched exactly, unread.
    if args.no_cache or not have_index() or len(texts) * (args.dimensions or 3072) < smallest:
        return None
    cache = EmbeddingCache(cache_path)
    try:
        server = session.client.base_url
        todo = cache.missing(server, model, args.dimensions, texts)
        if todo:  # fetched (paced, in batches) into the cache, from which the index is built
            try:
                embed_texts(session.client, [texts[r] for r in todo], model, dimensions=args.dimensions,
                            batch_size=args.batch_size, workers=args.workers, cache=cache)
            except EmbeddingJobError:  # the rows that came are cached; %embed's own path says what failed
                return None
        scope = Scope(server, model, args.dimensions)
        if vector_width(cache, scope, texts[0]) * len(texts) < smallest:
            return None
        collection, done = refresh(cache, scope, collection_name(args), texts, index)
    finally:
        cache.close()
    try:
        return ranked(session, args, model, collection, done, cache_path)
    finally:
        collection.close()


def search_latest(session: Any, args: Any, model: str, cache_path: Path) -> Any:
    """`%embed --query TEXT` with no input: the collection of this model indexed last beside the
    cache file `cache_path`."""
    from ..embeddings.collections import Scope, latest
    from ..embeddings.search import have_index

    if not have_index():
        raise UsageError(f"--query without texts searches an indexed collection, which needs the search extra: "
                         f"{_extra()}; or give the texts to rank (-i NAME)")
    collection = latest(cache_path, Scope(session.client.base_url, model, args.dimensions))
    if collection is None:
        raise UsageError(f"no collection of {model} is indexed yet: rank a large input once with "
                         f"-i NAME --query TEXT, and later queries need only --query")
    try:
        return ranked(session, args, model, collection, "kept", cache_path)
    finally:
        collection.close()


def ranked(session: Any, args: Any, model: str, collection: Any, done: str, cache_path: Path) -> Any:
    """The top rows of the collection for the query, shaped as `frames.similarity_frame` shapes
    them (`text`, `similarity`, the input's index), with a line saying they came from the index."""
    import pandas as pd

    query = query_vector(session, args, model, cache_path)
    if collection.width and len(query) != collection.width:
        raise UsageError(f"{collection.describe()} holds vectors of {collection.width} dimensions and the query's "
                         f"has {len(query)}: the model's vectors changed since; rank the texts again with -i NAME --query")
    positions, scores = collection.search(query, args.top)
    labels = collection.labels(positions)
    frame = pd.DataFrame({"text": collection.texts(positions), "similarity": scores},
                         index=labels if labels is not None else pd.Index(positions))
    how = {"built": "built now", "updated": "updated with the appended texts", "fresh": "up to date", "kept": "kept"}[done]
    print(f"from the approximate index of {collection.describe()}; {how}")
    return frame


def query_vector(session: Any, args: Any, model: str, cache_path: Path | None) -> Any:
    """The vector of --query, through the cache in `cache_path` when there is one (a query asked
    before is not sent again)."""
    from ..embeddings import embed_texts
    from ..embeddings.cache import EmbeddingCache

    cache = EmbeddingCache(cache_path) if cache_path is not None else None
    try:
        return embed_texts(session.client, [args.query], model, dimensions=args.dimensions, cache=cache,
                           progress=False)[0]
    finally:
        if cache is not None:
            cache.close()


def exact_note(session: Any, rows: int, width: int) -> None:
    """The one line said when a large input is searched exactly for want of the extra."""
    from ..embeddings.search import have_index

    if rows * width >= exact_below(session) and not have_index():
        print(f"searched exactly: {rows:,} vectors are searched much faster with an index, {_extra()}")


def tidy(session: Any, frame: Any, args: Any) -> Any:
    """The frame with `duplicate_of` (--dedupe) and `outlier` (--outliers) where asked for."""
    from ..embeddings.hygiene import dedupe, outliers

    if args.outliers is not None and args.outliers > len(frame):
        raise UsageError(f"--outliers {args.outliers} is more than the {len(frame):,} rows: every row would be one")
    if args.dedupe is not None:
        frame = dedupe(frame, args.dedupe, exact_below=exact_below(session))
    if args.outliers is not None:
        frame = outliers(frame, args.outliers, exact_below=exact_below(session))
    return frame


def exact_below(session: Any) -> int:
    """The crossover in use: `%config OAIMagics.exact_search_below`, else the measured one."""
    from ..embeddings.search import EXACT_BELOW

    return session.settings.exact_search_below or EXACT_BELOW


def _extra() -> str:
    from ..embeddings.search import SEARCH_EXTRA

    return SEARCH_EXTRA
