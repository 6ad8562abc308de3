"""Assistants v1 and v2 shapes: objects are stored as a superset and shown in the shape the
request's `OpenAI-Beta` header asks for. Validation shared by assistants, threads and runs."""

from __future__ import annotations

from typing import Any

from .errors import invalid

FIELDS = {
    "assistant": {
        "v1": ["id", "object", "created_at", "name", "description", "model", "instructions", "tools", "file_ids", "metadata"],
        "v2": ["id", "object", "created_at", "name", "description", "model", "instructions", "tools", "tool_resources",
               "metadata", "temperature", "top_p", "response_format"],
    },
    "thread": {"v1": ["id", "object", "created_at", "metadata"],
               "v2": ["id", "object", "created_at", "tool_resources", "metadata"]},
    "message": {
        "v1": ["id", "object", "created_at", "thread_id", "role", "content", "assistant_id", "run_id", "file_ids", "metadata"],
        "v2": ["id", "object", "created_at", "thread_id", "status", "incomplete_details", "completed_at", "incomplete_at",
               "role", "content", "assistant_id", "run_id", "attachments", "metadata"],
    },
    "run": {
        "v1": ["id", "object", "created_at", "thread_id", "assistant_id", "status", "required_action", "last_error",
               "expires_at", "started_at", "cancelled_at", "failed_at", "completed_at", "model", "instructions", "tools",
               "file_ids", "metadata"],
        "v2": ["id", "object", "created_at", "thread_id", "assistant_id", "status", "required_action", "last_error",
               "expires_at", "started_at", "cancelled_at", "failed_at", "completed_at", "incomplete_details", "model",
               "instructions", "tools", "metadata", "usage", "temperature", "top_p", "max_prompt_tokens",
               "max_completion_tokens", "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format"],
    },
    "run_step": {
        "v1": ["id", "object", "created_at", "assistant_id", "thread_id", "run_id", "type", "status", "step_details",
               "last_error", "expired_at", "cancelled_at", "failed_at", "completed_at", "metadata"],
        "v2": ["id", "object", "created_at", "assistant_id", "thread_id", "run_id", "type", "status", "step_details",
               "last_error", "expired_at", "cancelled_at", "failed_at", "completed_at", "metadata", "usage"],
    },
}
TOOL_TYPES = {"v1": ("code_interpreter", "retrieval", "function"), "v2": ("code_interpreter", "file_search", "function")}


def show(kind: str, obj: dict, version: str) -> dict:
    """The object in the shape of one Assistants version."""
    shown = {key: obj.get(key) for key in FIELDS[kind][version]}
    if "tools" in shown:
        shown["tools"] = tools_for(obj.get("tools") or [], version)
    return shown


def show_page(kind: str, items: list[dict], query: Any, version: str) -> dict:
    """A cursor page of stored objects, each in the version's shape."""
    from .web import paginate

    page = paginate(items, query)
    page["data"] = [show(kind, item, version) for item in page["data"]]
    return page


def tools_for(tools: list[dict], version: str) -> list[dict]:
    """Retrieval is called file_search in v2; the same tool either way."""
    rename = {"file_search": "retrieval"} if version == "v1" else {"retrieval": "file_search"}
    return [{**tool, "type": rename.get(tool["type"], tool["type"])} for tool in tools]


def check_tools(tools: Any, version: str) -> list[dict]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("Invalid type for 'tools': expected an array.", param="tools")
    if len(tools) > 128:
        raise invalid("Invalid 'tools': array too long. Expected an array with maximum length 128.", param="tools")
    allowed = TOOL_TYPES[version]
    for index, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in allowed:
            raise invalid(f"Invalid value: '{kind}'. Supported values are: {', '.join(allowed)}.", param=f"tools[{index}].type")
        if kind == "function" and not (tool.get("function") or {}).get("name"):
            raise invalid("Missing required parameter: 'tools[0].function.name'.", param=f"tools[{index}].function.name")
    return tools


def check_metadata(metadata: Any) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise invalid("Invalid type for 'metadata': expected an object.", param="metadata")
    if len(metadata) > 16:
        raise invalid("Invalid 'metadata': too many properties. Expected an object with at most 16 properties.", param="metadata")
    for key, value in metadata.items():
        if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
            raise invalid(f"Invalid 'metadata.{key}': keys are at most 64 characters, values strings of at most 512.",
                          param="metadata")
    return metadata


def check_length(body: dict, name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise invalid(f"Invalid '{name}': string too long. Expected a string with maximum length {limit}.", param=name)
    return value


def deleted(object_id: str, kind: str) -> dict:
    return {"id": object_id, "object": f"{kind}.deleted", "deleted": True}
