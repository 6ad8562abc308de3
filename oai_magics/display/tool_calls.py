"""The MCP tool calls of a reply, shown under it: collapsed in a rich front end (an HTML <details>
per call: the tool, its arguments, a short result, the time), one line per call in plain text."""

from __future__ import annotations

import contextlib
import html
import json
from typing import Any, Iterator, Sequence

__all__ = ["show_calls", "call_line", "calls_shown"]

SHORT = 200  # characters of a result shown


def _arguments(call: Any) -> str:
    return json.dumps(call.arguments, ensure_ascii=False, default=str)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT else text[:SHORT - 1] + "…"


def _label(call: Any) -> str:
    return {"ok": "", "error": " (tool error)", "denied": " (refused)"}.get(call.outcome, "")


def call_line(call: Any) -> str:
    """One call in one line."""
    return (f"mcp {call.server}.{call.tool}({_arguments(call)}){_label(call)} -> {_short(call.result)} "
            f"[{call.seconds:.2f} s]")


def _details(call: Any) -> str:
    summary = html.escape(f"{call.server}.{call.tool}{_label(call)} · {call.seconds:.2f} s")
    return (f"<details><summary>{summary}</summary><pre>{html.escape(json.dumps(call.arguments, indent=2, ensure_ascii=False, default=str))}"
            f"</pre><pre>{html.escape(_short(call.result))}</pre></details>")


def show_calls(calls: Sequence[Any]) -> None:
    """Display the calls: HTML for front ends that render it, a line each for the rest."""
    if not calls:
        return
    from IPython.display import display

    display({"text/html": "".join(_details(c) for c in calls), "text/plain": "\n".join(map(call_line, calls))},
            raw=True)


@contextlib.contextmanager
def calls_shown(log: Any) -> Iterator[None]:
    """Show the calls in `log` (a `CallLog`, or None) when the block ends, also when it failed after them."""
    try:
        yield
    finally:
        if log is not None:
            show_calls(log.calls)
