"""%embed --plot --color-by in a real shell against the sandbox."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from .conftest import run


@pytest.fixture
def notes(shell: Any) -> pd.DataFrame:
    shell.user_ns["notes"] = pd.DataFrame({"text": ["cats purr", "cats nap", "dogs bark", "dogs fetch", "tea is hot"],
                                           "topic": ["cats", "cats", "dogs", "dogs", None]})
    return shell.user_ns["notes"]


def test_the_map_is_coloured_by_a_column_with_a_legend(shell: Any, notes: pd.DataFrame, monkeypatch: Any) -> None:
    import oai_magics.display.plots as plots

    figures = []
    draw = plots.embedding_map
    monkeypatch.setattr(plots, "embedding_map", lambda *a, **k: figures.append(draw(*a, **k)))  # the real one, kept
    _, out = run(shell, "embed", "-i notes --column text --plot --color-by topic -o vectors")
    assert any("image/png" in o.data for o in out.outputs)
    legend = figures[0].axes[0].get_legend()
    assert legend.get_title().get_text() == "topic"
    assert [t.get_text() for t in legend.get_texts()] == ["cats", "dogs", "(missing)"]
    assert len(figures[0].axes[0].texts) == 5  # every point labelled
    assert list(shell.user_ns["vectors"]["text"]) == list(notes["text"])


@pytest.mark.parametrize("line, message", [
    ("-i notes --column text --color-by topic", "--color-by goes with --plot"),
    ("-i notes --column text --plot --color-by colour", "notes has no column 'colour'"),
    ("--plot --color-by topic cats purr", "--color-by needs a DataFrame input"),
])
def test_color_by_mistakes_are_one_line(shell: Any, notes: pd.DataFrame, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("embed", line)


def test_texts_with_dollar_signs_are_labels_not_tex(shell: Any, monkeypatch: Any) -> None:
    """matplotlib reads "$...$" as math: a text such as "$ $" must be drawn as it is, not fail the map."""
    import oai_magics.display.plots as plots

    figures = []
    draw = plots.embedding_map
    monkeypatch.setattr(plots, "embedding_map", lambda *a, **k: figures.append(draw(*a, **k)))
    shell.user_ns["prices"] = pd.DataFrame({"text": ["$ $", "costs $5 and $6", r"$\frac{1}{$"],
                                            "kind": ["$x$", "$", "plain"]})
    _, out = run(shell, "embed", "-i prices --column text --plot --color-by kind")
    assert any("image/png" in o.data for o in out.outputs)
    axes = figures[0].axes[0]
    assert sorted(t.get_text() for t in axes.texts) == sorted(["$ $", "costs $5 and $6", r"$\frac{1}{$"])
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["$x$", "$", "plain"]
