"""The contract check: every JSON answer a recording client saw, checked against the OpenAPI spec of
its era (tests/data/openapi/), with the known defects of the published specs set aside; and every
Responses stream event against the schema of its type."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tests.helpers.openapi import spec


@dataclass
class Answer:
    method: str
    path: str  # without the /v1 prefix, as the specs write paths
    status: int
    content_type: str
    beta: str
    body: Any


# Known defects of the published specs, not of the wire format: the 2023 spec lists "items" as
# required in the v1 assistant-file and message-file lists, which the API never sent; the 2026 spec
# requires a `request_id` of an `mcp_approval_response` item that it never defines (the item has
# `approval_request_id`).
SPEC_DEFECTS = ("'items' is a required property", "'request_id' is a required property")
LIST_THREADS = {"type": "object", "required": ["object", "data", "first_id", "last_id", "has_more"],
                "properties": {"object": {"const": "list"}, "has_more": {"type": "boolean"},
                               "data": {"type": "array", "items": {"$ref": "#/components/schemas/ThreadObject"}}}}


def era(answer: Answer) -> str:
    if answer.path.startswith("/engines/") and answer.path.endswith("/completions"):
        return "2022"
    if answer.path.startswith("/engines"):
        return "2023-06"
    if answer.path.startswith(("/edits", "/fine-tunes")) or answer.beta == "assistants=v1":
        return "2023"
    return "2026"


def as_documented(answer: Answer) -> Any:
    """The spec types an embedding as a float array only; a base64 answer is checked decoded."""
    body = answer.body
    if answer.path == "/embeddings" and isinstance(body, dict):
        data = [{**item, "embedding": np.frombuffer(base64.b64decode(item["embedding"]), "<f4").tolist()}
                if isinstance(item.get("embedding"), str) else item for item in body.get("data", [])]
        body = {**body, "data": data}
    return body


def contract_errors(answers: list[Answer]) -> list[str]:
    problems = []
    for answer in answers:
        if answer.body is None:
            continue
        answer.body = as_documented(answer)
        if answer.method == "GET" and answer.path == "/threads":  # in no spec: shaped like the other lists
            errors = spec("2026").check(LIST_THREADS, answer.body)
        else:
            errors = spec(era(answer)).response_errors(answer.method, answer.path, answer.status, answer.body)
        errors = [e for e in errors if not any(d in e for d in SPEC_DEFECTS)]
        problems += [f"{answer.method} {answer.path} [{era(answer)}] {e}" for e in errors]
    return problems


@lru_cache(maxsize=None)
def event_schemas() -> dict[str, dict]:
    """Each stream event's type -> its schema in the spec (from the ResponseStreamEvent union)."""
    schemas = spec("2026").components["schemas"]
    found = {}
    for branch in schemas["ResponseStreamEvent"]["anyOf"]:
        schema = spec("2026").resolve(branch)
        for kind in schema.get("properties", {}).get("type", {}).get("enum", []):
            found[kind] = branch
    return found


def assert_events_valid(events: list[dict]) -> None:
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    for event in events:
        assert event.get("output_text") is None and event.get("response", {}).get("output_text") is None
        errors = spec("2026").check(event_schemas()[event["type"]], event)
        assert not errors, f"{event['type']}: {errors}"
