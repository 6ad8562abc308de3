"""The MCP calls shown under a reply: collapsed HTML for a rich front end, a line each in plain text."""

from __future__ import annotations

import html

from oai_magics.display.tool_calls import _details, call_line
from oai_magics.mcp.bridge import CallRecord


def test_arguments_and_results_are_shown_as_typed_in_both_forms() -> None:
    call = CallRecord("geo", "lookup", {"city": "São Paulo", "note": "<b>"}, "Zürich ≠ São Paulo", 0.25, "ok")
    shown, line = _details(call), call_line(call)
    assert "&lt;b&gt;" in shown  # escaped: the arguments are text, never markup
    assert '"city": "São Paulo"' in html.unescape(shown) and "Zürich ≠ São Paulo" in shown
    assert '"city": "São Paulo"' in line and "\\u00e3" not in shown + line


def test_a_long_result_is_shortened() -> None:
    call = CallRecord("geo", "dump", {}, "x" * 5000, 1.0, "ok")
    assert len(_details(call)) < 1000 and call_line(call).count("x") < 300
