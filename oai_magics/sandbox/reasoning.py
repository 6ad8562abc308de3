"""Reasoning models as the API treats them: `reasoning_effort` (chat) or `reasoning.effort`
(responses) checked against the spec's enum, `max_tokens` refused in the API's words, and the
tokens spent on reasoning counted apart in the usage.

How many tokens a reasoning step takes is the sandbox's own fixed scale per effort, so answers stay
deterministic; `none` (the default of the gpt-5.x models the sandbox offers) thinks not at all.
"""

from __future__ import annotations

from typing import Any

from .catalog import Model
from .errors import invalid

__all__ = ["EFFORTS", "effort_of", "reasoning_tokens", "check_token_limit", "with_reasoning"]

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")  # ReasoningEffort, 2026 spec
_TOKENS = {"none": 0, "minimal": 8, "low": 24, "medium": 64, "high": 160, "xhigh": 320, "max": 640}


def _unsupported(name: str, advice: str = "") -> Exception:
    return invalid(f"Unsupported parameter: '{name}' is not supported with this model.{advice}", param=name,
                   code="unsupported_parameter")


def effort_of(model: Model, effort: Any, param: str) -> str | None:
    """The effort a request asks of `model` (None for a model that does not reason)."""
    if effort is None:
        return "none" if model.reasoning else None
    if not model.reasoning:
        raise _unsupported(param)
    if effort not in EFFORTS:
        allowed = ", ".join(f"'{e}'" for e in EFFORTS)
        raise invalid(f"Invalid value: '{effort}'. Supported values are: {allowed}.", param=param, code="invalid_value")
    return effort


def reasoning_tokens(effort: str | None) -> int:
    return _TOKENS.get(effort or "none", 0)


def check_token_limit(model: Model, body: dict) -> None:
    """A reasoning model takes `max_completion_tokens` only, as api.openai.com says."""
    if model.reasoning and body.get("max_tokens") is not None:
        raise _unsupported("max_tokens", " Use 'max_completion_tokens' instead.")


def with_reasoning(usage: dict | None, tokens: int) -> dict | None:
    """A Responses usage object with `tokens` of reasoning counted in its output."""
    if usage is None or not tokens:
        return usage
    return {**usage, "output_tokens": usage["output_tokens"] + tokens, "total_tokens": usage["total_tokens"] + tokens,
            "output_tokens_details": {**usage.get("output_tokens_details", {}), "reasoning_tokens": tokens}}
