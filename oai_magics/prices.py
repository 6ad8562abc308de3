"""What a request costs in money: the price table and the arithmetic on an answer's `usage`.

The table is package data, `data/prices.json`: per model, US dollars per million tokens as OpenAI's
pricing page writes them (input, cached_input, output, and image or audio tokens where they cost
other than text), the Batch API's discount, and the date and source of the figures. `%config
OAIMagics.prices` overrides or extends it with a dict or a JSON/TOML file of the same shape
(`{"gpt-4.1-mini": {"input": 0.4, "cached_input": 0.1, "output": 1.6}}`).

A model that is in neither has no price, and every function here then says None: no figure is
better than a guessed one. A dated model name costs what its alias does unless it is listed itself.
Read on first use, never at `%load_ext`; nothing here imports IPython.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

__all__ = ["Price", "PriceTable", "PriceError", "builtin", "read_overrides", "money", "provenance", "token_count",
           "MOST_TOKENS"]

# A snapshot's date at the end of its name: gpt-4.1-mini-2025-04-14, o3-mini-2025-01-31.
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class PriceError(ValueError):
    """A price table or override that cannot be used; its text is one line naming what is wrong."""


@dataclass(frozen=True)
class Price:
    """One model's prices, dollars per million tokens; None where that kind costs what text does
    (for `output`: where the table gives no output price, as for an embedding model)."""

    input: float
    output: float | None = None
    cached_input: float | None = None
    image_input: float | None = None
    audio_input: float | None = None
    audio_output: float | None = None
    batch_discount: float | None = None  # None: the table's

    def cost(self, usage: Mapping[str, Any], batch_discount: float = 0.0) -> float | None:
        """Dollars for one answer's usage (chat, Responses, embeddings and image shapes alike):
        cached input at the cached price, image and audio tokens at theirs, reasoning tokens as the
        output they are counted in. None for a usage that is not one (see `_Tokens.of`) and for
        output tokens of a model with no output price: no figure rather than $0 for them."""
        tokens = _Tokens.of(usage)
        if tokens is None:
            return None
        audio_output = _or(self.audio_output, self.output)
        if (tokens.text_out and self.output is None) or (tokens.audio_out and audio_output is None):
            return None
        per_million = (
            tokens.text_in * self.input
            + tokens.cached_text_in * _or(self.cached_input, self.input)
            + tokens.image_in * _or(self.image_input, self.input)
            + tokens.audio_in * _or(self.audio_input, self.input)
            + tokens.text_out * (self.output or 0.0)
            + tokens.audio_out * (audio_output or 0.0))
        return per_million / 1e6 * (1.0 - batch_discount)


def _or(value: float | None, fallback: float | None) -> float | None:
    return fallback if value is None else value


# More tokens than any one answer holds; a count past it is a bad server's (and some are past a float).
MOST_TOKENS = 10 ** 12


def token_count(value: Any) -> int | None:
    """`value` as an answer's count of tokens (a whole number from 0 to MOST_TOKENS), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MOST_TOKENS:
        return value
    return None


class _Malformed(ValueError):
    """A usage with a count that is not one: no figure can stand on it."""


@dataclass
class _Tokens:
    """An answer's tokens split by how they are priced; the parts add up to its input and output."""

    text_in: int = 0
    cached_text_in: int = 0
    image_in: int = 0
    audio_in: int = 0
    text_out: int = 0
    audio_out: int = 0

    @classmethod
    def of(cls, usage: Any) -> "_Tokens | None":
        """The tokens of a usage; None when it holds no count at all, a count that is not a whole
        number of tokens (text, a fraction, below 0), or a part larger than its whole (more cached
        tokens than input): a bad server's usage, where pricing what looks right would be part of a bill."""
        if not isinstance(usage, Mapping) or not any(
                name in usage for name in ("prompt_tokens", "input_tokens", "completion_tokens", "output_tokens")):
            return None
        try:
            # Chat and embeddings say prompt/completion, Responses and images say input/output.
            total_in = _count(usage, "prompt_tokens", "input_tokens")
            total_out = _count(usage, "completion_tokens", "output_tokens")
            details_in = _details(usage, "prompt_tokens_details", "input_tokens_details")
            details_out = _details(usage, "completion_tokens_details", "output_tokens_details")
            # Counted inside the input, as image and audio tokens are.
            cached, image, audio_in = (_count(details_in, name) for name in ("cached_tokens", "image_tokens",
                                                                              "audio_tokens"))
            audio_out = _count(details_out, "audio_tokens")
        except _Malformed:
            return None
        if max(cached, image, audio_in) > total_in or audio_out > total_out:
            return None
        return cls(text_in=max(total_in - cached - image - audio_in, 0), cached_text_in=cached, image_in=image,
                   audio_in=audio_in, text_out=total_out - audio_out, audio_out=audio_out)


