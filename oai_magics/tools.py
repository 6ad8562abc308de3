"""Python functions as chat tools: a JSON schema from the signature and docstring, and the call.

    def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
        "Current weather in a city."
    describe(get_weather)  ->  {"type": "function", "function": {"name": "get_weather", ...}}
"""

from __future__ import annotations

import inspect
import json
import typing
from typing import Any, Callable, Literal, get_args, get_origin

__all__ = ["describe", "call_tool"]

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def _schema(annotation: Any) -> dict:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    origin = get_origin(annotation)
    if origin is Literal:
        return {"enum": list(get_args(annotation))}
    if origin in (list, tuple, typing.Sequence) and get_args(annotation):
        return {"type": "array", "items": _schema(get_args(annotation)[0])}
    if origin is typing.Union:
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _schema(options[0]) if len(options) == 1 else {"anyOf": [_schema(a) for a in options]}
    if origin in _JSON_TYPES:
        return {"type": _JSON_TYPES[origin]}
    return {"type": _JSON_TYPES[annotation]} if annotation in _JSON_TYPES else {}


def describe(function: Callable[..., Any]) -> dict:
    """The tool definition the API expects for a Python function."""
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = {}
    properties, required = {}, []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        properties[name] = _schema(hints.get(name, parameter.annotation))
        if parameter.default is inspect.Parameter.empty:
            required.append(name)
        elif isinstance(parameter.default, (str, int, float, bool)) or parameter.default is None:
            properties[name]["default"] = parameter.default
    doc = inspect.getdoc(function) or ""
    return {"type": "function", "function": {
        "name": function.__name__, "description": doc.split("\n\n")[0].strip() or function.__name__,
        "parameters": {"type": "object", "properties": properties, "required": required}}}


def call_tool(functions: dict[str, Callable[..., Any]], name: str, arguments: str) -> str:
    """Run the function a tool call names; its result (or the error) as text for the model."""
    function = functions.get(name)
    if function is None:
        return f"error: there is no tool named {name!r}"
    try:
        kwargs = json.loads(arguments or "{}")
        result = function(**kwargs)
    except Exception as exc:  # the model should hear about a failing tool, not the notebook crash
        return f"error: {type(exc).__name__}: {exc}"
    return result if isinstance(result, str) else json.dumps(result, default=str)
