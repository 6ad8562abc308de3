"""Structured Outputs in the sandbox: a strict `json_schema` response format checked as the API checks
it, and answered with an instance that is valid against it.

With `strict: true` the API takes only a subset of JSON Schema and refuses the rest before it
generates anything, with a 400 naming where in the schema the fault is (`In context=('properties',
'note')`). The rules checked here are the ones every strict schema meets: each object says
`additionalProperties: false` and lists every one of its properties in `required` (a property that
may be missing is written as a union with `null` instead), and the root is an object.
"""

from __future__ import annotations

import json
from typing import Any

from . import textgen
from .errors import invalid

__all__ = ["check_response_format", "check_strict", "structured_reply", "schema_reply"]

# Where sub-schemas sit inside a schema, as the strict checker walks it.
NESTED_ONE = ("items", "additionalProperties", "not")
NESTED_MAP = ("properties", "$defs", "definitions")
NESTED_LIST = ("anyOf", "allOf", "oneOf", "prefixItems")
MAX_DEPTH = 8  # how deep a recursive schema ($ref to itself) is unfolded for an answer


def check_response_format(response_format: Any) -> None:
    """Refuse a `json_schema` response format the API would refuse, with the API's message."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise invalid("Missing required parameter: 'response_format.json_schema.name'.",
                      param="response_format.json_schema.name", code="missing_required_parameter")
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise invalid("Invalid type for 'response_format.json_schema.schema': expected an object.",
                      param="response_format.json_schema.schema", code="invalid_type")
    if spec.get("strict") is True:
        check_strict(spec["name"], schema, "response_format")


def check_strict(name: str, schema: dict, param: str) -> None:
    """Refuse a schema strict mode refuses, as the API does (chat's `response_format` and the
    Responses API's `text.format` alike), naming the format and where in the schema the fault is."""
    problem = strict_problem(schema, ())
    if problem is not None:
        raise invalid(f"Invalid schema for response_format '{name}': {problem}", param=param)


def strict_problem(schema: dict, context: tuple[str, ...]) -> str | None:
    """Why strict mode refuses `schema` (the first fault, worded as the API words it), or None."""
    where = f"In context={context!r}"
    if not context and schema.get("type") != "object" and "$ref" not in schema:
        return f"{where}, schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{schema.get('type')}\"'."
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return f"{where}, 'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties") or {}
        missing = [key for key in properties if key not in (schema.get("required") or [])]
        if missing:
            return (f"{where}, 'required' is required to be supplied and to be an array including every key in "
                    f"properties. Missing '{missing[0]}'.")
    for key in NESTED_ONE:
        if isinstance(schema.get(key), dict):
            problem = strict_problem(schema[key], context + (key,))
            if problem:
                return problem
    for key in NESTED_MAP:
        for name, sub in (schema.get(key) or {}).items():
            problem = strict_problem(sub, context + (key, name)) if isinstance(sub, dict) else None
            if problem:
                return problem
    for key in NESTED_LIST:
        for index, sub in enumerate(schema.get(key) or []):
            problem = strict_problem(sub, context + (key, str(index))) if isinstance(sub, dict) else None
            if problem:
                return problem
    return None


def structured_reply(response_format: dict, prompt: str) -> str:
    """The JSON text of an instance of the format's schema, drawn from the prompt (its names and
    numbers; the same prompt always gives the same answer); `$ref`s into the schema's own `$defs` are followed."""
    return schema_reply((response_format.get("json_schema") or {}).get("schema") or {}, prompt)


def schema_reply(schema: dict, prompt: str) -> str:
    """The JSON text of an instance of `schema`, drawn from the prompt."""
    return json.dumps(textgen.arguments_for(_unfold(schema, schema, MAX_DEPTH), prompt, numbers=True))


def _unfold(schema: Any, root: dict, depth: int) -> Any:
    """`schema` with every local `$ref` replaced by what it points to (a recursive one stops at
    `depth`, where its nullable branch or an empty array, if any, ends it)."""
    if isinstance(schema, list):
        return [_unfold(item, root, depth) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if isinstance(schema.get("$ref"), str):
        if depth <= 0:
            return {"type": "null"}
        target = _pointer(root, schema["$ref"])
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _unfold({**target, **rest}, root, depth - 1)
    if depth <= 0 and isinstance(schema.get("anyOf"), list):  # a recursion's way out: its null branch
        nulls = [branch for branch in schema["anyOf"] if isinstance(branch, dict) and branch.get("type") == "null"]
        if nulls:
            return nulls[0]
    if depth <= 0 and schema.get("type") == "array" and not schema.get("minItems"):  # or an empty list (a tree's leaf)
        return {"const": []}
    return {key: _unfold(value, root, depth) for key, value in schema.items()}


def _pointer(root: dict, ref: str) -> dict:
    """The sub-schema a `#/...` reference names; a reference that names nothing is an API error."""
    node: Any = root
    for part in ref.removeprefix("#").strip("/").split("/") if ref.startswith("#") else [None]:
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) and part else None
        if node is None:
            break
    if not isinstance(node, dict):
        raise invalid(f"Invalid schema for response_format: reference '{ref}' can't be resolved.", param="response_format")
    return node
