"""tools: Python functions described as chat tools, and called."""

from __future__ import annotations

from typing import Literal, Optional

from oai_magics.tools import call_tool, describe


def weather(city: str, unit: Literal["c", "f"] = "c", days: int = 1, hourly: bool = False,
            tags: Optional[list[str]] = None) -> dict:
    """Forecast for a city.

    Longer text that is not part of the description.
    """
    return {"city": city, "unit": unit, "days": days}


def test_describe_builds_a_json_schema_from_the_signature() -> None:
    tool = describe(weather)
    function = tool["function"]
    assert tool["type"] == "function" and function["name"] == "weather"
    assert function["description"] == "Forecast for a city."
    props = function["parameters"]["properties"]
    assert props["city"] == {"type": "string"}
    assert props["unit"] == {"enum": ["c", "f"], "default": "c"}
    assert props["days"] == {"type": "integer", "default": 1} and props["hourly"] == {"type": "boolean", "default": False}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "default": None}
    assert function["parameters"]["required"] == ["city"]


def test_call_tool_returns_text_and_reports_failures() -> None:
    functions = {"weather": weather}
    assert call_tool(functions, "weather", '{"city": "Oslo"}') == '{"city": "Oslo", "unit": "c", "days": 1}'
    assert call_tool(functions, "weather", "{not json").startswith("error: JSONDecodeError")
    assert call_tool(functions, "weather", '{"town": "Oslo"}').startswith("error: TypeError")
    assert call_tool(functions, "nothing", "{}") == "error: there is no tool named 'nothing'"
