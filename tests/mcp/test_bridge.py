"""How MCP tools are named and chosen for the model (no server needed)."""

from __future__ import annotations

import re

import pytest

from oai_magics.mcp.bridge import MAX_NAME, function_name, parse_selection
from oai_magics.mcp.servers import McpError, ServerSpec
from oai_magics.tools import chat_tool


def test_names_are_server__tool_and_valid_for_the_api() -> None:
    assert function_name("data", "query", set()) == "data__query"
    odd = function_name("my-db", "rows.by id/π", set())
    assert re.fullmatch(r"[A-Za-z0-9_-]+", odd) and odd.startswith("my-db__rows_by_id")


def test_long_and_clashing_names_stay_unique_and_short() -> None:
    long = function_name("data", "x" * 80, set())
    assert len(long) == MAX_NAME and long != function_name("data", "x" * 81, set())
    taken = {"a__b_c"}
    assert function_name("a", "b.c", taken) not in taken  # "b.c" and "b_c" would both be a__b_c


@pytest.mark.parametrize(("values", "chosen"), [
    (["data"], {"data": None}),
    (["data,search"], {"data": None, "search": None}),
    (["data:query,describe"], {"data": ["query", "describe"]}),
    (["data:query", "data:describe", "web"], {"data": ["query", "describe"], "web": None}),
    (["data", "data:query"], {"data": None}),  # chosen whole stays whole
])
def test_selections(values: list[str], chosen: dict) -> None:
    assert parse_selection(values) == chosen


def test_a_selection_without_tools_is_refused() -> None:
    with pytest.raises(McpError, match="expected NAME:tool1,tool2"):
        parse_selection(["data:"])


def test_a_bridged_tool_is_described_by_its_own_spec() -> None:
    class Described:
        tool_spec = {"name": "data__query", "description": "Run SQL.",
                     "parameters": {"type": "object", "properties": {"sql": {"type": "string"}}}, "strict": False}

        def __call__(self, **arguments: object) -> str:
            return ""

    assert chat_tool(Described(), "data__query") == {"type": "function", "function": Described.tool_spec}


@pytest.mark.parametrize(("options", "message"), [
    ({"name": "a b", "command": ("x",)}, "a server name is"),
    ({"name": "a"}, "either a command"),
    ({"name": "a", "command": ("x",), "approve": "maybe"}, "--approve"),
    ({"name": "a", "command": ("x",), "timeout": 0}, "--timeout"),
    ({"name": "a", "url": "sk-pasted-token"}, "--url: an http:// or https:// address"),
    ({"name": "a", "url": "ftp://me:sk-pasted-token@host/mcp"}, "--url: an http:// or https:// address"),
])
def test_bad_specs(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        ServerSpec(**options)
    assert "sk-pasted-token" not in str(caught.value)  # what was typed there may be a token: not repeated
