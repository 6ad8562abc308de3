"""display.plots: the embedding map's labels stay apart and inside the axes; colours by a column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from matplotlib.text import Text

from oai_magics.display.plots import FONT_CACHE_NOTE, MAX_LABELS, embedding_map
from oai_magics.frames import embedding_frame
from tests.helpers.shells import retire


@pytest.fixture(autouse=True)
def shell() -> Iterator[Any]:
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    yield ip  # display() publishes through the shell
    retire(ip)


def crowded_frame(count: int = 30) -> pd.DataFrame:
    """Clusters, repeated texts (the same point several times) and far outliers at the edges."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(4, 16))
    rows = [centres[i % 4] + 0.05 * rng.normal(size=16) for i in range(count - 6)]
    rows += [centres[0]] * 3 + [centres[1] * 6, -centres[1] * 6, centres[2] * 6]
    texts = [f"text number {i} about something rather long indeed" for i in range(count)]
    return embedding_frame(texts, np.array(rows, dtype=np.float32))


def drawn(frame: pd.DataFrame, colors: Any = None) -> tuple[Any, list[Any], Any]:
    with capture_output() as out:
        figure = embedding_map(frame, colors)
    assert "image/png" in out.outputs[0].data
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    labels = [Text.get_window_extent(text, renderer) for text in axes.texts]  # the text, not its leader line
    return figure, labels, axes.get_window_extent(renderer)


def labelled(figure: Any) -> list[str]:
    return [text.get_text() for text in figure.axes[0].texts]


def test_labels_neither_collide_nor_leave_the_axes() -> None:
    frame = crowded_frame()
    figure, labels, frame_box = drawn(frame)
    assert len(labels) >= len(frame) // 3
    assert {"text number 27 about someth…", "text number 28 about someth…", "text number 29 about someth…"} <= set(
        labelled(figure))  # the outliers are labelled first: a crowd's labels do not take their room
    for index, box in enumerate(labels):
        assert frame_box.x0 <= box.x0 and box.x1 <= frame_box.x1 and frame_box.y0 <= box.y0 and box.y1 <= frame_box.y1
        assert not any(box.overlaps(other) for other in labels[index + 1:])
    notes = [text.get_text() for text in figure.texts]
    left_out = len(frame) - len(labels)
    assert notes == ([f"{left_out} label{'s' if left_out != 1 else ''} left out (no free space)"] if left_out else [])


def test_a_large_map_labels_only_the_first_ones() -> None:
    frame = crowded_frame(MAX_LABELS + 40)
    figure, labels, _ = drawn(frame)
    assert len(labels) <= MAX_LABELS
    assert figure.texts[0].get_text().startswith(f"{len(frame) - len(labels)} labels left out")


def test_points_coloured_by_a_few_values_get_a_legend() -> None:
    frame = crowded_frame(12)
    topics = pd.Series(["cats", "dogs", None] * 4, name="topic")
    figure, _, _ = drawn(frame, topics)
    legend = figure.axes[0].get_legend()
    assert legend.get_title().get_text() == "topic"
    assert [text.get_text() for text in legend.get_texts()] == ["cats", "dogs", "(missing)"]


def test_many_numbers_get_a_colour_scale_and_too_many_groups_an_error() -> None:
    frame = crowded_frame(30)
    figure, _, _ = drawn(frame, pd.Series(np.linspace(0, 1, 30), name="score"))
    assert len(figure.axes) == 2 and figure.axes[1].get_ylabel() == "score"  # the colour bar
    with pytest.raises(ValueError, match="has 30 distinct values; at most 20"):
        embedding_map(frame, pd.Series([f"g{i}" for i in range(30)], name="group"))


FIRST_MAP = """
import json
import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from oai_magics.display.plots import embedding_map
from oai_magics.frames import embedding_frame

InteractiveShell.instance()
with capture_output() as out:
    embedding_map(embedding_frame(["cats", "dogs", "tea"], np.eye(3, dtype=np.float32)))
print(json.dumps([{"text": o.data.get("text/plain", ""), "png": "image/png" in o.data, "update": o.update,
                   "display_id": o.transient.get("display_id")} for o in out.outputs]))
"""


def test_the_first_map_says_matplotlib_builds_its_font_cache_then_takes_that_lines_place() -> None:
    cache = Path(os.environ["MPLCONFIGDIR"])  # empty: each test has its own (tests/conftest.py)

    def first_map() -> list[dict]:  # in a new process: this one loaded matplotlib's fonts long ago
        done = subprocess.run([sys.executable, "-c", FIRST_MAP], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.splitlines()[-1])

    note, plot = first_map()
    assert note["text"] == FONT_CACHE_NOTE and not note["png"] and not note["update"]
    assert plot["png"] and plot["update"] and plot["display_id"] == note["display_id"]  # one output, replaced
    assert list(cache.glob("fontlist-v*.json"))  # the file the note looks for is the one matplotlib writes
    [again] = first_map()
    assert again["png"] and not again["update"]  # the cache is there: nothing to say

