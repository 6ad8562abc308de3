"""`%embed --explore` and the map options of `%embed --plot`: which flags go together, what the
explorer is given (the input DataFrame's own columns, or the texts), and the map drawn or returned.

The flags are declared on `%embed` itself (`embed.py`); this module reads them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from .common import read_variable

__all__ = ["MAP_FLAGS", "a_cluster_count", "check_map_flags", "map_wanted", "explore_embeddings", "plot_map"]

# (attribute, flag) of the options that shape a map: each needs --plot or --explore.
MAP_FLAGS = (("map", "--map"), ("clusters", "--clusters"), ("name_clusters", "--name-clusters"), ("seed", "--seed"),
             ("hover", "--hover"))


def a_cluster_count(text: str) -> int | str:
    """`--clusters K|auto`: a number of k-means clusters (1 or more), or auto (HDBSCAN)."""
    from ..embeddings.maps import parse_clusters

    try:
        return parse_clusters(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--clusters takes ")) from None


def check_map_flags(shell: Any, args: Any) -> Any:
    """Before anything is sent: the map flags go with --plot or --explore, --explore with neither
    --query nor --batch, --color-by and --hover name columns of the DataFrame input. The DataFrame
    input, or None."""
    if args.explore and (args.query or args.batch):
        raise UsageError(f"--explore returns the explorer: run {'--query' if args.query else '--batch'} on its own")
    if not (args.plot or args.explore):
        for attribute, flag in MAP_FLAGS:
            if getattr(args, attribute) not in (None, False, []):
                raise UsageError(f"{flag} goes with --plot or --explore")
    if args.color_by and not (args.plot or args.explore):
        raise UsageError("--color-by goes with --plot or --explore")
    value = read_variable(shell, args.input) if args.input else None
    table = value if hasattr(value, "columns") else None
    for flag, names in (("--color-by", [args.color_by] if args.color_by else []), ("--hover", args.hover or [])):
        if names and table is None:
            raise UsageError(f"{flag} needs a DataFrame input: -i NAME --column TEXT_COLUMN {flag} COLUMN")
        for name in names:
            if name not in table.columns:
                raise UsageError(f"{args.input} has no column {name!r}")
    return table


def map_wanted(args: Any) -> bool:
    """Whether the --plot map is the explorer's (a map method, clusters or names asked for) rather
    than the labelled PCA map `%embed --plot` always drew."""
    return bool(args.map or args.clusters is not None or args.name_clusters)


def explore_embeddings(magics: Any, args: Any, frame: Any, table: Any, cache_path: Path | None) -> Any:
    """The Explorer of `%embed`'s frame: the DataFrame input's own columns beside the map (its text
    column as given), or the texts alone."""
    from ..display.explorer import explore
    from ..frames import vectors_of

    source = frame[["text"]]
    text = "text"
    if table is not None:
        source = table.set_axis(frame.index, axis=0)
        text = args.column
    seed = args.seed if args.seed is not None else 0
    model = magics.session.model("chat") if args.name_clusters else None
    return explore(source, vectors=vectors_of(frame), text=text, method=args.map or "pca",
                   clusters=args.clusters,
                   name_clusters=args.name_clusters, client=magics.session.client, model=model,
                   cache_path=cache_path, cache=not args.no_cache, color_by=args.color_by, hover=args.hover or [], seed=seed)


def plot_map(magics: Any, args: Any, frame: Any, table: Any, cache_path: Path | None) -> None:
    """`--plot` with map options: the explorer's static map (its lines, then the PNG)."""
    explorer = explore_embeddings(magics, args, frame, table, cache_path)
    for line in explorer.notes:
        print(line)
    explorer.static_map()
