"""oai_magics.prices: the package's dated table, the arithmetic on every usage shape, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oai_magics import model_defaults
from oai_magics.prices import PriceError, builtin, money, provenance, read_overrides


def test_the_table_is_dated_and_sourced_and_prices_the_chat_and_embedding_defaults() -> None:
    table = builtin()
    assert provenance() == "OpenAI pricing page (https://developers.openai.com/api/docs/pricing), read 2026-11-05"
    for kind in ("chat", "embedding"):
        assert all(table.price(model) is not None for model in model_defaults.preferred(kind)), kind
    assert table.batch_discount == 0.5


def test_every_priced_model_is_one_the_specification_names() -> None:
    spec = (Path(__file__).parent / "data/openapi/2026.json").read_text(encoding="utf-8")
    assert [m for m in builtin().models if f'"{m}"' not in spec] == []


def test_chat_usage_prices_cached_input_and_reasoning_as_output() -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, "prompt_tokens_details": {"cached_tokens": 400},
             "completion_tokens_details": {"reasoning_tokens": 200}}
    expected = (600 * 0.40 + 400 * 0.10 + 500 * 1.60) / 1e6
    assert builtin().cost("gpt-4.1-mini", usage) == pytest.approx(expected)
    assert builtin().cost("gpt-4.1-mini-2025-04-14", usage) == pytest.approx(expected)  # a dated name: its alias
    # ...unless the snapshot has a price of its own: the first GPT-4o costs twice the alias's input.
    assert builtin().cost("gpt-4o-2024-05-13", {"prompt_tokens": 1_000_000}) == pytest.approx(5.0)
    assert builtin().cost("gpt-4.1-mini", usage, batch=True) == pytest.approx(expected / 2)


def test_responses_embeddings_and_image_usages() -> None:
    table = builtin()
    responses = {"input_tokens": 100, "output_tokens": 50, "input_tokens_details": {"cached_tokens": 0}}
    assert table.cost("gpt-5.4-mini", responses) == pytest.approx((100 * 0.75 + 50 * 4.50) / 1e6)
    assert table.cost("text-embedding-3-small", {"prompt_tokens": 1_000_000, "total_tokens": 1_000_000}) == 0.02
    image = {"input_tokens": 300, "output_tokens": 4160,
             "input_tokens_details": {"text_tokens": 50, "image_tokens": 250}}
    assert table.cost("gpt-image-1", image) == pytest.approx((50 * 5.0 + 250 * 10.0 + 4160 * 40.0) / 1e6)


def test_no_price_is_no_figure() -> None:
    assert builtin().cost("llama-3-70b", {"prompt_tokens": 10}) is None
    input_only = builtin().with_overrides(read_overrides({"m": {"input": 1.0}}))
    assert input_only.cost("m", {"prompt_tokens": 10, "completion_tokens": 5}) is None  # output has no price
    assert input_only.cost("m", {"prompt_tokens": 1_000_000, "total_tokens": 1_000_000}) == 1.0  # as embeddings are
    assert builtin().cost("gpt-5.4-mini", None) is None
    assert builtin().cost(None, {"prompt_tokens": 10}) is None


def test_overrides_from_a_dict_a_json_or_a_toml_file(tmp_path: Path) -> None:
    assert read_overrides({"m": {"input": 1, "output": 2}})["m"].output == 2.0
    (tmp_path / "p.json").write_text(json.dumps({"models": {"m": {"input": 3}}}))
    assert read_overrides(str(tmp_path / "p.json"))["m"].input == 3.0
    (tmp_path / "p.toml").write_text('[m]\ninput = 4.0\ncached_input = 1.0\n')
    assert read_overrides(str(tmp_path / "p.toml"))["m"].cached_input == 1.0
    table = builtin().with_overrides(read_overrides({"gpt-5.4-mini": {"input": 0, "output": 0}}))
    assert table.cost("gpt-5.4-mini", {"prompt_tokens": 100}) == 0.0
    assert read_overrides("") == {}


def test_a_toml_table_of_a_dotted_model_name_without_quotes_is_told_how_to_write_it(tmp_path: Path) -> None:
    # TOML reads [models.gpt-5.4-mini] as the table "gpt-5", holding "4-mini": no price of a model at all.
    (tmp_path / "p.toml").write_text('[models.gpt-5.4-mini]\ninput = 1.0\noutput = 2.0\n')
    with pytest.raises(PriceError, match=r"'gpt-5' holds tables \('4-mini'\), not prices: a model name with a dot "
                                         r"is quoted in TOML, as in \[models\.\"gpt-5\.4-mini\"\]$"):
        read_overrides(str(tmp_path / "p.toml"))
    (tmp_path / "p.toml").write_text('[models."gpt-5.4-mini"]\ninput = 1.0\noutput = 2.0\n')
    assert read_overrides(str(tmp_path / "p.toml"))["gpt-5.4-mini"].output == 2.0


@pytest.mark.parametrize(("value", "message"), [
    ({"m": {"output": 1}}, "'m' needs at least an input price"),
    ({"m": {"input": -1}}, "'m' input must be a number of dollars of at least 0, not -1"),
    ({"m": {"input": float("nan")}}, "'m' input must be a number of dollars of at least 0, not nan"),
    ({"m": {"input": 1, "outptu": 2}}, "'m' has an unknown price 'outptu'"),
    ({"m": {"input": 1, "batch_discount": 2}}, "'m' batch_discount is a share between 0 and 1, not 2.0"),
    ([1, 2], "expected a mapping of model names to prices, got list"),
    ("/no/such/prices.json", "cannot read /no/such/prices.json"),
])
def test_a_bad_override_is_one_line(value: object, message: str) -> None:
    with pytest.raises(PriceError) as caught:
        read_overrides(value)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_money_reads_as_a_person_writes_it() -> None:
    assert [money(x) for x in (0, 1.234, 0.01, 0.00108, 0.00000004)] == ["$0", "$1.23", "$0.01", "$0.0011", "$0.00000004"]
