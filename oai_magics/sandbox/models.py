"""/models (the catalogue plus fine-tuned models) and the legacy /engines."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import CREATED, MODELS, lookup, model_object
from .errors import ApiError
from .finetunes import fine_tuned_jobs
from .state import state


def all_models(request: Request) -> list[dict]:
    tuned = [{"id": job["fine_tuned_model"], "object": "model", "created": job["updated_at"], "owned_by": "organization-owner"}
             for job in fine_tuned_jobs(state(request))]
    return [model_object(m) for m in MODELS.values()] + tuned


def find(request: Request, name: str) -> dict:
    for model in all_models(request):
        if model["id"] == name:
            return model
    raise ApiError(404, f"The model '{name}' does not exist", param="model", code="model_not_found")


async def list_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": all_models(request)})


async def retrieve_model(request: Request) -> Response:
    return JSONResponse(find(request, request.path_params["model"]))


async def delete_model(request: Request) -> Response:
    app = state(request)
    name = request.path_params["model"]
    find(request, name)
    for job in fine_tuned_jobs(app):
        if job["fine_tuned_model"] == name:
            job["_model_deleted"] = True
            app.store.save("fine_tune", job)
            return JSONResponse({"id": name, "object": "model", "deleted": True})
    raise ApiError(403, "You have insufficient permissions for this operation: only fine-tuned models can be deleted.",
                   code="insufficient_permissions")


async def list_engines(request: Request) -> Response:
    engines = [{"id": m.id, "object": "engine", "created": CREATED, "ready": True, "owner": "sandbox"}
               for m in MODELS.values() if m.kind in ("completion", "chat", "edit", "embedding")]
    return JSONResponse({"object": "list", "data": engines})


async def retrieve_engine(request: Request) -> Response:
    name = request.path_params["engine_id"]
    if lookup(name) is None:
        raise ApiError(404, f"No engine with that ID: {name}", param="engine_id")
    return JSONResponse({"id": name, "object": "engine", "created": CREATED, "ready": True, "owner": "sandbox"})


ROUTES = [
    ("/models", list_models, ["GET"]),
    ("/models/{model:path}", retrieve_model, ["GET"]),
    ("/models/{model:path}", delete_model, ["DELETE"]),
    ("/engines", list_engines, ["GET"]),
    ("/engines/{engine_id}", retrieve_engine, ["GET"]),
]