def _count(mapping: Mapping[str, Any], *names: str) -> int:
    """The first of `names` that `mapping` has, as a count (0 when it has none); _Malformed when not one."""
    for name in names:
        if mapping.get(name) is not None:
            count = token_count(mapping[name])
            if count is None:
                raise _Malformed(name)
            return count
    return 0


def _details(usage: Mapping[str, Any], *names: str) -> Mapping[str, Any]:
    """A usage's breakdown of its input or output (empty when it gives none); _Malformed when not a mapping."""
    for name in names:
        if usage.get(name) is not None:
            if not isinstance(usage[name], Mapping):
                raise _Malformed(name)
            return usage[name]
    return {}


class PriceTable:
    """The package's prices with the user's on top; `price(model)` is None for a model in neither."""

    def __init__(self, models: Mapping[str, Price], batch_discount: float) -> None:
        self.models = dict(models)
        self.batch_discount = batch_discount

    def price(self, model: str | None) -> Price | None:
        if not model:
            return None
        return self.models.get(model) or self.models.get(_DATED.sub("", model))

    def cost(self, model: str | None, usage: Mapping[str, Any] | None, *, batch: bool = False) -> float | None:
        """Dollars for one answer of `model`; None when the model has no price, or no usable usage came."""
        price = self.price(model)
        if price is None or not usage:
            return None
        return price.cost(usage, self.discount(price) if batch else 0.0)

    def discount(self, price: Price) -> float:
        return self.batch_discount if price.batch_discount is None else price.batch_discount

    def with_overrides(self, overrides: Mapping[str, Price]) -> "PriceTable":
        """This table with the models of `overrides` (from `read_overrides`) put over it."""
        return PriceTable({**self.models, **overrides}, self.batch_discount)


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(resources.files("oai_magics").joinpath("data/prices.json").read_text(encoding="utf-8"))


def builtin() -> PriceTable:
    """The package's own table."""
    data = _data()
    return PriceTable(_models(data["models"], "data/prices.json"), float(data["batch_discount"]))


def provenance() -> str:
    """Where the package's prices come from: "OpenAI pricing page (https://...), read 2026-11-05"."""
    source = _data()["source"]
    return f"OpenAI pricing page ({source['page']}), read {source['read']}"


_FIELDS = {f.name for f in fields(Price)}


def _models(entries: Any, where: str) -> dict[str, Price]:
    if not isinstance(entries, Mapping):
        raise PriceError(f"{where}: expected a mapping of model names to prices, got {type(entries).__name__}")
    return {str(name): _price(name, entry, where) for name, entry in entries.items()}


def _price(name: str, entry: Any, where: str) -> Price:
    tables = [str(key) for key, value in entry.items() if isinstance(value, Mapping)] if isinstance(entry, Mapping) else []
    if tables and "input" not in entry:  # TOML cut an unquoted name at its dots: [models.gpt-5.4-mini]
        dotted = f"{name}.{tables[0]}"
        raise PriceError(f"{where}: {name!r} holds tables ({', '.join(map(repr, tables))}), not prices: a model name "
                         f"with a dot is quoted in TOML, as in [models.\"{dotted}\"]")
    if not isinstance(entry, Mapping) or "input" not in entry:
        raise PriceError(f"{where}: {name!r} needs at least an input price, e.g. {{\"input\": 0.4, \"output\": 1.6}}")
    values: dict[str, float] = {}
    for key, value in entry.items():
        if key == "from":  # where a figure was published: for people, not for sums
            continue
        if key not in _FIELDS:
            raise PriceError(f"{where}: {name!r} has an unknown price {key!r} (known: {', '.join(sorted(_FIELDS))})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise PriceError(f"{where}: {name!r} {key} must be a number of dollars of at least 0, not {value!r}")
        values[key] = float(value)
    if not 0 <= values.get("batch_discount", 0.0) <= 1:
        raise PriceError(f"{where}: {name!r} batch_discount is a share between 0 and 1, not {values['batch_discount']}")
    return Price(**values)


def read_overrides(value: Any) -> dict[str, Price]:
    """`%config OAIMagics.prices`: a dict, or the path of a JSON or TOML file holding one (a
    `models` table inside it is taken too); checked whole, so a bad one is one line."""
    if isinstance(value, str):
        value = _read_file(value) if value.strip() else {}
    if isinstance(value, Mapping) and isinstance(value.get("models"), Mapping):
        value = value["models"]
    return _models(value, "OAIMagics.prices")


def _read_file(text: str) -> Any:
    path = Path(text).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PriceError(f"OAIMagics.prices: cannot read {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(raw.decode("utf-8"))
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise PriceError(f"OAIMagics.prices: {path} is not valid {kind}: {str(exc).splitlines()[0]}") from None


def money(dollars: float) -> str:
    """Dollars as a person reads them: $1.23, $0.0012, $0.000004 (two significant digits below a cent)."""
    if dollars == 0:
        return "$0"
    if dollars >= 0.01:
        return f"${dollars:,.2f}"
    places = min(8, 1 - math.floor(math.log10(dollars)))
    return f"${dollars:.{places}f}"
