"""Plots: the 2-D map of a set of embeddings, shown as a PNG in any frontend.

Labels are placed so they neither collide nor leave the axes: for each point, in order, a ring of
candidate spots around it is tried (nearest first; further out the label hangs on a thin leader
line), and the first whose text box stays inside the axes and clears every placed label and every
point is taken. A label with no free spot is left out, and a note under the map says how many were. Points
can be coloured by a column: a few distinct values get a colour each and a legend, many numbers a
colour scale with a colour bar.

The first plot matplotlib ever draws on a machine lists every system font into a cache file, which
can take seconds to minutes and shows nothing; when that is about to happen a line says so, and the
map takes its place once drawn.
"""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path
from typing import Any

from ..local_errors import LocalError

__all__ = ["embedding_map", "place_labels", "MAX_LABELS", "MAX_GROUPS"]

MAX_LABELS = 80  # beyond this a map is a cloud: the loneliest points are labelled, the note counts the rest
MAX_GROUPS = 20  # distinct values that can each have a colour in one legend
FONT_SIZE = 8
POINT_SIZE = 24  # marker area in points², as scatter() takes it
# Candidate offsets of a label from its point, in points: nearest ring first, eight directions each.
RINGS = (5.0, 14.0, 26.0, 42.0, 60.0)
DIRECTIONS = tuple((math.cos(math.radians(a)), math.sin(math.radians(a))) for a in (30, -30, 150, -150, 90, -90, 0, 180))
FONT_CACHE_NOTE = "matplotlib is building its font cache (once, before its first plot): this can take a minute..."


class TooManyGroups(LocalError, ValueError):
    """The colour column has more distinct values than a legend can tell apart."""


def embedding_map(frame: Any, colors: Any = None, label_width: int = 28, *, coords: Any = None,
                  axis_labels: tuple[str, str] = ("PC 1", "PC 2")) -> Any:
    """Scatter the embeddings on their two main axes (PCA), each point labelled with its text.

    `colors` (optional) holds one value per row of `frame`, in its order: the points are coloured
    by it, with a legend named after it. `coords` (n x 2) places the points instead of PCA (a map
    made another way, named by `axis_labels`); `frame` then needs only its `text` column. The figure is drawn off-screen (no pyplot, no GUI backend)
    and displayed as a PNG image, so it shows the same in JupyterLab, a terminal with an image
    viewer, or an executed notebook.
    """
    import matplotlib
    from IPython.display import Image, display

    note = _font_cache_note()
    waiting = display({"text/plain": note}, raw=True, display_id=True) if note else None
    with matplotlib.rc_context({"text.parse_math": False}):  # "$5 $6" is a text to show, not TeX to typeset
        figure, png = _render_png(frame, colors, label_width, coords, axis_labels)
    if waiting is None:
        display(Image(data=png, format="png"))
    else:
        waiting.update(Image(data=png, format="png"))  # the map takes the note's place
    return figure


