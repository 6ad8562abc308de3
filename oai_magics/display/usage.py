"""The small line under a reply: model, latency, tokens.

In a notebook it is a plain mime bundle (the line as grey HTML, and as text), published as it is:
no display object, so no pass through IPython's formatters for a one-line note.
"""

from __future__ import annotations

import html

from IPython.display import display

__all__ = ["usage_text", "show_usage"]


def usage_text(model: str, seconds: float, usage: dict | None, note: str = "") -> str:
    parts = [model, f"{seconds:.2f} s"]
    if usage:
        parts.append(f"{usage.get('prompt_tokens', 0)} prompt + {usage.get('completion_tokens', 0)} completion tokens")
    if note:
        parts.append(note)
    return " · ".join(parts)


def show_usage(model: str, seconds: float, usage: dict | None, note: str = "", rich: bool = True) -> None:
    text = usage_text(model, seconds, usage, note)
    if rich:
        line = f'<div class="oai-usage" style="color:#888;font-size:85%">{html.escape(text)}</div>'
        display({"text/html": line, "text/plain": text}, raw=True, metadata={"oai": "usage"})
    else:
        print(f"[{text}]")
