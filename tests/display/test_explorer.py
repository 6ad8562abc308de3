"""The Explorer from code: its frame, exact neighbours, the map widget's search, click and selection
(real jupyter-scatter widgets, with no page), and the static map where no widget can be shown."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from oai_magics.display.explorer import Explorer, explore
from oai_magics.local_errors import LocalError

pytest.importorskip("jscatter")


@pytest.fixture
def frame() -> pd.DataFrame:
    """An embedding frame as %embed makes it (text, e0...), with a column of the user's beside it."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 16))
    vectors = np.vstack([c + 0.1 * rng.normal(size=(10, 16)) for c in centres]).astype(np.float32)
    texts = [f"{topic} note {i}" for topic in ("apple", "river", "violin") for i in range(10)]
    embedded = pd.DataFrame(vectors, columns=[f"e{i}" for i in range(16)], index=[f"r{i}" for i in range(30)])
    embedded.insert(0, "text", texts)
    embedded["source"] = ["a", "b", "c"] * 10
    return embedded


def test_the_frame_keeps_the_input_columns_and_drops_the_vectors(frame: pd.DataFrame) -> None:
    explorer = explore(frame, clusters=3)
    assert list(explorer.frame.columns) == ["text", "source", "x", "y", "cluster", "cluster_name"]
    assert explorer.frame.dtypes.astype(str).to_dict() == {
        "text": str(frame["text"].dtype), "source": str(frame["source"].dtype), "x": "float32", "y": "float32",
        "cluster": "Int64", "cluster_name": "string"}
    assert list(explorer.frame.index) == list(frame.index)
    assert (explorer.frame["cluster_name"] == "").all()  # not named unless asked


def test_neighbours_are_the_exact_cosine_ranking(frame: pd.DataFrame) -> None:
    explorer = explore(frame, clusters=3)
    found = explorer.neighbours("r4", 5)
    vectors = frame[[f"e{i}" for i in range(16)]].to_numpy()
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ unit[4]
    scores[4] = -np.inf
    assert list(found.index) == [f"r{i}" for i in np.argsort(-scores)[:5]]
    np.testing.assert_allclose(found["similarity"], np.sort(scores)[::-1][:5], rtol=1e-5)
    with pytest.raises(LocalError, match="no row 'r99'"):
        explorer.neighbours("r99")


def test_search_click_and_selection_go_through_the_widget(frame: pd.DataFrame) -> None:
    from oai_magics.display.explorer_view import MapView

    explorer = explore(frame, clusters=3, hover=["source"])
    assert explorer.selection().empty  # nothing shown yet
    explorer._view = view = MapView(explorer.frame, "text", "cluster", ["source"], explorer._nearest)
    assert view.find("RIVER") == 10
    assert list(explorer.selection()["text"]) == [f"river note {i}" for i in range(10)]
    assert "10 matches" in view.status.value
    view.scatter.widget.selection = np.array([0])  # a click in the page: one point selected
    assert view.listing.value.startswith("<b>apple note 0</b>")
    assert view.listing.value.count("<li>") == 8 and "apple note" in view.listing.value
    explorer.select(["r29", "r28"])
    assert list(explorer.selection().index) == ["r28", "r29"]


def test_without_a_kernel_the_static_map_comes_with_one_line(frame: pd.DataFrame) -> None:
    explorer = explore(frame, clusters=3)
    with capture_output() as shown:
        explorer._ipython_display_()
    assert shown.stdout.splitlines() == ["no widget front end here (widgets need a Jupyter kernel): here is the static map"]
    assert [list(o.data) for o in shown.outputs] == [["image/png", "text/plain"]]


def test_without_jupyter_scatter_the_line_names_the_extra(frame: pd.DataFrame, shell: Any, monkeypatch: Any) -> None:
    import sys

    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # as in a kernel
    monkeypatch.setitem(sys.modules, "jscatter", None)  # ... that lacks the library
    explorer = explore(frame, clusters=3)
    with capture_output() as shown:
        explorer._ipython_display_()
    assert shown.stdout.splitlines() == [
        "the interactive map needs jupyter-scatter: pip install 'oai-magics[explore]': here is the static map"]
    assert any("image/png" in o.data for o in shown.outputs)


