"""The small line under a reply: model, latency, tokens (and how many of them went on reasoning,
when the answer says: `completion_tokens_details` in chat, `output_tokens_details` in Responses),
and what they cost when the model has a price (`oai_magics.prices`; none is shown otherwise).

In a notebook it is a plain mime bundle (the line as grey HTML, and as text), published as it is:
no display object, so no pass through IPython's formatters for a one-line note.
"""

from __future__ import annotations

import html

from IPython.display import display

__all__ = ["usage_text", "show_usage", "reasoning_tokens"]


def reasoning_tokens(usage: dict | None) -> int:
    """The tokens an answer says the model spent reasoning (0 when it says nothing)."""
    details = (usage or {}).get("completion_tokens_details") or (usage or {}).get("output_tokens_details")
    count = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def usage_text(model: str, seconds: float, usage: dict | None, note: str = "", cost: float | None = None) -> str:
    parts = [model, f"{seconds:.2f} s"]
    if usage and ("prompt_tokens" in usage or "completion_tokens" in usage):
        reasoning = reasoning_tokens(usage)
        parts.append(f"{_count(usage.get('prompt_tokens', 0))} prompt + {_count(usage.get('completion_tokens', 0))} "
                     f"completion tokens" + (f" ({_count(reasoning)} reasoning)" if reasoning else ""))
    if note:
        parts.append(note)
    if cost is not None:
        from ..prices import money

        parts.append(money(cost))
    return " · ".join(parts)


def _count(value: object) -> str:
    """A token count as the line shows it: "?" for what no count is (text, a fraction, a negative or
    absurd number from a bad server), not the server's words repeated as if they were one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return str(value)
    return "?"


def show_usage(model: str, seconds: float, usage: dict | None, note: str = "", rich: bool = True,
               cost: float | None = None) -> None:
    text = usage_text(model, seconds, usage, note, cost)
    if rich:
        line = f'<div class="oai-usage" style="color:#888;font-size:85%">{html.escape(text)}</div>'
        display({"text/html": line, "text/plain": text}, raw=True, metadata={"oai": "usage"})
    else:
        print(f"[{text}]")
