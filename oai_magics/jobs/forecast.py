"""What a job of many requests will cost before it is sent: its requests, its input tokens (counted
by `estimates.count_tokens`, marked ≈ when approximated), its output tokens (from the max tokens a
request may have, else a stated assumption), the dollars (at the Batch price where it goes through
the Batch API) and the time the rate limits allow, in one line.

The time is told from the `x-ratelimit-limit-requests/tokens` headers last heard from the server,
read as OpenAI's limits are, per minute; with none heard it is left out rather than guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from ..prices import PriceTable, money
from .estimates import TokenCount, count_tokens

__all__ = ["Forecast", "forecast", "ASSUMED_REPLY_TOKENS", "rate_limited_seconds"]

# Tokens a chat reply is assumed to take when nothing bounds it: a few paragraphs. Said in the line,
# so a person who knows their replies are longer (or that a reasoning model thinks at length) can
# bound them with --max-tokens, which the estimate then takes as the most each reply costs.
ASSUMED_REPLY_TOKENS = 300


@dataclass(frozen=True)
class Forecast:
    """A job's estimate; `line()` says it."""

    model: str
    requests: int
    input: TokenCount
    output_tokens: int = 0  # all requests together
    output_basis: str = ""  # how output_tokens was told ("" where there is no output, as in embeddings)
    cost: float | None = None  # dollars; None: the model has no price
    batch: bool = False
    seconds: float | None = None  # what the rate limits allow; None: no limits heard

    def line(self) -> str:
        approx = "" if self.input.exact else "≈"
        how = f"counted with tiktoken {self.input.encoding}" if self.input.exact else \
            "approximated: ≈ 1 token a word or punctuation mark, no tiktoken encoding here"
        parts = [f"{self.requests:,} request{'s' * (self.requests != 1)} to {self.model}",
                 f"{approx}{self.input.tokens:,} input tokens ({how})"]
        if self.output_basis:
            parts.append(f"{self.output_tokens:,} output tokens ({self.output_basis})")
        if self.cost is None:
            parts.append(f"cost unknown (no price for {self.model}: %config OAIMagics.prices adds one)")
        else:
            parts.append(f"about {money(self.cost)}" + (" at the Batch API's price" if self.batch else ""))
        if self.batch:
            parts.append("the Batch API answers within 24 h")
        elif self.seconds is not None:
            parts.append(f"at least {_duration(self.seconds)} at the rate limits last heard")
        return "estimate: " + ", ".join(parts)


def forecast(prices: PriceTable, model: str, inputs: Sequence[str], *, requests: int, output_per_request: int = 0,
             output_basis: str = "", batch: bool = False, limits: Mapping[str, str] | None = None,
             overhead_per_request: int = 0) -> Forecast:
    """The estimate of `requests` requests to `model` carrying `inputs` (their texts, all together),
    each answered with about `output_per_request` tokens; `overhead_per_request` counts what each
    request adds besides its texts (the chat format's few tokens a message)."""
    counted = count_tokens(inputs, model)
    counted = TokenCount(counted.tokens + overhead_per_request * requests, counted.encoding)
    output = output_per_request * requests
    usage = {"prompt_tokens": counted.tokens, "completion_tokens": output}
    cost = prices.cost(model, usage, batch=batch)
    seconds = None if batch else rate_limited_seconds(requests, counted.tokens, limits or {})
    return Forecast(model, requests, counted, output, output_basis, cost, batch, seconds)


def rate_limited_seconds(requests: int, tokens: int, limits: Mapping[str, str]) -> float | None:
    """The least time `requests` requests of `tokens` tokens take at the per-minute limits heard."""
    minutes = []
    for amount, header in ((requests, "x-ratelimit-limit-requests"), (tokens, "x-ratelimit-limit-tokens")):
        try:
            limit = float(limits.get(header, ""))
        except ValueError:
            continue
        if limit > 0 and math.isfinite(limit):
            minutes.append(amount / limit)
    return max(minutes) * 60 if minutes else None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
