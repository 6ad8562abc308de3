"""Answers that are not what was asked for: checked once, and read as what was meant where possible.

`expect_object(answer, what, fields)` is the one check that a JSON answer is the object its endpoint
promises: a JSON object with the fields its readers rely on, each of its type (a chat completion's
`choices` and a listing's `data` are lists of objects, a stored object has a string `id`). Anything else (`null`, a bare list, `{"choices": "x"}`) is an
`APIResponseValidationError` naming the endpoint and what came, so the layers above read answers
without guarding every key. A 200 `{"error": {...}}` envelope is the error it reports.

`as_stream(answer, kind, what)` is for a server that ignores `stream=true` and sends the whole answer as
JSON: it tells that answer as the Server-Sent Events a streaming server would have sent (a chat
completion as one chunk, a Response as its text deltas, items and terminal event, a run as its status
event, an image answer as the completed event of each image, an error envelope as an `error` event),
so a stream's reader gets the full reply.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from .envelope import error_fields, is_error_envelope
from .errors import APIError, APIResponseValidationError

__all__ = ["expect_object", "as_stream"]

# Response statuses that end its stream, each with the event that says so.
_RESPONSE_ENDS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}
# The event that ends a streamed image request, by the path it went to.
_IMAGE_ENDS = {"/images/generations": "image_generation.completed", "/images/edits": "image_edit.completed"}


def expect_object(answer: Any, what: str, fields: Mapping[str, type] | None = None, *,
                  request_id: str | None = None) -> dict:
    """`answer` when it is a JSON object with each of `fields` of its type (`list`: a list of
    objects); else one error naming `what` (the endpoint) and what came."""
    if not isinstance(answer, dict):
        raise APIResponseValidationError(f"{what} answered with {_described(answer)}, not the JSON object it promises",
                                         request_id=request_id)
    if is_error_envelope(answer):
        details = error_fields(answer)
        message = details.pop("message", None) or "an error without a message"
        raise APIError(f"{what} answered 200 with an error: {message}", request_id=request_id, body=answer, **details)
    for name, kind in (fields or {}).items():
        value = answer.get(name)
        if not isinstance(value, kind) or (kind is list and not all(isinstance(item, dict) for item in value)):
            came = f"{_described(value)} as `{name}`" if name in answer else f"no `{name}`"
            promised = "a list of objects" if kind is list else _KINDS.get(kind, kind.__name__)
            raise APIResponseValidationError(f"{what} answered with {came}, not {promised}", request_id=request_id)
    return answer


def as_stream(answer: Any, kind: str, what: str = "") -> bytes | None:
    """The SSE body a streaming server would have sent for this whole answer to the call `what`
    ("POST /images/generations"); None for a shape that has no streamed equivalent. `kind` is the
    stream's: "chunks", "events" or "responses"."""
    if isinstance(answer, dict) and is_error_envelope(answer):
        return _event(answer, "error")
    path = what.partition(" ")[2]
    if kind == "responses" and path in _IMAGE_ENDS:
        images = _image_events(answer, _IMAGE_ENDS[path])
        return None if images is None else b"".join(_event(event) for event in images)
    if kind == "chunks":
        chunks = _chunks(answer)
        return None if chunks is None else b"".join(_event(chunk) for chunk in chunks) + b"data: [DONE]\n\n"
    if kind == "events":
        if isinstance(answer, dict) and answer.get("object") == "thread.run" and isinstance(answer.get("status"), str):
            return _event(answer, f"thread.run.{answer['status']}") + b"event: done\ndata: [DONE]\n\n"
        return None
    if kind == "responses" and isinstance(answer, dict) and answer.get("object") == "response":
        events = _response_events(answer)
        return None if events is None else b"".join(_event(event) for event in events)
    return None


def _chunks(answer: Any) -> list[dict] | None:
    """A chat completion as one chunk, a legacy completion as itself (its chunks have its shape), and
    a listing (of fine-tune events) as one chunk per object."""
    if not isinstance(answer, dict):
        return None
    choices = answer.get("choices")
    if isinstance(choices, list) and all(isinstance(choice, dict) for choice in choices):
        if all(isinstance(c.get("message"), dict) for c in choices) and (choices or answer.get("object") == "chat.completion"):
            return [_chat_chunk(answer, choices)]
        if all(isinstance(c.get("text"), str) for c in choices):
            return [answer]  # a legacy completion (or no choices at all): its chunks have its shape
        return None
    data = answer.get("data")
    if answer.get("object") == "list" and isinstance(data, list) and all(isinstance(item, dict) for item in data):
        return data
    return None


def _chat_chunk(answer: dict, choices: list[dict]) -> dict:
    chunk = {key: value for key, value in answer.items() if key != "choices"}
    chunk["object"] = "chat.completion.chunk"
    chunk["choices"] = []
    for position, choice in enumerate(choices):
        delta = dict(choice["message"])
        if isinstance(delta.get("tool_calls"), list):  # streamed tool calls say which call each piece is
            delta["tool_calls"] = [{"index": index, **call} if isinstance(call, dict) else call
                                   for index, call in enumerate(delta["tool_calls"])]
        chunk["choices"].append({"index": choice.get("index", position), "delta": delta,
                                 "finish_reason": choice.get("finish_reason")})
    return chunk


def _response_events(response: dict) -> list[dict] | None:
    """A Response as its typed events: each message's text as a delta, each item done, then the
    event its status ends with (a queued or running background response: its status event only)."""
    status = response.get("status")
    if status in ("queued", "in_progress"):
        events = [{"type": f"response.{status}", "response": response}]
    elif status in _RESPONSE_ENDS and isinstance(response.get("output"), list):
        events = []
        for index, item in enumerate(response["output"]):
            if not isinstance(item, dict):
                return None
            events += _text_deltas(index, item)
            events.append({"type": "response.output_item.done", "output_index": index, "item": item})
        events.append({"type": _RESPONSE_ENDS[status], "response": response})
    else:
        return None
    return [{**event, "sequence_number": number} for number, event in enumerate(events)]


def _image_events(answer: Any, completed: str) -> list[dict] | None:
    """An image answer as the completed events its stream ends with: one per image, each with the
    answer's format, background and usage (None: not an answer of base64 images)."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) and isinstance(item.get("b64_json"), str)
                                                         for item in data):
        return None
    shared = {key: answer[key] for key in ("created", "background", "output_format", "quality", "size", "usage")
              if key in answer}
    return [{"type": completed, **shared, "b64_json": item["b64_json"]} for item in data]


def _text_deltas(index: int, item: dict) -> list[dict]:
    if item.get("type") != "message" or not isinstance(item.get("content"), list):
        return []
    return [{"type": "response.output_text.delta", "item_id": item.get("id"), "output_index": index,
             "content_index": position, "delta": part["text"]}
            for position, part in enumerate(item["content"])
            if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str)]


def _event(data: Any, name: str | None = None) -> bytes:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
                           float: "a number"}


def _described(value: Any) -> str:
    """What came, in a few words: its JSON type, and its start."""
    if value is None:
        return "null"
    text = json.dumps(value, default=str)
    return f"{_KINDS.get(type(value), type(value).__name__)} {text[:60] + ('…' if len(text) > 60 else '')}"
