"""Python functions (and MCP tools) as model tools: one place that builds both tool shapes, and the call.

    def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
        "Current weather in a city."

    chat_tool(get_weather)       ->  {"type": "function", "function": {"name": "get_weather", ...}}
    responses_tool(get_weather)  ->  {"type": "function", "name": "get_weather", ..., "strict": False}

Chat completions and the Assistants API nest the function under `function`; the Responses API
uses the flat shape. Both are built from one flat spec (`function_spec`): from a Python callable
(a function, a `functools.partial`, an object with `__call__`) or from a spec in either shape.
A callable is named by the name it is called with (`name=`, the notebook variable), so an alias
round-trips. A callable with a `tool_spec` dict (an MCP tool, `mcp.bridge`) is described by it.
`strict` is true only when the schema is strict-ready (every property required,
no additional properties, every value typed); otherwise the API is told `strict: false`.
"""

from __future__ import annotations

import functools
import inspect
import json
import types
import typing
from typing import Any, Callable, Literal, get_args, get_origin

from .local_errors import LocalError

__all__ = ["function_spec", "chat_tool", "responses_tool", "call_tool", "strict_ready"]

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}
# The most characters of a tool's output the model is sent (about 25,000 tokens). The API takes up
# to 10 MB, but a context window does not: a longer output would make the next request fail, so it
# is cut here, one place for Python functions and MCP tools alike, and the model is told so.
OUTPUT_LIMIT = 100_000


def _schema(annotation: Any) -> dict:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    origin = get_origin(annotation)
    if origin is Literal:
        return {"enum": list(get_args(annotation))}
    if origin in (list, tuple, typing.Sequence) and get_args(annotation):
        return {"type": "array", "items": _schema(get_args(annotation)[0])}
    if origin in (typing.Union, types.UnionType):
        return _union(get_args(annotation))
    if origin in _JSON_TYPES:
        return {"type": _JSON_TYPES[origin]}
    return {"type": _JSON_TYPES[annotation]} if annotation in _JSON_TYPES else {}


def _union(members: tuple) -> dict:
    """`X | Y`, and `X | None` / `Optional[X]`: X's schema that also admits null."""
    options = [_schema(a) for a in members if a is not type(None)]
    schema = options[0] if len(options) == 1 else {"anyOf": options}
    if type(None) not in members:
        return schema
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    if "anyOf" in schema:
        return {"anyOf": schema["anyOf"] + [{"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]} if schema else {}


def _target(function: Callable[..., Any]) -> Callable[..., Any]:
    """What holds the docstring and annotations: the wrapped function of a partial, the
    `__call__` of a callable object."""
    while isinstance(function, functools.partial):
        function = function.func
    if not (inspect.isfunction(function) or inspect.ismethod(function) or inspect.isbuiltin(function)):
        function = getattr(type(function), "__call__", function)
    return function


def _name(function: Callable[..., Any]) -> str:
    name = getattr(_target(function), "__name__", "")
    return type(function).__name__ if name in ("", "__call__") else name


def _doc(function: Callable[..., Any]) -> str:
    """The function's docstring; for a callable object, its `__call__`'s or else its class's."""
    target = _target(function)
    own = getattr(target, "__doc__", None)
    if own:
        return inspect.cleandoc(own)
    if target is not function and not isinstance(function, functools.partial):  # a partial's own doc is about partial
        # getdoc would look up `__call__` among the bases, where type.__call__ says "Call self as a function."
        return inspect.getdoc(type(function)) or ""
    return inspect.getdoc(target) or ""


def strict_ready(schema: dict) -> bool:
    """Whether a parameters schema meets the API's strict mode (structured outputs) rules."""
    if "anyOf" in schema:
        return all(strict_ready(option) for option in schema["anyOf"])
    if "enum" in schema:
        return True
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if None in kinds:
        return False
    if "object" in kinds:
        properties = schema.get("properties")
        if properties is None or schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required") or []) != set(properties):
            return False
        return all(strict_ready(value) for value in properties.values())
    if "array" in kinds:
        return strict_ready(schema.get("items") or {})
    return True


def _from_callable(function: Callable[..., Any], name: str | None) -> dict:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name or _name(function)!r} has no signature to describe ({exc})") from None
    try:
        hints = typing.get_type_hints(_target(function))
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = {}
    properties, required = {}, []
    for parameter_name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        properties[parameter_name] = _schema(hints.get(parameter_name, parameter.annotation))
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter_name)
        elif isinstance(parameter.default, (str, int, float, bool)) or parameter.default is None:
            properties[parameter_name]["default"] = parameter.default
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    doc = _doc(function)
    name = name or _name(function)
    return {"name": name, "description": doc.split("\n\n")[0].strip() or name, "parameters": parameters,
            "strict": strict_ready(parameters)}


def _from_spec(spec: dict, name: str | None) -> dict:
    nested = spec.get("function")
    flat = dict(nested) if isinstance(nested, dict) else {k: v for k, v in spec.items() if k != "type"}
    if name:
        flat["name"] = name
    if not flat.get("name"):
        raise ValueError(f"a tool spec needs a name: {spec!r}")
    flat.setdefault("parameters", {"type": "object", "properties": {}})
    if flat.get("strict") is None:
        flat["strict"] = strict_ready(flat["parameters"])
    return flat


def function_spec(tool: Callable[..., Any] | dict, name: str | None = None) -> dict:
    """The flat spec `{name, description, parameters, strict}` of a callable or a tool spec
    in either shape; `name` overrides the callable's own name."""
    if isinstance(tool, dict):
        return _from_spec(tool, name)
    if isinstance(getattr(tool, "tool_spec", None), dict):  # a callable that describes itself (an MCP tool)
        return _from_spec(tool.tool_spec, name)
    if not callable(tool):
        raise TypeError(f"{name or tool!r} is neither a callable nor a tool spec")
    return _from_callable(tool, name)


def chat_tool(tool: Callable[..., Any] | dict, name: str | None = None) -> dict:
    """The chat completions / Assistants shape: the function nested under `function`."""
    return {"type": "function", "function": function_spec(tool, name)}


def responses_tool(tool: Callable[..., Any] | dict, name: str | None = None) -> dict:
    """The Responses API shape: the function's fields beside `type`."""
    return {"type": "function", **function_spec(tool, name)}


def call_tool(functions: dict[str, Callable[..., Any]], name: str, arguments: str) -> str:
    """Run the function a tool call names; its result (or the error) as text for the model."""
    function = functions.get(name)
    if function is None:
        return f"error: there is no tool named {name!r}"
    try:
        kwargs = json.loads(arguments or "{}")
        result = function(**kwargs)
    except LocalError:  # oai_magics' own refusal (a server that died, an approval nobody can give) stops the loop
        raise
    except Exception as exc:  # the model should hear about a failing tool, not the notebook crash
        return cut_output(f"error: {type(exc).__name__}: {exc}")
    return cut_output(result if isinstance(result, str) else json.dumps(result, default=str))


def cut_output(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """`text` as it is, or its first `limit` characters and a line saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... {len(text) - limit:,} more characters of this tool's output were cut]"
