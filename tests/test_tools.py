"""tools: Python callables and given specs described in both tool shapes, and called."""

from __future__ import annotations

import functools
from typing import Literal, Optional

import pytest

from oai_magics.tools import OUTPUT_LIMIT, call_tool, chat_tool, function_spec, responses_tool, strict_ready


def weather(city: str, unit: Literal["c", "f"] = "c", days: int = 1, hourly: bool = False,
            tags: Optional[list[str]] = None) -> dict:
    """Forecast for a city.

    Longer text that is not part of the description.
    """
    return {"city": city, "unit": unit, "days": days}


def test_chat_shape_builds_a_json_schema_from_the_signature() -> None:
    tool = chat_tool(weather)
    function = tool["function"]
    assert tool["type"] == "function" and function["name"] == "weather"
    assert function["description"] == "Forecast for a city."
    props = function["parameters"]["properties"]
    assert props["city"] == {"type": "string"}
    assert props["unit"] == {"enum": ["c", "f"], "default": "c"}
    assert props["days"] == {"type": "integer", "default": 1} and props["hourly"] == {"type": "boolean", "default": False}
    assert props["tags"] == {"type": ["array", "null"], "items": {"type": "string"}, "default": None}
    assert function["parameters"]["required"] == ["city"]
    assert function["strict"] is False  # optional parameters: not strict-ready


def test_optional_types_keep_their_type_in_both_spellings() -> None:
    def pick(limit: int | None, label: str | int | None = None, ratio: Optional[float] = None) -> None:
        """Pick."""

    props = function_spec(pick)["parameters"]["properties"]
    assert props["limit"] == {"type": ["integer", "null"]}
    assert props["label"] == {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}], "default": None}
    assert props["ratio"] == {"type": ["number", "null"], "default": None}


def test_a_callable_is_named_by_the_name_it_is_called_with() -> None:
    forecast = weather  # an alias: the model must call it by the name the notebook knows
    assert chat_tool(forecast, "forecast")["function"]["name"] == "forecast"
    assert responses_tool(forecast, "forecast")["name"] == "forecast"


def test_partials_and_callable_objects_are_described() -> None:
    oslo = functools.partial(weather, "Oslo")
    spec = function_spec(oslo, "oslo_weather")
    assert spec["name"] == "oslo_weather" and spec["description"] == "Forecast for a city."
    assert "city" not in spec["parameters"]["properties"] and spec["parameters"]["properties"]["days"]["type"] == "integer"

    class Lookup:
        """Find a word in the glossary."""

        def __call__(self, word: str) -> str:
            return word.upper()

    spec = function_spec(Lookup())
    assert spec["name"] == "Lookup" and spec["description"] == "Find a word in the glossary."
    assert spec["parameters"]["properties"] == {"word": {"type": "string"}}
    assert call_tool({"lookup": Lookup()}, "lookup", '{"word": "owl"}') == "OWL"
    with pytest.raises(TypeError, match="has no signature"):
        function_spec(max, "largest")  # a builtin whose signature Python cannot read


def test_both_shapes_from_one_spec_and_strict_only_when_ready() -> None:
    def exact(city: str, days: int) -> None:
        """All required."""

    chat, flat = chat_tool(exact), responses_tool(exact)
    assert flat == {"type": "function", **chat["function"]}
    assert flat["strict"] is True and flat["parameters"]["additionalProperties"] is False
    given = {"type": "function", "name": "lookup", "description": "d",
             "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}
    assert chat_tool(given)["function"] == {"name": "lookup", "description": "d", "parameters": given["parameters"],
                                            "strict": False}
    assert responses_tool(chat_tool(given)) == {**given, "strict": False}
    assert not strict_ready({"type": "object", "properties": {"q": {}}, "required": ["q"], "additionalProperties": False})
    assert strict_ready({"type": "object", "properties": {"q": {"type": ["string", "null"]}}, "required": ["q"],
                         "additionalProperties": False})


def test_call_tool_returns_text_and_reports_failures() -> None:
    functions = {"weather": weather}
    assert call_tool(functions, "weather", '{"city": "Oslo"}') == '{"city": "Oslo", "unit": "c", "days": 1}'
    assert call_tool(functions, "weather", "{not json").startswith("error: JSONDecodeError")
    assert call_tool(functions, "weather", '{"town": "Oslo"}').startswith("error: TypeError")
    assert call_tool(functions, "nothing", "{}") == "error: there is no tool named 'nothing'"


# -- a callable object's tool is described as "Call self as a function." --------------------------

class Shout:
    """Shout a word back."""

    def __call__(self, word: str) -> str:
        return word.upper()


def test_a_callable_objects_tool_is_described_by_its_class() -> None:
    assert chat_tool(Shout(), "shout")["function"]["description"] == "Shout a word back."


def test_a_tool_output_longer_than_a_context_window_takes_is_cut_and_the_model_told() -> None:
    functions = {"dump": lambda: "x" * 250_000, "small": lambda: "fine", "fail": lambda: 1 / 0}
    cut = call_tool(functions, "dump", "{}")
    assert cut.startswith("x" * 1000) and len(cut) < OUTPUT_LIMIT + 100
    assert cut.endswith(f"[... {250_000 - OUTPUT_LIMIT:,} more characters of this tool's output were cut]")
    assert call_tool(functions, "small", "{}") == "fine"
    assert call_tool(functions, "fail", "{}") == "error: ZeroDivisionError: division by zero"