def _font_cache_note() -> str:
    """A line to show before the first plot matplotlib draws with no font cache yet ('' otherwise).

    Loading `matplotlib.font_manager` reads `fontlist-v<version>.json` from matplotlib's cache
    directory, or, when there is none, builds it by opening every font file of the system. Once
    the module is loaded, or such a file exists, the fonts are known and nothing needs saying.
    """
    if "matplotlib.font_manager" in sys.modules:
        return ""
    import matplotlib

    return "" if any(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json")) else FONT_CACHE_NOTE


def _render_png(frame: Any, colors: Any, label_width: int, coords: Any = None,
                axis_labels: tuple[str, str] = ("PC 1", "PC 2")) -> tuple[Any, bytes]:
    """The map's figure, and it as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..frames import pca_2d, vectors_of

    coords = pca_2d(vectors_of(frame)) if coords is None else coords
    figure = Figure(figsize=(8, 5.5), dpi=100)  # the label geometry is measured at the dpi it is saved at
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if colors is None:
        axes.scatter(coords[:, 0], coords[:, 1], s=POINT_SIZE, color="#3b7dd8", zorder=2)
    else:
        _scatter_coloured(figure, axes, coords, colors)
    axes.margins(0.12)  # room for the labels of the outermost points
    axes.set_xlabel(axis_labels[0])
    axes.set_ylabel(axis_labels[1])
    axes.set_title(f"{len(frame)} texts, first two principal components" if axis_labels[0] == "PC 1"
                   else f"{len(frame)} texts, {axis_labels[0].rsplit(' ', 1)[0]} map")
    figure.tight_layout()  # before the labels: they must not move the axes they were placed in
    texts = [_shorten(str(text), label_width) for text in frame["text"]]
    left_out = len(texts) - place_labels(axes, coords, texts, canvas.get_renderer())
    if left_out:  # in the corner below the axes: the layout is fixed by now, the title has no room to grow
        figure.text(0.99, 0.01, f"{left_out} label{'s' if left_out != 1 else ''} left out (no free space)",
                    ha="right", va="bottom", fontsize=FONT_SIZE, color="#666666")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return figure, buffer.getvalue()


def place_labels(axes: Any, coords: Any, texts: list[str], renderer: Any, limit: int = MAX_LABELS) -> int:
    """Annotate up to `limit` points where their labels fit, loneliest points first (a crowd's
    labels would otherwise take the room an outlier's needs); how many were placed."""
    import numpy as np
    from matplotlib.font_manager import FontProperties

    points = axes.transData.transform(coords)  # pixels
    frame_box = axes.get_window_extent(renderer)
    font = FontProperties(size=FONT_SIZE)
    scale = axes.figure.dpi / 72.0  # points to pixels
    half = math.sqrt(POINT_SIZE) * scale / 2 + 3  # half a marker, and a gap: a label must not seem another's
    obstacles = [np.column_stack([points - half, points + half])]  # x0, y0, x1, y1 per box, in pixels
    placed = 0
    for index in _loneliest_first(points)[:limit]:
        (x, y), anchor, text = points[index], coords[index], texts[index]
        width, height, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
        spot = _free_spot(x, y, width + 4, height + 2, scale, np.vstack(obstacles), frame_box)
        if spot is None:
            continue
        (dx, dy), ha, va, box = spot
        far = math.hypot(dx, dy) > RINGS[0] + 1
        label = axes.annotate(text, tuple(anchor), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                              fontsize=FONT_SIZE, zorder=3,
                              arrowprops={"arrowstyle": "-", "color": "#9a9a9a", "lw": 0.6} if far else None)
        label.set_in_layout(False)
        obstacles.append(np.array([box]))
        if far:  # later labels keep off this leader line
            obstacles.append(_leader_boxes(x, y, x + dx * scale, y + dy * scale))
        placed += 1
    return placed


def _free_spot(x: float, y: float, width: float, height: float, scale: float, obstacles: Any, frame: Any) -> Any:
    """The first candidate ((dx, dy) in points, ha, va, pixel box) inside the frame, clear of the
    obstacles, and (for a label away from its point) with a leader line that crosses none of them."""
    for ring in RINGS:
        for cos, sin in DIRECTIONS:
            dx, dy = ring * cos, ring * sin
            ha = "left" if cos > 0.3 else "right" if cos < -0.3 else "center"
            va = "bottom" if sin > 0.3 else "top" if sin < -0.3 else "center"
            left = x + dx * scale - {"left": 0.0, "center": width / 2, "right": width}[ha]
            bottom = y + dy * scale - {"bottom": 0.0, "center": height / 2, "top": height}[va]
            box = (left, bottom, left + width, bottom + height)
            inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
            if not inside or _overlaps(box, obstacles):
                continue
            if ring == RINGS[0] or not any(_overlaps(tuple(b), obstacles) for b in _leader_boxes(x, y, x + dx * scale, y + dy * scale)):
                return (dx, dy), ha, va, box
    return None


def _loneliest_first(points: Any, radius: float = 40.0, most: int = 3000) -> list[int]:
    """Point indices ordered by how many others lie within `radius` pixels (fewest first, stable);
    past `most` points the pairwise count would cost too much and the given order stays."""
    import numpy as np

    if len(points) > most:
        return list(range(len(points)))
    # Squared distances, summed in place: a tenth of the time of norm() over an (n, n, 2) array.
    squared = np.subtract.outer(points[:, 0], points[:, 0])
    squared *= squared
    dy = np.subtract.outer(points[:, 1], points[:, 1])
    squared += dy * dy
    return list(np.argsort(np.count_nonzero(squared < radius * radius, axis=1), kind="stable"))


def _leader_boxes(x0: float, y0: float, x1: float, y1: float, count: int = 8) -> Any:
    """Small boxes along a leader line, leaving out the stretch over its own point."""
    import numpy as np

    steps = np.linspace(0.35, 1.0, count)[:, None]
    centres = np.array([x0, y0]) + steps * np.array([x1 - x0, y1 - y0])
    return np.column_stack([centres - 1.0, centres + 1.0])


def _overlaps(box: tuple[float, float, float, float], boxes: Any) -> bool:
    return bool(((boxes[:, 0] < box[2]) & (box[0] < boxes[:, 2]) & (boxes[:, 1] < box[3]) & (box[1] < boxes[:, 3])).any())


def _scatter_coloured(figure: Any, axes: Any, coords: Any, colors: Any) -> None:
    """A colour per distinct value with a legend beside the axes; many numbers: a colour scale."""
    import numpy as np
    import pandas as pd

    values = pd.Series(list(colors))
    name = str(getattr(colors, "name", None) or "")
    groups = list(dict.fromkeys(values.where(values.notna(), "(missing)")))
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and len(groups) > 10:
        shown = axes.scatter(coords[:, 0], coords[:, 1], s=POINT_SIZE, c=values.to_numpy(dtype=float),
                             cmap="viridis", zorder=2)
        figure.colorbar(shown, ax=axes, label=name)
        return
    if len(groups) > MAX_GROUPS:
        raise TooManyGroups(f"{name or 'the colour column'} has {len(groups)} distinct values; "
                         f"at most {MAX_GROUPS} can each have a colour")
    palette = _palette(len(groups))
    keys = values.where(values.notna(), "(missing)")
    for colour, group in zip(palette, groups):
        mask = np.asarray(keys == group)
        axes.scatter(coords[mask, 0], coords[mask, 1], s=POINT_SIZE, color=colour, label=str(group), zorder=2)
    axes.legend(title=name or None, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                fontsize=FONT_SIZE, title_fontsize=FONT_SIZE, frameon=False)


def _palette(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(index) for index in range(count)]


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())  # a label is one line
    return text if len(text) <= width else text[: width - 1] + "…"
