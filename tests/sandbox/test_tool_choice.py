"""Which offered tool the sandbox calls, and with what: the one the prompt names, with what it quotes."""

from __future__ import annotations

from oai_magics.sandbox.textgen import arguments_for, named_tool


def test_the_tool_the_prompt_names_else_the_first() -> None:
    names = ["data__list_tables", "data__describe", "data__query"]
    assert named_tool(names, "Which tables are there? Use list_tables.") == 0
    assert named_tool(names, "Please describe the orders table") == 1
    assert named_tool(names, "Run data__query now") == 2
    assert named_tool(names, "Hello there") == 0
    assert named_tool(["get_weather"], "weather in Porto") == 0  # a word inside a name is no name


def test_a_string_argument_is_what_the_prompt_quotes_as_code() -> None:
    schema = {"type": "object", "properties": {"sql": {"type": "string"}}}
    assert arguments_for(schema, "Run the query `SELECT 1` and `SELECT 2`") == {"sql": "SELECT 1"}
    assert arguments_for(schema, "What is the weather in Porto?") == {"sql": "Porto"}
