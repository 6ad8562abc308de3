"""Threads, their messages, and (v1) message files."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .thread_messages import get_message, get_thread, make_message
from .errors import invalid, not_found
from .runs_life import advance_thread
from .shapes import check_metadata, deleted, show, show_page
from .state import State, state
from .store import new_id, now
from .web import assistants_version, json_body, paginate


def new_thread(app: State, body: dict) -> dict:
    """Create a thread (and its initial messages) from a create-thread body."""
    messages = body.get("messages") or []
    if not isinstance(messages, list):
        raise invalid("Invalid type for 'messages': expected an array.", param="messages")
    thread: dict[str, Any] = {"id": new_id("thread_"), "object": "thread", "created_at": now(),
              "metadata": check_metadata(body.get("metadata")), "tool_resources": body.get("tool_resources") or {}}
    app.store.put("thread", thread)
    for message in messages:
        make_message(app, thread["id"], message)
    return thread


async def create(request: Request) -> Response:
    app = state(request)
    return JSONResponse(show("thread", new_thread(app, await json_body(request)), assistants_version(request)))


async def list_threads(request: Request) -> Response:
    items = state(request).store.all("thread")
    return JSONResponse(show_page("thread", items, request.query_params, assistants_version(request)))


async def retrieve(request: Request) -> Response:
    thread = get_thread(state(request), request.path_params["thread_id"])
    return JSONResponse(show("thread", thread, assistants_version(request)))


async def update(request: Request) -> Response:
    app = state(request)
    thread = get_thread(app, request.path_params["thread_id"])
    body = await json_body(request)
    if "metadata" in body:
        thread["metadata"] = check_metadata(body["metadata"])
    if "tool_resources" in body:
        thread["tool_resources"] = body["tool_resources"] or {}
    app.store.save("thread", thread)
    return JSONResponse(show("thread", thread, assistants_version(request)))


async def delete(request: Request) -> Response:
    app = state(request)
    thread_id = get_thread(app, request.path_params["thread_id"])["id"]
    for run in app.store.all("run", parent=thread_id):
        app.store.delete("run", run["id"])  # and, through the parent link, its steps
    app.store.delete("thread", thread_id)  # and its messages
    return JSONResponse(deleted(thread_id, "thread"))


# -- messages --------------------------------------------------------------------------------

async def create_message(request: Request) -> Response:
    app = state(request)
    thread_id = get_thread(app, request.path_params["thread_id"])["id"]
    message = make_message(app, thread_id, await json_body(request))
    return JSONResponse(show("message", message, assistants_version(request)))


async def list_messages(request: Request) -> Response:
    app, version = state(request), assistants_version(request)
    thread_id = get_thread(app, request.path_params["thread_id"])["id"]
    advance_thread(app, thread_id)
    run_id = request.query_params.get("run_id")
    items = app.store.all("message", parent=thread_id, where=(lambda m: m["run_id"] == run_id) if run_id else None)
    return JSONResponse(show_page("message", items, request.query_params, version))


async def retrieve_message(request: Request) -> Response:
    app = state(request)
    advance_thread(app, request.path_params["thread_id"])
    message = get_message(app, request.path_params["thread_id"], request.path_params["message_id"])
    return JSONResponse(show("message", message, assistants_version(request)))


async def update_message(request: Request) -> Response:
    app = state(request)
    message = get_message(app, request.path_params["thread_id"], request.path_params["message_id"])
    body = await json_body(request)
    message["metadata"] = check_metadata(body.get("metadata"))
    app.store.save("message", message)
    return JSONResponse(show("message", message, assistants_version(request)))


async def delete_message(request: Request) -> Response:
    app = state(request)
    message = get_message(app, request.path_params["thread_id"], request.path_params["message_id"])
    app.store.delete("message", message["id"])
    return JSONResponse(deleted(message["id"], "thread.message"))


# -- message files (v1) ----------------------------------------------------------------------

def message_files(app: State, request: Request) -> list[dict]:
    message = get_message(app, request.path_params["thread_id"], request.path_params["message_id"])
    return [{"id": f, "object": "thread.message.file", "created_at": message["created_at"], "message_id": message["id"]}
            for f in message.get("file_ids") or []]


async def list_message_files(request: Request) -> Response:
    return JSONResponse(paginate(message_files(state(request), request), request.query_params))


async def retrieve_message_file(request: Request) -> Response:
    file_id = request.path_params["file_id"]
    for link in message_files(state(request), request):
        if link["id"] == file_id:
            return JSONResponse(link)
    raise not_found("file", file_id)


ROUTES = [
    ("/threads", create, ["POST"]),
    ("/threads", list_threads, ["GET"]),
    ("/threads/{thread_id}", retrieve, ["GET"]),
    ("/threads/{thread_id}", update, ["POST"]),
    ("/threads/{thread_id}", delete, ["DELETE"]),
    ("/threads/{thread_id}/messages", create_message, ["POST"]),
    ("/threads/{thread_id}/messages", list_messages, ["GET"]),
    ("/threads/{thread_id}/messages/{message_id}", retrieve_message, ["GET"]),
    ("/threads/{thread_id}/messages/{message_id}", update_message, ["POST"]),
    ("/threads/{thread_id}/messages/{message_id}", delete_message, ["DELETE"]),
    ("/threads/{thread_id}/messages/{message_id}/files", list_message_files, ["GET"]),
    ("/threads/{thread_id}/messages/{message_id}/files/{file_id}", retrieve_message_file, ["GET"]),
]
