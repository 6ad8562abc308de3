"""The explorer's interactive map: a jupyter-scatter plot (WebGL, lasso and box selection, hover
tooltips, zoom and pan, colour by a column) with a search box above it and the nearest neighbours of
a clicked point below it, composed as one ipywidgets box.

jupyter-scatter is an anywidget whose JavaScript ships inside its wheel, so the map works offline in
JupyterLab, Notebook 7, VS Code and Colab alike. Everything here is imported on first use.
"""

from __future__ import annotations

import html
from typing import Any, Callable

import numpy as np

__all__ = ["MapView", "interactive_unavailable", "cluster_labels"]

SEARCH_LIMIT = 2000  # matches selected at most: a search for "e" must not select the whole map
NEIGHBOURS = 8  # listed under the map for a clicked point
CATEGORIES_MAX = 40  # a column with more distinct values than this is coloured on a scale


def interactive_unavailable() -> str:
    """Why the interactive map cannot be shown here ('' when it can)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:  # asked first: it costs no import
        return "no widget front end here (widgets need a Jupyter kernel)"
    try:
        import anywidget  # noqa: F401
        import jscatter  # noqa: F401
    except ImportError:
        return "the interactive map needs jupyter-scatter: pip install 'oai-magics[explore]'"
    return ""


class MapView:
    """The widget of one explorer. `neighbours(position, k)` gives the positions and similarities
    of a point's nearest neighbours (the explorer's exact search)."""

    def __init__(self, frame: Any, text: str, color_by: str, hover: list[str],
                 neighbours: Callable[[int, int], tuple[np.ndarray, np.ndarray]]) -> None:
        import ipywidgets as widgets
        import jscatter

        self._texts = frame[text].astype(str)
        self._lower = self._texts.str.lower()
        self._neighbours = neighbours
        plotted = _plot_frame(frame, text, color_by, hover)
        self.notes = _missing_on_scale(plotted, color_by)  # lines to show with the map
        self.scatter = jscatter.Scatter(
            data=plotted, x="x", y="y", x_scale=_padded(plotted["x"]), y_scale=_padded(plotted["y"]),
            color_by=color_by, legend=True, height=520, axes=False,
            tooltip=True, tooltip_properties=[c for c in dict.fromkeys([color_by, *hover, "cluster"]) if c != text],
            tooltip_preview=text,
            tooltip_preview_text_lines=4)
        # continuous_update off: the value changes on Enter (or leaving the box), not on every key
        self.search = widgets.Text(placeholder="search the texts, then Enter: matches are selected",
                                   continuous_update=False, layout=widgets.Layout(width="60%"))
        self.status = widgets.HTML()
        self.listing = widgets.HTML()
        self.search.observe(lambda change: self.find(change["new"]), names=["value"])
        self.scatter.widget.observe(self._selected, names=["selection"])
        self.box = widgets.VBox([widgets.HBox([self.search, self.status]), self.scatter.widget, self.listing])

    def positions(self) -> np.ndarray:
        """The row positions selected in the page (lasso, box, click or search)."""
        chosen = self.scatter.widget.selection
        return np.asarray([] if chosen is None else chosen, dtype=np.int64)

    def find(self, query: str) -> int:
        """Select the texts that contain `query` (any case); how many matched."""
        query = query.strip().lower()
        if not query:
            self.scatter.selection(None)
            self.status.value = ""
            return 0
        found = np.flatnonzero(self._lower.str.contains(query, regex=False).to_numpy())
        self.scatter.selection(found[:SEARCH_LIMIT])
        shown = f" (the first {SEARCH_LIMIT} selected)" if len(found) > SEARCH_LIMIT else ""
        self.status.value = f"&nbsp;{len(found)} match{'es' if len(found) != 1 else ''}{shown}"
        return len(found)

    def _selected(self, change: dict) -> None:
        """One point chosen (a click): list its neighbours; otherwise say how many are selected."""
        chosen = change.get("new")
        count = 0 if chosen is None else len(chosen)
        if count != 1:
            self.listing.value = f"<small>{count} selected: <code>explorer.selection()</code> has them</small>" if count else ""
            return
        position = int(chosen[0])
        rows, scores = self._neighbours(position, NEIGHBOURS)
        items = "".join(f"<li>{score:.3f} · {html.escape(_short(self._texts.iloc[row]))}</li>"
                        for row, score in zip(rows, scores))
        self.listing.value = (f"<b>{html.escape(_short(self._texts.iloc[position]))}</b>"
                              f"<br><small>nearest neighbours (cosine)</small><ol>{items}</ol>")


def _plot_frame(frame: Any, text: str, color_by: str, hover: list[str]) -> Any:
    """The columns the plot needs, the colour column as categories when it has few values (a legend
    of clusters, not a colour scale from -1 to 11)."""
    import pandas as pd

    columns = list(dict.fromkeys(["x", "y", text, color_by, *hover, "cluster"]))
    plotted = frame[columns].reset_index(drop=True)
    # '3 · name' in the tooltip whatever the colour shows: coloured by another column, a hover
    # still says which cluster the point is in.
    plotted["cluster"] = cluster_labels(frame).reset_index(drop=True)
    for column in hover:
        if plotted[column].dtype == object:  # dicts and lists: the tooltip showed "[object Object]"
            plotted[column] = plotted[column].map(_shown)
    colour = plotted[color_by]
    if not isinstance(colour.dtype, pd.CategoricalDtype) and colour.nunique(dropna=False) <= CATEGORIES_MAX:
        plotted[color_by] = _categories(colour)
    return plotted


def _missing_on_scale(plotted: Any, color_by: str) -> list[str]:
    """Rows without a value in a colour column drawn on a scale, given its lowest value (in place),
    and the line that says so. jupyter-scatter would give them 0 with a warning under the cell, and
    a 0 below the column's values stretches the scale."""
    import pandas as pd

    colour = plotted[color_by]
    if isinstance(colour.dtype, pd.CategoricalDtype) or not colour.isna().any():
        return []
    lowest = colour.min()
    plotted[color_by] = colour.fillna(lowest)
    return [f"{int(colour.isna().sum())} rows have no {color_by}: drawn in the colour of its lowest value ({lowest:g})"]


def _categories(colour: Any) -> Any:
    """The column as categories for the legend, in the order of its values: numbers by size (as
    text, 10 came before 2) and labels alphabetically, "(missing)" last."""
    import pandas as pd

    labels = colour.astype("string")
    pairs = pd.DataFrame({"value": colour, "label": labels}).dropna().drop_duplicates("label")
    by = "value" if pd.api.types.is_numeric_dtype(colour) else "label"
    order = pairs.sort_values(by, kind="stable")["label"].tolist()
    return pd.Categorical(labels.fillna("(missing)"), categories=[*order, *(["(missing)"] if labels.isna().any() else [])])


def _shown(value: Any) -> Any:
    """A hover value as the tooltip can show it: a dict or list as its JSON, anything else as it is."""
    import json

    if isinstance(value, (dict, list, tuple, set)):
        return json.dumps(list(value) if isinstance(value, set) else value, ensure_ascii=False, default=str)
    return value


def _padded(values: Any, share: float = 0.08) -> tuple[float, float]:
    """The axis range with a margin: points on the edge of the map would be cut in half."""
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * share or 1.0
    return low - margin, high + margin


def cluster_labels(frame: Any) -> Any:
    """'3 · name' for each row (the number alone where the cluster has no name): a legend that reads."""
    numbers = frame["cluster"].astype("string")
    names = frame["cluster_name"].fillna("")
    return numbers.where(names == "", numbers + " · " + names)


def _short(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
