"""Structured Outputs in the sandbox: a strict `json_schema` is answered with a valid instance, and a
schema strict mode refuses is refused with the API's message."""

from __future__ import annotations

import json

import jsonschema
import pytest

from oai_magics.client import BadRequestError, Client
from tests.helpers.openapi import spec

ASK = [{"role": "user", "content": "Rate the Lisbon review: warm staff, slow Wi-Fi"}]
STRICT = {
    "type": "object", "additionalProperties": False, "required": ["name", "score", "tags", "note", "place"],
    "properties": {
        "name": {"type": "string"}, "score": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "place": {"$ref": "#/$defs/Place"},
    },
    "$defs": {"Place": {"type": "object", "additionalProperties": False, "required": ["city", "near"],
                        "properties": {"city": {"type": "string"},
                                       "near": {"anyOf": [{"$ref": "#/$defs/Place"}, {"type": "null"}]}}}},
}


def shaped(schema: dict, name: str = "review") -> dict:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def test_a_strict_schema_is_answered_with_a_valid_instance_the_same_each_time(api: Client) -> None:
    request = {"model": "gpt-4o-mini", "messages": ASK, "response_format": shaped(STRICT)}
    assert spec("2026").request_errors("post", "/chat/completions", {}, "application/json", request) == []
    first = api.chat.completions.create(**request)["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(first), STRICT)  # the $ref to $defs (recursive, too) followed
    streamed = "".join(c["choices"][0]["delta"].get("content") or ""
                       for c in api.chat.completions.create(**request, stream=True) if c["choices"])
    assert streamed == first


# A tree, as Pydantic gives `class Node(BaseModel): name: str; children: list["Node"]`: its recursion
# runs through an array, with no null branch to end it.
TREE = {"$defs": {"Node": {"type": "object", "additionalProperties": False, "required": ["name", "children"],
                           "properties": {"name": {"type": "string"},
                                          "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
        "$ref": "#/$defs/Node"}


def test_a_schema_recursive_through_an_array_is_answered_with_a_valid_instance(api: Client) -> None:
    answer = api.chat.completions.create(model="gpt-4o-mini", messages=ASK, response_format=shaped(TREE))
    jsonschema.validate(json.loads(answer["choices"][0]["message"]["content"]), TREE)


@pytest.mark.parametrize("schema, fault", [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
     "In context=(), 'additionalProperties' is required to be supplied and to be false."),
    ({**STRICT, "required": ["name", "score", "tags", "place"]},
     "In context=(), 'required' is required to be supplied and to be an array including every key in properties. "
     "Missing 'note'."),
    ({**STRICT, "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}},
                                    "required": ["city"]}}},
     "In context=('$defs', 'Place'), 'additionalProperties' is required to be supplied and to be false."),
    ({"type": "array", "items": {"type": "string"}},
     "In context=(), schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'."),
])
def test_a_schema_strict_mode_refuses_is_refused_with_the_apis_message(api: Client, schema: dict, fault: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        api.chat.completions.create(model="gpt-4o-mini", messages=ASK, response_format=shaped(schema))
    assert refused.value.message == f"Invalid schema for response_format 'review': {fault}"
    assert refused.value.param == "response_format"
    loose = {"type": "json_schema", "json_schema": {"name": "review", "schema": schema}}  # not strict: taken
    api.chat.completions.create(model="gpt-4o-mini", messages=ASK, response_format=loose)


def test_integers_come_from_the_prompt_within_their_bounds(api: Client) -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["age", "rating"],
              "properties": {"age": {"type": "integer"}, "rating": {"type": "integer", "minimum": 1, "maximum": 5}}}
    ask = [{"role": "user", "content": "Ana, 34, gave the café 4 stars (v2 menu, 3.5 km away)"}]
    answer = api.chat.completions.create(model="gpt-4o-mini", messages=ask, response_format=shaped(schema))
    assert json.loads(answer["choices"][0]["message"]["content"]) == {"age": 34, "rating": 4}


def test_names_in_any_script_are_read_from_the_prompt(api: Client) -> None:
    """A string field takes a name the prompt holds, whatever its letters ("Zoë" in "Łódź", not "Zo" or "dź")."""
    schema = {"type": "object", "additionalProperties": False, "required": ["city", "guest"],
              "properties": {"city": {"type": "string"}, "guest": {"type": "string"}}}
    ask = [{"role": "user", "content": "Our guest Zoë Kowalska stayed in Łódź near Malmö"}]
    answer = json.loads(api.chat.completions.create(model="gpt-4o-mini", messages=ask,
                                                    response_format=shaped(schema, "stay"))["choices"][0]["message"]["content"])
    assert set(answer.values()) <= {"Zoë", "Kowalska", "Łódź", "Malmö"}, answer
    reply = api.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Café Müller in Würzburg"}])
    assert "Würzburg" in reply["choices"][0]["message"]["content"]