@pytest.mark.parametrize("kwargs, message", [
    ({"text": "body"}, "no text column 'body'"),
    ({"color_by": "colour"}, "no --color-by column 'colour'"),
    ({"hover": ["colour"]}, "no --hover column 'colour'"),
    ({"vectors": np.zeros((3, 4))}, "3 vectors for 30 rows"),
])
def test_wrong_input_is_one_line(frame: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(LocalError, match=message):
        explore(frame, **kwargs)


def test_a_colour_column_of_dicts_is_one_line_and_a_hover_column_of_dicts_is_shown(frame: pd.DataFrame) -> None:
    from oai_magics.display.explorer_view import MapView

    frame["meta"] = [{"page": i} for i in range(30)]
    with pytest.raises(LocalError, match="--color-by 'meta' holds values that are not labels or numbers \\(such as dict\\)"):
        explore(frame, color_by="meta")
    explorer = explore(frame, clusters=3, hover=["meta"])
    view = MapView(explorer.frame, "text", "cluster", ["meta"], explorer._nearest)
    assert list(view.scatter._data["meta"][:2]) == ['{"page": 0}', '{"page": 1}']  # not "[object Object]" in the page


def test_coloured_by_another_column_the_tooltip_still_names_the_cluster(frame: pd.DataFrame) -> None:
    from oai_magics.display.explorer_view import MapView

    explorer = explore(frame, clusters=3, color_by="source", hover=["source"])
    explorer.frame["cluster_name"] = explorer.frame["cluster"].map({0: "fruit", 1: "water", 2: "music"}).astype("string")
    view = MapView(explorer.frame, "text", "source", ["source"], explorer._nearest)
    assert view.scatter.widget.tooltip_properties == ["source", "cluster"]  # each once, the text as the preview
    shown = list(view.scatter._data["cluster"])
    assert shown[0] == f"{explorer.frame['cluster'].iloc[0]} · {explorer.frame['cluster_name'].iloc[0]}"
    by_cluster = MapView(explorer.frame, "text", "cluster", [], explorer._nearest)
    assert by_cluster.scatter.widget.tooltip_properties == ["cluster"]


def test_a_numeric_colour_column_is_a_legend_in_the_order_of_its_values(frame: pd.DataFrame) -> None:
    from oai_magics.display.explorer_view import _plot_frame

    frame["stars"] = [[1.0, 2.0, 10.0, np.nan, 3.0][i % 5] for i in range(30)]
    frame["label"] = [["b", None, "a"][i % 3] for i in range(30)]
    explorer = explore(frame, clusters=3)
    stars = _plot_frame(explorer.frame, "text", "stars", [])["stars"]
    assert list(stars.cat.categories) == ["1.0", "2.0", "3.0", "10.0", "(missing)"]
    assert list(stars[:5]) == ["1.0", "2.0", "10.0", "(missing)", "3.0"]
    assert list(_plot_frame(explorer.frame, "text", "label", [])["label"].cat.categories) == ["a", "b", "(missing)"]


def test_a_numeric_colour_scale_with_missing_values_is_one_line_not_a_warning(frame: pd.DataFrame,
                                                                               monkeypatch: Any) -> None:
    import warnings

    from oai_magics.display import explorer_view
    from oai_magics.display.explorer_view import MapView

    monkeypatch.setattr(explorer_view, "CATEGORIES_MAX", 10)  # 26 values: a colour scale
    frame["score"] = [np.nan if i % 7 == 0 else 10.0 + i for i in range(30)]
    explorer = explore(frame, clusters=3, color_by="score")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        view = MapView(explorer.frame, "text", "score", [], explorer._nearest)
    assert view.notes == ["5 rows have no score: drawn in the colour of its lowest value (11)"]
    assert view.scatter._data["score"].min() == 11.0  # not 0: the scale stays the column's own


def test_missing_vectors_are_refused(frame: pd.DataFrame) -> None:
    frame.iloc[3, 1] = np.nan
    with pytest.raises(LocalError, match="some vectors are missing"):
        explore(frame)


def test_repr_names_the_map_and_clusters(frame: pd.DataFrame) -> None:
    assert repr(explore(frame, clusters=3)) == "<Explorer: 30 rows, pca map, 3 clusters>"
    assert isinstance(explore(frame, clusters=2), Explorer)


def test_the_static_map_of_many_clusters_uses_a_colour_scale(frame: pd.DataFrame) -> None:
    explorer = explore(frame, clusters=25)
    figure = explorer.static_map()
    assert figure.axes[0].get_legend() is None and len(figure.axes) == 2  # the map and its colour bar


def test_a_colour_column_the_static_map_cannot_show_is_one_line(frame: pd.DataFrame) -> None:
    frame["label"] = [f"label {i}" for i in range(30)]
    explorer = explore(frame, clusters=3, color_by="label")
    with capture_output() as shown:
        explorer._ipython_display_()
    assert shown.stdout.splitlines()[1] == "label has 30 distinct values; at most 20 can each have a colour"
