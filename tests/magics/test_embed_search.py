"""%embed --query through an indexed collection, --dedupe and --outliers, in a real shell against
the sandbox. The crossover between exact and indexed search is lowered with
`%config OAIMagics.exact_search_below`, so a few hundred texts build a real index."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from .conftest import run

pytest.importorskip("usearch")

TOPICS = ["rocket engines and orbital launches", "sourdough bread and baking", "jazz piano improvisation",
          "tidal pools and sea anemones", "medieval castles and sieges", "tax law for small businesses"]


def corpus(count: int, start: int = 0) -> list[str]:
    """Distinct texts in a few topics, so a query has a clear best few."""
    return [f"note {i} {TOPICS[i % len(TOPICS)]} item{i * 7 % 53} part{i % 11}" for i in range(start, start + count)]


@pytest.fixture
def indexed(shell: Any) -> Any:
    run(shell, "config", "OAIMagics.exact_search_below = 1000")  # 300 texts of 32 dimensions are 9,600 values
    yield shell


def query(shell: Any, line: str) -> tuple[pd.DataFrame, str]:
    frame, captured = run(shell, "embed", line)
    return frame, captured.stdout


def test_index_and_exact_search_give_the_same_top_k(indexed: Any) -> None:
    indexed.user_ns["docs"] = pd.Series(corpus(300), index=[f"d{i}" for i in range(300)])
    through_index, said = query(indexed, "-i docs -d 32 --query 'jazz piano improvisation item3' -k 8")
    assert "approximate index" in said and "built now" in said
    run(indexed, "config", "OAIMagics.exact_search_below = 100000000")
    exact, said = query(indexed, "-i docs -d 32 --query 'jazz piano improvisation item3' -k 8")
    assert "approximate index" not in said
    assert list(through_index.columns) == list(exact.columns) == ["text", "similarity"]
    assert list(through_index.index) == list(exact.index)
    assert np.allclose(through_index["similarity"], exact["similarity"], atol=1e-5)
    assert through_index["similarity"].dtype == np.float32


def test_a_later_query_needs_no_input_and_the_index_is_kept(indexed: Any) -> None:
    indexed.user_ns["docs"] = pd.Series(corpus(300))
    first, said = query(indexed, "-i docs -d 32 --query 'sourdough bread' -k 5")
    assert "built now" in said
    again, said = query(indexed, "-i docs -d 32 --query 'sourdough bread' -k 5")
    assert "up to date" in said
    alone, said = query(indexed, "-d 32 --query 'sourdough bread' -k 5")
    assert "docs" in said and "300 texts" in said
    assert list(alone.index) == list(again.index) == list(first.index)
    assert list(alone["text"]) == list(first["text"])


def test_a_query_over_texts_indexed_before_looks_none_of_them_up(indexed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each query with the input given checked every text against the cache twice (and estimated
    its tokens) before reaching the index it had built: 0.2 s a query at 50,000 texts."""
    from oai_magics.embeddings.cache import EmbeddingCache

    indexed.user_ns["docs"] = pd.Series(corpus(300))
    first, _ = query(indexed, "-i docs -d 32 --query 'tidal pools' -k 5")
    looked_up: list[int] = []
    missing = EmbeddingCache.missing
    monkeypatch.setattr(EmbeddingCache, "missing", lambda self, *a: looked_up.append(len(a[-1])) or missing(self, *a))
    again, said = query(indexed, "-i docs -d 32 --query 'tidal pools' -k 5")
    assert "up to date" in said and looked_up == [] and again.equals(first)
    indexed.user_ns["docs"] = pd.Series(corpus(300), index=[f"n{i}" for i in range(300)])  # other labels: built again
    relabelled, said = query(indexed, "-i docs -d 32 --query 'tidal pools' -k 5")
    assert "built now" in said and 300 in looked_up and list(relabelled.index) == [f"n{i}" for i in first.index]


@pytest.mark.parametrize("first", [np.nan, 7])
def test_a_query_over_indexed_texts_with_a_non_text_row_is_one_line(indexed: Any, first: Any) -> None:
    # The shortcut to the index hashed the texts before any was checked: a NaN or a number in the
    # first row was a traceback from the cache, and a number elsewhere hashed as its digits (pandas
    # hashes a mixed column as strings), so a column of the indexed texts' numbers was answered.
    texts = [str(i) for i in range(300)]
    indexed.user_ns["docs"] = pd.Series(texts)
    query(indexed, "-i docs -d 32 --query '12' -k 3")
    indexed.user_ns["docs"] = pd.Series([*texts[:7], 7, *texts[8:]])
    with pytest.raises(UsageError, match=r"non-text input in row\(s\) 7$"):
        query(indexed, "-i docs -d 32 --query '12' -k 3")
    indexed.user_ns["docs"] = pd.Series([first, *texts[1:]])
    with pytest.raises(UsageError, match="non-text input in row"):
        query(indexed, "-i docs -d 32 --query '12' -k 3")


