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

__all__ = ["Price", "PriceTable", "PriceError", "builtin", "read_overrides", "money", "provenance"]

# A snapshot's date at the end of its name: gpt-4.1-mini-2025-04-14, o3-mini-2025-01-31.
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class PriceError(ValueError):
    """A price table or override that cannot be used; its text is one line naming what is wrong."""


@dataclass(frozen=True)
class Price:
    """One model's prices, dollars per million tokens; None where that kind costs what text does."""

    input: float
    output: float = 0.0
    cached_input: float | None = None
    image_input: float | None = None
    audio_input: float | None = None
    audio_output: float | None = None
    batch_discount: float | None = None  # None: the table's

    def cost(self, usage: Mapping[str, Any], batch_discount: float = 0.0) -> float:
        """Dollars for one answer's usage (chat, Responses, embeddings and image shapes alike):
        cached input at the cached price, image and audio tokens at theirs, reasoning tokens as the
        output they are counted in."""
        tokens = _Tokens.of(usage)
        per_million = (
            tokens.text_in * self.input
            + tokens.cached_text_in * _or(self.cached_input, self.input)
            + tokens.image_in * _or(self.image_input, self.input)
            + tokens.audio_in * _or(self.audio_input, self.input)
            + tokens.text_out * self.output
            + tokens.audio_out * _or(self.audio_output, self.output))
        return per_million / 1e6 * (1.0 - batch_discount)


def _or(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


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
    def of(cls, usage: Mapping[str, Any]) -> "_Tokens":
        # Chat and embeddings say prompt/completion, Responses and images say input/output.
        total_in = _count(usage, "prompt_tokens", "input_tokens")
        total_out = _count(usage, "completion_tokens", "output_tokens")
        details_in = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
        details_out = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
        cached = _count(details_in, "cached_tokens")  # counted inside the input, as image and audio tokens are
        image = _count(details_in, "image_tokens")
        audio_in = _count(details_in, "audio_tokens")
        audio_out = _count(details_out, "audio_tokens")
        return cls(text_in=max(total_in - cached - image - audio_in, 0), cached_text_in=cached, image_in=image,
                   audio_in=audio_in, text_out=max(total_out - audio_out, 0), audio_out=audio_out)


def _count(mapping: Any, *names: str) -> int:
    for name in names:
        value = mapping.get(name) if isinstance(mapping, Mapping) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


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
        """Dollars for one answer of `model`; None when the model has no price or no usage came."""
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
