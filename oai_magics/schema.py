"""`--schema S`: the shape a typed answer must have, sent as a strict `json_schema` response format,
and the answer read back into a value.

S is one of three things:
- a Pydantic model class (a variable holding it): its JSON Schema, made strict; the answer becomes
  an instance of the class. Pydantic is imported by the user, never here;
- a JSON Schema dict (a variable holding it): sent as it is, so a schema strict mode refuses is
  refused by the server with its own message; the answer becomes a dict;
- a short spec, written in place or held in a variable: `name: str, score: int, tags: list[str],
  note: str | None`; the answer becomes a dict.

Strict mode (Structured Outputs) wants every object closed (`additionalProperties: false`) and every
property listed in `required`; a field that may be empty is a union with `null` instead.

It sits below the magics and the form alike (`%%chat --schema`, `%assistant create --schema`, the
thread-run builder's schema field); a schema it cannot read is a `SchemaError`, one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .local_errors import LocalError

__all__ = ["Schema", "SchemaError", "SchemaMismatch", "Refusal", "read_schema", "spec_schema", "strict_schema",
           "typed_output"]

# The short spec's scalar types, as JSON Schema.
SCALARS = {"str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
           "bool": {"type": "boolean"}}
SPEC_HELP = "a short spec is `name: type, ...` with types str, int, float, bool, list[type], and `type | None`"
NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # the API's rule for a response format's name


class SchemaError(LocalError, ValueError):
    """A `--schema` that names no schema, or a short spec that cannot be read; the message says why."""


class SchemaMismatch(ValueError):
    """An answer that is no instance of the schema; the message is one line saying where and why."""


class Refusal(str):
    """A model's refusal where its answer would be (a row of `--each`): text, but not an answer."""


@dataclass(frozen=True)
class Schema:
    """A schema as sent (`json`), its name, and the Pydantic class the answer becomes, if any."""

    name: str
    json: dict
    model: Any = None

    def response_format(self) -> dict:
        """The chat completions `response_format` asking for this shape, strictly."""
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.json, "strict": True}}

    def fields(self) -> dict[str, dict]:
        """The answer's top-level fields and their (resolved) schemas, in order."""
        return {name: self.resolve(sub) for name, sub in (self.json.get("properties") or {}).items()}

    def resolve(self, schema: dict) -> dict:
        """`schema` itself, or what its local `$ref` points to."""
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        node: Any = self.json
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node

    def parse(self, text: str) -> Any:
        """The answer as a value: an instance of the model class, else the JSON object; `SchemaMismatch`
        for text that is no JSON or no instance of the schema."""
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise SchemaMismatch(f"the answer is not JSON ({exc})") from None
        instance = self._instance(value) if self.model is not None else value
        # Also for a model class: Pydantic drops keys it does not know, but the strict schema sent
        # allows none, so an answer with more is off the schema all the same.
        error = _first_error(self.json, value)
        if error is not None:
            raise SchemaMismatch(f"the answer does not match {self.model.__name__ if self.model else 'the schema'}: "
                                 f"{error}")
        return instance

    def _instance(self, value: Any) -> Any:
        from pydantic import ValidationError  # the user has Pydantic: they gave a model class

        try:
            return self.model.model_validate(value)
        except ValidationError as exc:  # first: its message names the field as the class does
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the answer"
            raise SchemaMismatch(f"the answer does not match {self.model.__name__}: {where}: {first['msg']}") from None


