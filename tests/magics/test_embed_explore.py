"""%embed --explore and the map options of --plot, in a real shell against the sandbox over loopback:
the explorer's frame, clusters named by the sandbox's chat model (cached, a failure on its own line),
the static map where no widget can be shown, and every wrong combination of flags as one line."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from tests.helpers.sandboxes import Server

from .conftest import run

TOPICS = {"cats": ["cats purr on the sofa", "kittens and cats nap", "cats chase kittens", "cats purr loudly"],
          "dogs": ["dogs bark at the postman", "puppies and dogs fetch", "dogs bark loudly", "dogs fetch sticks"],
          "rain": ["rain falls on roofs", "storms bring heavy rain", "rain and storms tonight", "rain falls again"]}


@pytest.fixture
def notes(shell: Any) -> pd.DataFrame:
    rows = [(text, topic, len(text)) for topic, texts in TOPICS.items() for text in texts]
    frame = pd.DataFrame(rows, columns=["body", "topic", "length"], index=[f"n{i}" for i in range(len(rows))])
    shell.user_ns["notes"] = frame
    return frame


def test_explore_returns_the_input_columns_beside_the_map(shell: Any, notes: pd.DataFrame) -> None:
    explorer, out = run(shell, "embed", "-i notes --column body --explore --clusters 3 -o ex")
    assert shell.user_ns["ex"] is explorer
    frame = explorer.frame
    assert list(frame.columns) == ["body", "topic", "length", "x", "y", "cluster", "cluster_name"]
    assert list(frame.index) == list(notes.index)
    assert str(frame["cluster"].dtype) == "Int64" and str(frame["x"].dtype) == "float32"
    assert frame["cluster"].nunique() == 3
    # Each topic is one cluster: the sandbox's n-gram vectors put texts with shared words together.
    assert frame.groupby("topic")["cluster"].nunique().eq(1).all()


def test_names_come_from_the_chat_model_once(shell: Any, notes: pd.DataFrame, sandbox: Any) -> None:
    server = Server(sandbox)
    server.forget()
    explorer, _ = run(shell, "embed", "-i notes --column body --explore --clusters 3 --name-clusters")
    named = explorer.frame.groupby("topic")["cluster_name"].first()
    assert named["cats"] == "Cats Kittens Purr" and named["dogs"] == "Dogs Fetch Bark" and named["rain"] == "Rain Storms Falls"
    assert len(server.seen("/v1/chat/completions")) == 3  # one request per cluster
    server.forget()
    again, _ = run(shell, "embed", "-i notes --column body --explore --clusters 3 --name-clusters")
    assert list(again.frame["cluster_name"]) == list(explorer.frame["cluster_name"])
    assert server.seen("/v1/chat/completions") == []  # the same texts and model: from the cache


def test_a_failed_naming_is_one_line_and_an_empty_name(shell: Any, notes: pd.DataFrame, faults: Any) -> None:
    faults(path="/v1/chat/completions", body="postman", status=400, message="no names today", count=5)
    explorer, out = run(shell, "embed", "-i notes --column body --explore --clusters 3 --name-clusters --no-cache")
    names = explorer.frame.groupby("topic")["cluster_name"].first()
    assert names["dogs"] == "" and names["cats"] == "Cats Kittens Purr"
    assert len(explorer.notes) == 1 and "was not named" in explorer.notes[0] and "no names today" in explorer.notes[0]


def test_without_a_widget_front_end_the_static_map_is_drawn_with_one_line(shell: Any, notes: pd.DataFrame) -> None:
    explorer, _ = run(shell, "embed", "-i notes --column body --explore --clusters 3")
    from IPython.utils.capture import capture_output

    with capture_output() as shown:
        explorer._ipython_display_()
    assert shown.stdout.strip().splitlines() == ["no widget front end here (widgets need a Jupyter kernel): here is the static map"]
    assert any("image/png" in o.data for o in shown.outputs)


def test_plot_with_map_options_colours_the_clusters(shell: Any, notes: pd.DataFrame, monkeypatch: Any) -> None:
    import oai_magics.display.plots as plots

    figures = []
    draw = plots.embedding_map
    monkeypatch.setattr(plots, "embedding_map", lambda *a, **k: figures.append(draw(*a, **k)))  # the real one, kept
    value, out = run(shell, "embed", "-i notes --column body --plot --clusters 3 --map tsne --seed 1")
    assert value is None and any("image/png" in o.data for o in out.outputs)
    axes = figures[0].axes[0]
    assert axes.get_xlabel() == "t-SNE 1" and axes.get_legend().get_title().get_text() == "cluster"
    assert sorted(t.get_text() for t in axes.get_legend().get_texts()) == ["0", "1", "2"]


@pytest.mark.parametrize("line, message", [
    ("--map umap cats purr", "--map goes with --plot or --explore"),
    ("--clusters 3 cats purr", "--clusters goes with --plot or --explore"),
    ("--name-clusters cats purr", "--name-clusters goes with --plot or --explore"),
    ("--explore --query cats cats purr", "--explore returns the explorer: run --query on its own"),
    ("--explore --clusters 0 cats purr", "argument --clusters: a number of 1 or more, not 0"),
    ("--explore --clusters many cats purr", "argument --clusters: a number or auto, not 'many'"),
    ("--explore --map mds cats purr", "argument --map: invalid choice: 'mds'"),
    ("--explore --hover topic cats purr", "--hover needs a DataFrame input"),
    ("-i notes --column body --hover topic", "--hover goes with --plot or --explore"),
    ("-i notes --column body --explore --hover colour", "notes has no column 'colour'"),
    ("-i notes --column body --explore --color-by colour", "notes has no column 'colour'"),
])
def test_flag_mistakes_are_one_line(shell: Any, notes: pd.DataFrame, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        shell.run_line_magic("embed", line)


def test_a_missing_library_is_one_line_naming_the_extra(shell: Any, notes: pd.DataFrame, monkeypatch: Any) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "umap", None)  # as if umap-learn were not installed
    with pytest.raises(UsageError, match=r"--map umap needs umap-learn, which is not installed: pip install 'oai-magics\[explore\]'"):
        shell.run_line_magic("embed", "-i notes --column body --explore --map umap")


def test_without_scikit_learn_explore_still_draws_the_map_in_one_cluster(shell: Any, notes: pd.DataFrame,
                                                                          monkeypatch: Any) -> None:
    import sys

    for module in ("jscatter", "sklearn"):  # the explore extra not installed
        monkeypatch.setitem(sys.modules, module, None)
    explorer, out = run(shell, "embed", "-i notes --column body --explore")
    assert set(explorer.frame["cluster"]) == {0} and explorer.frame[["x", "y"]].notna().all().all()
    assert explorer.notes == ["k-means clustering needs scikit-learn, which is not installed: "
                              "pip install 'oai-magics[explore]'; every row is in one cluster"]
    with pytest.raises(UsageError, match=r"--clusters needs scikit-learn"):  # asked for: refused, as before
        shell.run_line_magic("embed", "-i notes --column body --explore --clusters 2")
