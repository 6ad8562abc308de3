"""Assistants (v1 and v2 shapes) and the files attached to them (v1)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import require_model
from .errors import invalid, not_found
from .files import get_file
from .finetunes import fine_tuned_models
from .shapes import check_length, check_metadata, check_tools, deleted, show, show_page
from .state import State, find, state
from .structured import check_response_format
from .store import new_id, now
from .web import assistants_version, json_body, paginate

EDITABLE = ("model", "name", "description", "instructions", "tools", "metadata", "file_ids", "tool_resources",
            "temperature", "top_p", "response_format")


def get_assistant(app: State, assistant_id: str) -> dict:
    return find(app, "assistant", assistant_id, what="assistant", param="assistant_id")


def check(app: State, body: dict, version: str) -> dict:
    """The editable fields of a create or update body, validated."""
    unknown = [key for key in body if key not in EDITABLE]
    if unknown:
        raise invalid(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0], code="unknown_parameter")
    fields: dict[str, Any] = {}
    if "model" in body:
        fields["model"] = require_model(body["model"], ("chat",), fine_tuned_models(app)).id
    for name, limit in (("name", 256), ("description", 512), ("instructions", 256_000)):
        if name in body:
            fields[name] = check_length(body, name, limit)
    if "tools" in body:
        fields["tools"] = check_tools(body["tools"], version)
    if "metadata" in body:
        fields["metadata"] = check_metadata(body["metadata"])
    if "file_ids" in body:
        fields["file_ids"] = [get_file(app, file_id, "file_ids")["id"] for file_id in body["file_ids"] or []]
    if "response_format" in body:
        check_response_format(body["response_format"])  # a strict schema is checked as chat's is
    for name in ("tool_resources", "temperature", "top_p", "response_format"):
        if name in body:
            fields[name] = body[name]
    return fields


async def create(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    body = await json_body(request)
    if "model" not in body:
        raise invalid("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    assistant = {"id": new_id("asst_"), "object": "assistant", "created_at": now(), "name": None, "description": None,
                 "instructions": None, "tools": [], "metadata": {}, "file_ids": [], "tool_resources": {},
                 "temperature": 1.0, "top_p": 1.0, "response_format": "auto", **check(app, body, version)}
    app.store.put("assistant", assistant)
    return JSONResponse(show("assistant", assistant, version))


async def list_assistants(request: Request) -> Response:
    items = state(request).store.all("assistant")
    return JSONResponse(show_page("assistant", items, request.query_params, assistants_version(request)))


async def retrieve(request: Request) -> Response:
    app = state(request)
    return JSONResponse(show("assistant", get_assistant(app, request.path_params["assistant_id"]), assistants_version(request)))


async def update(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    assistant = get_assistant(app, request.path_params["assistant_id"])
    assistant.update(check(app, await json_body(request), version))
    app.store.save("assistant", assistant)
    return JSONResponse(show("assistant", assistant, version))


async def delete(request: Request) -> Response:
    app = state(request)
    assistant_id = get_assistant(app, request.path_params["assistant_id"])["id"]
    app.store.delete("assistant", assistant_id)
    return JSONResponse(deleted(assistant_id, "assistant"))


# -- assistant files (v1) --------------------------------------------------------------------

def file_link(assistant_id: str, file_id: str, created_at: int) -> dict:
    return {"id": file_id, "object": "assistant.file", "created_at": created_at, "assistant_id": assistant_id}


async def attach_file(request: Request) -> Response:
    app = state(request)
    assistant = get_assistant(app, request.path_params["assistant_id"])
    body = await json_body(request)
    file_id = get_file(app, body.get("file_id") or "", "file_id")["id"]
    if file_id not in assistant["file_ids"]:
        if len(assistant["file_ids"]) >= 20:
            raise invalid("An assistant can have at most 20 files attached.", param="file_id")
        assistant["file_ids"].append(file_id)
        assistant.setdefault("_file_times", {})[file_id] = now()
        app.store.save("assistant", assistant)
    return JSONResponse(file_link(assistant["id"], file_id, assistant.get("_file_times", {}).get(file_id, now())))


def linked(app: State, request: Request) -> tuple[dict, list[dict]]:
    assistant = get_assistant(app, request.path_params["assistant_id"])
    times = assistant.get("_file_times", {})
    return assistant, [file_link(assistant["id"], f, times.get(f, assistant["created_at"])) for f in assistant["file_ids"]]


async def list_files(request: Request) -> Response:
    _, links = linked(state(request), request)
    return JSONResponse(paginate(links, request.query_params))


async def retrieve_file(request: Request) -> Response:
    _, links = linked(state(request), request)
    file_id = request.path_params["file_id"]
    for link in links:
        if link["id"] == file_id:
            return JSONResponse(link)
    raise not_found("file", file_id)


async def detach_file(request: Request) -> Response:
    app = state(request)
    assistant, _ = linked(app, request)
    file_id = request.path_params["file_id"]
    if file_id not in assistant["file_ids"]:
        raise not_found("file", file_id)
    assistant["file_ids"].remove(file_id)
    app.store.save("assistant", assistant)
    return JSONResponse(deleted(file_id, "assistant.file"))


ROUTES = [
    ("/assistants", create, ["POST"]),
    ("/assistants", list_assistants, ["GET"]),
    ("/assistants/{assistant_id}", retrieve, ["GET"]),
    ("/assistants/{assistant_id}", update, ["POST"]),
    ("/assistants/{assistant_id}", delete, ["DELETE"]),
    ("/assistants/{assistant_id}/files", attach_file, ["POST"]),
    ("/assistants/{assistant_id}/files", list_files, ["GET"]),
    ("/assistants/{assistant_id}/files/{file_id}", retrieve_file, ["GET"]),
    ("/assistants/{assistant_id}/files/{file_id}", detach_file, ["DELETE"]),
]
