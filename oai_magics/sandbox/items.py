"""Items of the Responses and Conversations APIs: input parameters made into stored items, and
what the items say.

An input item (a message with a string or typed parts, a `function_call` being replayed, a
`function_call_output`, an MCP item: `mcp_items`) is validated and stored in the shape the API lists it in: with an id, a
status, and message content as typed parts. Output items are built here too, so both APIs share
one set of shapes.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .mcp_items import MCP_INPUT_TYPES, mcp_input_item
from .response_parts import check_parts
from .store import new_id

__all__ = ["input_items", "message", "output_text_part", "function_call", "text_of", "check_calls_answered", "MAX_ITEMS"]

MAX_ITEMS = 20  # conversations take at most this many items per call
ROLES = ("user", "assistant", "system", "developer")
INPUT_PARTS = ("input_text", "input_image", "input_file")
ASSISTANT_PARTS = ("output_text", "refusal")


def output_text_part(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message(role: str, content: list[dict], status: str = "completed") -> dict:
    return {"id": new_id("msg_"), "type": "message", "status": status, "role": role, "content": content}


def function_call(name: str, arguments: str, call_id: str | None = None, status: str = "completed") -> dict:
    return {"id": new_id("fc_"), "type": "function_call", "status": status, "call_id": call_id or new_id("call_"),
            "name": name, "arguments": arguments}


def input_items(value: Any, param: str = "input") -> list[dict]:
    """The `input` parameter (a string, or an array of items) as stored items."""
    if isinstance(value, str):
        return [message("user", [{"type": "input_text", "text": value}])]
    if not isinstance(value, list):
        raise invalid(f"Invalid type for '{param}': expected a string or an array of input items.", param=param)
    items = [_item(item, f"{param}[{index}]") for index, item in enumerate(value)]
    check_parts(items, param)
    return items


def _item(item: Any, param: str) -> dict:
    if not isinstance(item, dict):
        raise invalid(f"Invalid type for '{param}': expected an object.", param=param)
    kind = item.get("type") or ("message" if "role" in item else None)
    if kind == "message":
        return _message(item, param)
    if kind == "function_call_output":
        call_id = _string(item, "call_id", param)
        output = item.get("output")
        if not isinstance(output, (str, list)):
            raise invalid(f"Missing required parameter: '{param}.output'.", param=f"{param}.output",
                          code="missing_required_parameter")
        return {"id": new_id("fco_"), "type": "function_call_output", "status": "completed", "call_id": call_id,
                "output": output}
    if kind == "function_call":
        return function_call(_string(item, "name", param), _string(item, "arguments", param), _string(item, "call_id", param))
    if kind in MCP_INPUT_TYPES:
        return mcp_input_item(item, param)
    raise invalid(f"Invalid value: '{kind}'. The sandbox accepts input items of type 'message', 'function_call', "
                  "'function_call_output' and the 'mcp_*' items.", param=f"{param}.type", code="invalid_value")


def _message(item: dict, param: str) -> dict:
    role = item.get("role")
    if role not in ROLES:
        raise invalid(f"Invalid value: '{role}'. Supported values are: {', '.join(map(repr, ROLES))}.",
                      param=f"{param}.role", code="invalid_value")
    content = item.get("content")
    allowed = ASSISTANT_PARTS if role == "assistant" else INPUT_PARTS
    if isinstance(content, str):
        parts = [output_text_part(content) if role == "assistant" else {"type": "input_text", "text": content}]
    elif isinstance(content, list) and content:
        parts = [_part(part, allowed, f"{param}.content[{index}]") for index, part in enumerate(content)]
    else:
        raise invalid(f"Invalid '{param}.content': expected a string or a non-empty array of content parts.",
                      param=f"{param}.content")
    return message(role, parts)


def _part(part: Any, allowed: tuple[str, ...], param: str) -> dict:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in allowed:
        raise invalid(f"Invalid value: '{kind}'. Supported values are: {', '.join(map(repr, allowed))}.",
                      param=f"{param}.type", code="invalid_value")
    assert isinstance(part, dict)
    if kind in ("input_text", "output_text"):
        text = part.get("text")
        if not isinstance(text, str):
            raise invalid(f"Missing required parameter: '{param}.text'.", param=f"{param}.text", code="missing_required_parameter")
        return output_text_part(text) if kind == "output_text" else {"type": kind, "text": text}
    if kind == "input_image":
        if not part.get("image_url") and not part.get("file_id"):
            raise invalid(f"Missing required parameter: '{param}.image_url' or '{param}.file_id'.", param=param)
        return {"type": kind, "detail": part.get("detail") or "auto", "image_url": part.get("image_url"),
                "file_id": part.get("file_id")}
    return {key: value for key, value in part.items() if value is not None}


def _string(item: dict, name: str, param: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value and name != "arguments":
        raise invalid(f"Missing required parameter: '{param}.{name}'.", param=f"{param}.{name}", code="missing_required_parameter")
    return value


def check_calls_answered(items: list[dict]) -> None:
    """Refuse a context in which a function call has no output, or an output answers no call, with
    the API's 400 and words: a conversation or a response chain must stay a valid exchange."""
    calls = [item["call_id"] for item in items if item.get("type") == "function_call"]
    outputs = [item["call_id"] for item in items if item.get("type") == "function_call_output"]
    for call_id in outputs:
        if call_id not in calls:
            raise invalid(f"No tool call found for function call output with call_id {call_id}.", param="input")
    for call_id in calls:
        if call_id not in outputs:
            raise invalid(f"No tool output found for function call {call_id}.", param="input")


def text_of(item: dict) -> str:
    """The words of a message item (its text parts, joined)."""
    if item.get("type") != "message":
        return ""
    return " ".join(str(part.get("text", "")) for part in item.get("content") or []
                    if part.get("type") in ("input_text", "output_text", "text"))
