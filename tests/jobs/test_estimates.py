"""jobs.estimates: tiktoken only from what is already on the machine, else the stated approximation;
and jobs.forecast's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from oai_magics.jobs import estimates
from oai_magics.jobs.estimates import approximate_tokens, count_tokens
from oai_magics.jobs.forecast import forecast, rate_limited_seconds
from oai_magics.prices import builtin


@pytest.fixture(autouse=True)
def fresh() -> None:
    estimates._local_encoding.cache_clear()


def test_tiktoken_is_never_asked_for_an_encoding_it_would_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiktoken = pytest.importorskip("tiktoken")
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: pytest.fail(f"{name} would be downloaded"))
    for folder in (str(tmp_path), ""):  # an empty cache folder, and tiktoken's cache turned off
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", folder)
        estimates._local_encoding.cache_clear()
        counted = count_tokens(["The harbour tour was lovely."], "gpt-5.4-mini")
        assert not counted.exact and counted.tokens == approximate_tokens("The harbour tour was lovely.") == 6


def test_an_encoding_in_the_cache_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiktoken = pytest.importorskip("tiktoken")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    Path(estimates._cache_file("o200k_base")).write_bytes(b"")  # present: tiktoken reads it from there

    class Encoding:
        name = "o200k_base"

        def encode_ordinary(self, text: str) -> list[int]:
            return list(range(len(text)))

    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: Encoding())
    counted = count_tokens(["abc", "de"], "gpt-5.4-mini")
    assert counted.exact and counted.tokens == 5 and counted.encoding == "o200k_base"


def test_the_approximation_cuts_as_a_gpt_4o_tokenizer_starts() -> None:
    assert approximate_tokens("Hello, world! It costs 12345 dollars.") == 11  # Hello , ␣world ! ␣It ␣costs ␣ 123 45 ␣dollars .
    assert approximate_tokens("东京タワー") == 5


# Texts and the tokens o200k_base (GPT-4o's, GPT-5's encoding) gives them, counted with tiktoken's
# encoding file: where a count of pieces alone was far under them (emoji: a run is one piece, each
# emoji two to eleven tokens; a long compound word: one piece, many tokens).
O200K = [
    ("Great job team 🎉🎉🚀 Loved the demo 😍👍 see you tomorrow 🌞☕️ 👨‍👩‍👧‍👦 🏳️‍🌈", 41),
    ("🎉🚀😍👍🌞☕️👨‍👩‍👧‍👦🏳️‍🌈🙂🙃", 31),
    ("Die Donaudampfschifffahrtsgesellschaftskapitänsmütze liegt auf dem Tisch, während die "
     "Geschwindigkeitsbegrenzung überschritten wurde.", 33),
    ("Internationalization, notwithstanding counterrevolutionaries' misunderstandings, characteristically "
     "demonstrates unquestionably extraordinary responsibilities.", 19),
]


@pytest.mark.parametrize(("text", "o200k"), O200K, ids=["emoji-in-prose", "emoji-only", "german", "long-english"])
def test_emoji_and_long_words_are_not_counted_as_one_token(text: str, o200k: int) -> None:
    assert 2 / 3 * o200k <= approximate_tokens(text) <= 1.25 * o200k  # was under a third of it for emoji


def test_the_line_says_each_figure_and_how_it_was_told() -> None:
    told = forecast(builtin(), "gpt-5.4-mini", ["a b c"] * 10, requests=10, output_per_request=100,
                    output_basis="at most 100 a reply, by --max-tokens",
                    limits={"x-ratelimit-limit-requests": "60", "x-ratelimit-limit-tokens": "1000000"})
    assert told.line() == ("estimate: 10 requests to gpt-5.4-mini, ≈30 input tokens (approximated: ≈ 1 token a word "
                           "or punctuation mark, no tiktoken encoding here), 1,000 output tokens (at most 100 a reply, "
                           "by --max-tokens), about $0.0045, at least 10 s at the rate limits last heard")
    batch = forecast(builtin(), "gpt-5.4-mini", ["a b c"] * 10, requests=10, output_per_request=100,
                     output_basis="x", batch=True)
    assert batch.cost == pytest.approx(told.cost / 2) and batch.line().endswith(
        "at the Batch API's price, the Batch API answers within 24 h")
    assert "cost unknown (no price for llama" in forecast(builtin(), "llama", ["a"], requests=1).line()
    assert rate_limited_seconds(10, 100, {}) is None and rate_limited_seconds(10, 100, {"x-ratelimit-limit-tokens": "x"}) is None
