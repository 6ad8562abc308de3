"""Validate requests and responses against the official OpenAPI specs (trimmed copies in tests/data/).

The specs mix OpenAPI 3.0 (`nullable`, boolean `exclusiveMinimum`) and 3.1; `normalise()` turns
both into JSON Schema 2020-12 so one jsonschema validator checks them all, reading the specs'
overlapping `oneOf` branches as the `anyOf` they mean.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator

SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "openapi"
ERAS = {
    "2022": "2022.json",  # /engines/{engine_id}/completions
    "2023-06": "2023-06.json",  # /engines
    "2023": "2023.json",  # legacy and Assistants v1
    "2026": "2026.json",  # current, Responses, Conversations, Assistants v2
}


def normalise(node: Any) -> Any:
    """OpenAPI 3.0 schema keywords rewritten as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: normalise(value) for key, value in node.items()}
    # The specs use oneOf where branches overlap (a verbose transcription is also a plain one),
    # meaning "one of these shapes": anyOf is what they intend.
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = kind + ["null"]
        elif "enum" in out:
            out = {"anyOf": [out, {"type": "null"}]}
        elif "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if out.get(bound) is True and limit in out:
            out[bound] = out.pop(limit)
        elif out.get(bound) is False:
            out.pop(bound)
    return out


class Spec:
    """One spec: operations found by method and concrete path, schemas checked with jsonschema."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.components = doc.get("components", {})
        routes = []
        for template, item in doc["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            routes.append((template.count("{"), template, re.compile(pattern), item))
        self.routes = sorted(routes, key=lambda r: r[0])  # literal segments win over parameters

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        for _, template, pattern, item in self.routes:
            if pattern.match(path) and method.lower() in item:
                return template, item[method.lower()]
        return None

    def check(self, schema: dict, instance: Any) -> list[str]:
        validator = Draft202012Validator({"components": self.components, "allOf": [schema]})
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in validator.iter_errors(instance)]

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def request_errors(self, method: str, path: str, query: Mapping[str, Any], content_type: str, body: Any) -> list[str]:
        """Everything about a request the spec does not allow (empty when it is valid)."""
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path} is not in this spec"]
        _, op = found
        errors: list[str] = []
        declared = {p["name"]: p for p in map(self.resolve, op.get("parameters", [])) if p.get("in") == "query"}
        for name, value in query.items():
            if name not in declared:
                errors.append(f"query parameter {name!r} is not declared")
                continue
            errors += [f"query {name}: {e}" for e in self.check(declared[name].get("schema", {}), _coerce(value))]
        content = (op.get("requestBody") or {}).get("content", {})
        if body is None:
            if op.get("requestBody", {}).get("required"):
                errors.append("a required request body is missing")
            return errors
        kind = content_type.split(";")[0].strip()
        if kind not in content:
            return errors + [f"content type {kind!r} not accepted (spec: {sorted(content)})"]
        schema = content[kind].get("schema", {})
        if kind == "multipart/form-data":
            return errors + self._form_errors(schema, body)
        return errors + self.check(schema, body)

    def _form_errors(self, schema: dict, fields: Mapping[str, Any]) -> list[str]:
        schema = self.resolve(schema)
        props = schema.get("properties", {})
        names = {name[:-2] if name.endswith("[]") else name for name in fields}
        errors = [f"form field {n!r} is not declared" for n in names if n not in props]
        errors += [f"required form field {n!r} missing" for n in schema.get("required", []) if n not in names]
        return errors

    def response_errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Everything about a JSON response body the spec does not allow."""
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path} is not in this spec"]
        responses = found[1].get("responses", {})
        answer = responses.get(str(status)) or responses.get("default")
        if answer is None:
            return [f"status {status} is not a documented answer"]
        content = answer.get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        return self.check(schema, body) if schema else []


def _coerce(value: Any) -> Any:
    """Query strings arrive as text: compare numbers and booleans as the schema types them."""
    if isinstance(value, str):
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        if value in ("true", "false"):
            return value == "true"
    return value


@lru_cache(maxsize=None)
def spec(era: str) -> Spec:
    doc = json.loads((SPEC_DIR / ERAS[era]).read_text(encoding="utf-8"))
    return Spec(normalise(doc))
