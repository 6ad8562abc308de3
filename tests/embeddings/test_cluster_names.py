"""What a model answers when asked to name a cluster, made into the name shown in the legend; clusters
named alike asked again beside each other against the sandbox, and numbered when still alike."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from oai_magics.embeddings.cluster_names import NameCache, name_clusters, tidy
from tests.helpers.sandboxes import forget_requests, sent_requests


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


def cats(place: str) -> list[str]:
    """Texts of a cluster that a first naming calls like its neighbour's: the same three words lead."""
    return ["cats purr sleep", "cats purr sleep", f"cats purr sleep {place}"]


def named(client: Any, groups: list[list[str]], cache: Any = None) -> tuple[dict[int, str], list[str]]:
    texts = [text for group in groups for text in group]
    labels = np.repeat(np.arange(len(groups)), [len(group) for group in groups])
    vectors = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
    return name_clusters(client, "gpt-4o-mini", vectors, labels, texts, cache=cache)


def test_clusters_named_alike_are_asked_again_beside_each_other(client: Any, sandbox: Any, tmp_path: Any) -> None:
    # Two clusters about sleeping cats both came back "Sleep Cats Purr": a legend that tells nothing apart.
    cache = NameCache(tmp_path / "names.sqlite")
    forget_requests(sandbox)
    names, failures = named(client, [cats("sofa"), cats("barn"), ["rockets launch to orbit"] * 3], cache)
    assert names == {0: "Sofa Group", 1: "Barn Group", 2: "Rockets Launch Orbit"} and failures == []
    asked = [json.loads(entry["body"])["messages"][1]["content"] for entry in sent_requests(sandbox, "/v1/chat/completions")]
    assert len(asked) == 5 and sum("Another group was also named \"Sleep Cats Purr\"" in a for a in asked) == 2
    assert named(client, [cats("sofa"), cats("barn"), ["rockets launch to orbit"] * 3], cache)[0] == names
    assert len(sent_requests(sandbox, "/v1/chat/completions")) == 5  # both rounds cached


def test_names_still_alike_are_numbered(client: Any) -> None:
    names, _ = named(client, [cats(""), cats(""), cats("")])
    assert names == {0: "Sandbox Group", 1: "Sandbox Group (2)", 2: "Sandbox Group (3)"}