def test_a_stale_index_is_updated_when_texts_are_appended_and_rebuilt_when_they_change(indexed: Any) -> None:
    indexed.user_ns["docs"] = pd.Series(corpus(300))
    query(indexed, "-i docs -d 32 --query 'castles' -k 3")
    newcomer = "a brand new text about volcano eruptions and lava"
    indexed.user_ns["docs"] = pd.Series(corpus(300) + [newcomer])
    found, said = query(indexed, "-i docs -d 32 --query 'volcano eruptions and lava' -k 3")
    assert "updated with the appended texts" in said
    assert found["text"].iloc[0] == newcomer and found.index[0] == 300
    indexed.user_ns["docs"] = pd.Series([newcomer] + corpus(300, start=1000))
    found, said = query(indexed, "-i docs -d 32 --query 'volcano eruptions and lava' -k 3")
    assert "built now" in said
    assert found["text"].iloc[0] == newcomer and found.index[0] == 0


def test_query_without_input_or_collection_is_one_line(shell: Any) -> None:
    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("embed", "-d 24 --query 'anything at all'")
    assert "no collection" in str(refused.value) and "\n" not in str(refused.value)


def test_dedupe_marks_exact_and_near_duplicates(shell: Any) -> None:
    texts = ["The rocket launched at dawn.", "Sourdough needs a long, slow rise.", "the rocket launched at dawn",
             "Jazz pianists improvise over chord changes.", "THE ROCKET LAUNCHED AT DAWN!!!",
             "Sourdough needs a long slow rise", "Tidal pools hold anemones.", "A rocket launched at dawn today"]
    shell.user_ns["notes"] = pd.DataFrame({"body": texts}, index=[10, 11, 12, 13, 14, 15, 16, 17])
    # The sandbox's vectors come from words and letter trigrams, lower-cased: case and punctuation
    # change nothing (cosine 1), a word more changes a little (0.90 for the last text).
    frame, _ = run(shell, "embed", "-i notes --column body -d 64 --dedupe 0.85")
    assert frame["duplicate_of"].dtype == "Int64"
    assert frame["duplicate_of"].tolist() == [pd.NA, pd.NA, 10, pd.NA, 10, 11, pd.NA, 10]
    strict, _ = run(shell, "embed", "-i notes --column body -d 64 --dedupe 0.99")
    assert strict["duplicate_of"].tolist() == [pd.NA, pd.NA, 10, pd.NA, 10, 11, pd.NA, pd.NA]
    assert list(frame.columns[:2]) == ["text", "duplicate_of"]


def test_dedupe_through_the_index_agrees_with_exact(shell: Any) -> None:
    texts = corpus(200) + [t.upper() + "!" for t in corpus(20)]
    shell.user_ns["many"] = pd.Series(texts)
    exact, _ = run(shell, "embed", "-i many -d 32 --dedupe 0.999")
    run(shell, "config", "OAIMagics.exact_search_below = 1000")
    indexed, _ = run(shell, "embed", "-i many -d 32 --dedupe 0.999")
    assert exact["duplicate_of"].tolist() == indexed["duplicate_of"].tolist()
    assert exact["duplicate_of"].iloc[200:].tolist() == list(range(20))
    assert exact["duplicate_of"].iloc[:200].isna().all()


def test_outliers_are_the_planted_ones(shell: Any) -> None:
    usual = [f"invoice {i} paid by bank transfer for office supplies order {i % 9}" for i in range(40)]
    planted = {7: "volcanic lava glows under the northern lights", 23: "zebras gallop across a dusty savanna",
               31: "quantum chromodynamics gluon confinement"}
    texts = [planted.get(i, text) for i, text in enumerate(usual)]
    shell.user_ns["ledger"] = pd.Series(texts)
    frame, _ = run(shell, "embed", "-i ledger -d 64 --outliers 3")
    assert frame["outlier"].dtype == bool
    assert sorted(np.flatnonzero(frame["outlier"])) == sorted(planted)


@pytest.mark.parametrize("line, said", [("--dedupe 1.5 text", "--dedupe"), ("--dedupe much text", "--dedupe"),
                                        ("--dedupe -1 text", "above 0"), ("--dedupe 0 text", "above 0"),
                                        ("--dedupe nan text", "above 0"), ("--outliers -2 text", "--outliers"),
                                        ("--outliers 3 two texts", "more than the 1 rows")])
def test_bad_hygiene_values_are_one_line(shell: Any, line: str, said: str) -> None:
    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("embed", line)
    assert said in str(refused.value) and "\n" not in str(refused.value)


def test_without_the_extra_a_large_input_is_searched_exactly_with_one_line(indexed: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "usearch", None)  # as if the search extra were not installed
    monkeypatch.setitem(sys.modules, "usearch.index", None)
    indexed.user_ns["docs"] = pd.Series(corpus(300))
    found, said = query(indexed, "-i docs -d 32 --query 'tidal pools' -k 4")
    assert "approximate index" not in said and "searched exactly" in said and "oai-magics[search]" in said
    assert len(said.strip().splitlines()) == 1 and len(found) == 4
    deduped, _ = run(indexed, "embed", "-i docs -d 32 --dedupe 0.99")
    assert deduped["duplicate_of"].isna().all()


@pytest.mark.parametrize("asked", ["--query 'sourdough' -k 3", "--plot", "--explore"])
def test_an_empty_input_to_rank_or_map_is_one_line(indexed: Any, asked: str) -> None:
    indexed.user_ns["nothing"] = pd.Series([], dtype=object)
    with pytest.raises(UsageError, match="nothing is empty: nothing to"):
        indexed.run_line_magic("embed", f"-i nothing -d 32 {asked}")
