"""The Conversations API: conversations and their items, stored in SQLite.

A conversation holds items (messages, function calls and their outputs). Responses created with
`conversation=` read its items as context and append their input and output items to it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import invalid
from .items import MAX_ITEMS, input_items
from .shapes import check_metadata, deleted
from .state import State, find, state
from .store import new_id, now
from .web import json_body, paginate, reject_unknown

__all__ = ["get_conversation", "conversation_id", "items_of", "append_items", "item_page", "ROUTES"]

ITEM_KIND = "conversation_item"


def get_conversation(app: State, conversation_id: str, param: str = "conversation_id") -> dict:
    return find(app, "conversation", conversation_id, what="conversation", param=param)


def conversation_id(value: Any) -> str:
    """The `conversation` parameter of a response: an id, or `{"id": ...}`."""
    found = value.get("id") if isinstance(value, dict) else value
    if not isinstance(found, str) or not found:
        raise invalid("Invalid 'conversation': expected a conversation id or an object with an 'id'.", param="conversation")
    return found


def items_of(app: State, conversation: str) -> list[dict]:
    """The conversation's items, oldest first."""
    return app.store.all(ITEM_KIND, parent=conversation)


def append_items(app: State, conversation: str, items: list[dict]) -> list[dict]:
    for item in items:
        app.store.put(ITEM_KIND, item, parent=conversation)
    return items


def _items_param(value: Any, required: bool) -> list[dict]:
    if value is None and not required:
        return []
    if value is None or (required and value == []):
        raise invalid("Missing required parameter: 'items'.", param="items", code="missing_required_parameter")
    if not isinstance(value, list):
        raise invalid("Invalid type for 'items': expected an array of items.", param="items")
    if len(value) > MAX_ITEMS:
        raise invalid(f"Invalid 'items': array too long. Expected an array with maximum length {MAX_ITEMS}, but got "
                      f"an array with length {len(value)} instead.", param="items", code="array_above_max_length")
    return input_items(value, "items")


def _item_list(items: list[dict]) -> dict:
    return {"object": "list", "data": items, "first_id": items[0]["id"] if items else "",
            "last_id": items[-1]["id"] if items else "", "has_more": False}


async def create(request: Request) -> Response:
    app = state(request)
    body = await json_body(request)
    reject_unknown(body, {"items", "metadata"})
    items = _items_param(body.get("items"), required=False)
    conversation = {"id": new_id("conv_"), "object": "conversation", "created_at": now(),
                    "metadata": check_metadata(body.get("metadata"))}
    app.store.put("conversation", conversation)
    append_items(app, conversation["id"], items)
    return JSONResponse(conversation)


async def retrieve(request: Request) -> Response:
    return JSONResponse(get_conversation(state(request), request.path_params["conversation_id"]))


async def update(request: Request) -> Response:
    app = state(request)
    conversation = get_conversation(app, request.path_params["conversation_id"])
    body = await json_body(request)
    reject_unknown(body, {"metadata"})
    if "metadata" not in body:
        raise invalid("Missing required parameter: 'metadata'.", param="metadata", code="missing_required_parameter")
    conversation["metadata"] = check_metadata(body["metadata"])
    return JSONResponse(app.store.save("conversation", conversation))


async def delete(request: Request) -> Response:
    app = state(request)
    conversation = get_conversation(app, request.path_params["conversation_id"])
    app.store.delete("conversation", conversation["id"])
    return JSONResponse(deleted(conversation["id"], "conversation"))


async def create_items(request: Request) -> Response:
    app = state(request)
    conversation = get_conversation(app, request.path_params["conversation_id"])
    body = await json_body(request)
    reject_unknown(body, {"items"})
    return JSONResponse(_item_list(append_items(app, conversation["id"], _items_param(body.get("items"), required=True))))


async def list_items(request: Request) -> Response:
    app = state(request)
    conversation = get_conversation(app, request.path_params["conversation_id"])
    return JSONResponse(item_page(items_of(app, conversation["id"]), request.query_params))


def item_page(items: list[dict], query: Any) -> dict:
    """A cursor page of items; an empty page's cursors are "" (the spec types them as strings)."""
    page = paginate(items, query)
    page["first_id"], page["last_id"] = page["first_id"] or "", page["last_id"] or ""
    return page


def _item(app: State, request: Request) -> tuple[dict, dict]:
    conversation = get_conversation(app, request.path_params["conversation_id"])
    item = find(app, ITEM_KIND, request.path_params["item_id"], what="item", param="item_id", parent=conversation["id"])
    return conversation, item


async def retrieve_item(request: Request) -> Response:
    return JSONResponse(_item(state(request), request)[1])


async def delete_item(request: Request) -> Response:
    """Deleting an item answers with the conversation, as the API does."""
    app = state(request)
    conversation, item = _item(app, request)
    app.store.delete(ITEM_KIND, item["id"])
    return JSONResponse(conversation)


ROUTES = [
    ("/conversations", create, ["POST"]),
    ("/conversations/{conversation_id}", retrieve, ["GET"]),
    ("/conversations/{conversation_id}", update, ["POST"]),
    ("/conversations/{conversation_id}", delete, ["DELETE"]),
    ("/conversations/{conversation_id}/items", create_items, ["POST"]),
    ("/conversations/{conversation_id}/items", list_items, ["GET"]),
    ("/conversations/{conversation_id}/items/{item_id}", retrieve_item, ["GET"]),
    ("/conversations/{conversation_id}/items/{item_id}", delete_item, ["DELETE"]),
]