def _first_error(schema: dict, value: Any) -> str | None:
    """The most telling way `value` fails `schema` (jsonschema's pick), as `path: message`; None if valid."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(value))
    if error is None:
        return None
    where = "".join(f"[{part!r}]" for part in error.absolute_path) or "the answer"
    return f"{where}: {error.message[:200]}"


def read_schema(text: str, namespace: Mapping[str, Any]) -> Schema:
    """The schema `--schema` names: a short spec written in place, or a variable holding a Pydantic
    model class, a JSON Schema dict or a short spec."""
    if ":" in text:
        return Schema("answer", spec_schema(text))
    if not text.isidentifier():  # no variable's name: a short spec with its colon missing, say
        raise SchemaError(f"--schema {text!r}: neither a variable nor a short spec; {SPEC_HELP}")
    if text not in namespace:
        raise SchemaError(f"--schema {text}: no such variable; give a variable holding a Pydantic model class or a "
                         "JSON Schema dict, or a short spec such as 'name: str, score: int'")
    value = namespace[text]
    if isinstance(value, type) and callable(getattr(value, "model_json_schema", None)):
        return Schema(_safe_name(value.__name__), strict_schema(value.model_json_schema()), value)
    if isinstance(value, dict):
        return Schema(_safe_name(str(value.get("title") or text)), value)
    if isinstance(value, str):
        return Schema(_safe_name(text), spec_schema(value))
    raise SchemaError(f"--schema {text}: a {type(value).__name__} is no schema; give a Pydantic model class, "
                     f"a JSON Schema dict, or {SPEC_HELP}")


def _safe_name(name: str) -> str:
    return NAME_UNSAFE.sub("_", name)[:64] or "answer"


def spec_schema(text: str) -> dict:
    """The strict JSON Schema of a short spec (`name: str, score: int, tags: list[str], note: str | None`)."""
    properties: dict[str, dict] = {}
    for item in filter(str.strip, _split_top(text)):
        name, sep, kind = (part.strip() for part in item.partition(":"))
        if not sep or not name.isidentifier() or not kind:
            raise SchemaError(f"--schema: {item.strip()!r} is no `name: type`; {SPEC_HELP}")
        if name in properties:
            raise SchemaError(f"--schema: the field {name!r} is named twice")
        properties[name] = _spec_type(kind)
    if not properties:
        raise SchemaError(f"--schema: no field given; {SPEC_HELP}")
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _split_top(text: str, separator: str = ",") -> list[str]:
    """`text` split at each `separator` outside brackets (`list[int | None]` stays whole)."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char == "[") - (char == "]")
        if char == separator and depth == 0:
            items.append(text[start:index])
            start = index + 1
    return items + [text[start:]]


def _spec_type(kind: str) -> dict:
    """The JSON Schema of one spec type: a scalar, `list[T]`, or `T | None`."""
    options = [part.strip() for part in _split_top(kind, "|")]
    if len(options) > 1:
        if options.count("None") != 1 or len(options) != 2:
            raise SchemaError(f"--schema: {kind!r}: a union is `type | None`; {SPEC_HELP}")
        return {"anyOf": [_spec_type(next(o for o in options if o != "None")), {"type": "null"}]}
    if kind in SCALARS:
        return dict(SCALARS[kind])
    if kind.startswith("list[") and kind.endswith("]"):
        return {"type": "array", "items": _spec_type(kind[5:-1].strip())}
    raise SchemaError(f"--schema: unknown type {kind!r}; {SPEC_HELP}")


def strict_schema(schema: Any) -> Any:
    """A Pydantic model's JSON Schema as strict mode takes it: every object closed and every property
    required (an optional field already allows null: its `None` default goes, the union stays)."""
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict_schema(value) if key not in ("properties", "$defs") else
           {name: strict_schema(sub) for name, sub in value.items()}
           for key, value in schema.items() if not (key == "default" and value is None)}
    if out.get("type") == "object" or "properties" in out:
        out.setdefault("additionalProperties", False)
        out["required"] = list(out.get("properties") or {})
    return out


def typed_output(schema: Schema, reply: Any, asked: Any) -> Any:
    """What `_` and `-o` get from a reply to a `--schema` request: the parsed value (a list of them
    for several choices). A reply cut short stays text; a refusal or an answer off the schema is
    `SchemaMismatch`, one line."""
    raw = reply.output(asked)
    if not reply.complete:
        return raw
    if reply.refused:
        raise SchemaMismatch(f"the model refused: {reply.text[:200]}")
    return [schema.parse(text) for text in raw] if isinstance(raw, list) else schema.parse(raw)
