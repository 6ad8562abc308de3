"""What a model answers when asked to name a cluster, made into the name shown in the legend."""

from __future__ import annotations

import pytest

from oai_magics.embeddings.cluster_names import tidy


@pytest.mark.parametrize("answer, name", [
    ("Bread and Baking", "Bread and Baking"),
    ('"Bread and Baking."', "Bread and Baking"),
    ("**Bread and Baking**", "Bread and Baking"),
    ("Name: Bread and Baking", "Bread and Baking"),
    ('**Cluster name:** "Rockets and Orbits"', "Rockets and Orbits"),
    ("Rockets and Orbits\n\nThese texts all describe launches into orbit.", "Rockets and Orbits"),
    ("\n## Market Prices\n", "Market Prices"),
    ("one two three four five six seven eight nine ten", "one two three four five six seven eight"),
    ("", ""),
    ("**", ""),
])
def test_a_model_answer_becomes_one_short_name(answer: str, name: str) -> None:
    assert tidy(answer) == name
