"""Legacy fine-tunes: a job goes pending -> running -> succeeded over `job_delay` seconds a stage,
logging events, then its model appears in /models. Jobs advance whenever they are read."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import require_model
from .errors import invalid
from .files import add_file, get_file
from .state import State, find, state
from .store import new_id, now
from .web import json_body, optional, require, sse, sse_response

TERMINAL = ("succeeded", "failed", "cancelled")
BASE_MODELS = ("ada", "babbage", "curie", "davinci", "babbage-002", "davinci-002")


def event(message: str, at: int | None = None, level: str = "info") -> dict:
    return {"object": "fine-tune-event", "created_at": at or now(), "level": level, "message": message}


def advance(app: State, job: dict) -> dict:
    """Apply every transition whose time has come; return the job as it is now."""
    if job["status"] in TERMINAL:
        return job
    delay = app.settings.job_delay
    started = job["_started"]
    elapsed = time.time() - started
    changed = False
    if job["status"] == "pending" and elapsed >= delay:
        at = int(started + delay)
        job["status"] = "running"
        job["events"].append(event("Fine-tune started", at))
        epochs = job["hyperparams"]["n_epochs"]
        job["events"] += [event(f"Completed epoch {i}/{epochs}", at) for i in range(1, epochs + 1)]
        changed = True
    if job["status"] == "running" and elapsed >= 2 * delay:
        at = int(started + 2 * delay)
        stamp = datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
        suffix = f":{job['_suffix']}" if job.get("_suffix") else ""
        job["fine_tuned_model"] = f"{job['model']}:ft-sandbox{suffix}-{stamp}"
        results = add_file(app, "compiled_results.csv", b"step,elapsed_tokens,training_loss\n1,1024,0.5\n2,2048,0.25\n",
                           "fine-tune-results")
        job["result_files"] = [results]
        job["status"] = "succeeded"
        job["events"] += [event(f"Uploaded model: {job['fine_tuned_model']}", at),
                          event(f"Uploaded result file: {results['id']}", at), event("Fine-tune succeeded", at)]
        changed = True
    if changed:
        job["updated_at"] = int(started + (2 * delay if job["status"] == "succeeded" else delay))
        app.store.save("fine_tune", job)
    return job


def public(job: dict, with_events: bool = True) -> dict:
    shown = {k: v for k, v in job.items() if not k.startswith("_")}
    if not with_events:
        shown.pop("events", None)
    return shown


def get_job(app: State, job_id: str) -> dict:
    return advance(app, find(app, "fine_tune", job_id, what="fine-tune"))


def fine_tuned_jobs(app: State) -> list[dict]:
    """The finished jobs whose model still exists."""
    jobs = [advance(app, job) for job in app.store.all("fine_tune")]
    return [job for job in jobs if job.get("fine_tuned_model") and not job.get("_model_deleted")]


def fine_tuned_models(app: State) -> dict[str, str]:
    """{fine-tuned model id: its base model} for every model a finished job produced."""
    return {job["fine_tuned_model"]: job["model"] for job in fine_tuned_jobs(app)}


async def create(request: Request) -> Response:
    app = state(request)
    body = await json_body(request)
    training = get_file(app, require(body, "training_file"), "training_file")
    validation = [get_file(app, body["validation_file"], "validation_file")] if body.get("validation_file") else []
    model = optional(body, "model", "string", "curie")
    if model not in BASE_MODELS:
        require_model(model, ("completion",), fine_tuned_models(app))
    job_id = new_id("ft-")
    created = now()
    job = {
        "id": job_id, "object": "fine-tune", "created_at": created, "updated_at": created, "model": model,
        "fine_tuned_model": None, "organization_id": "org-sandbox", "status": "pending",
        # Unset batch size and learning rate are chosen by the service; these are its usual picks.
        "hyperparams": {"batch_size": optional(body, "batch_size", "integer", 1, minimum=1),
                        "learning_rate_multiplier": optional(body, "learning_rate_multiplier", "number", 0.1, minimum=0),
                        "n_epochs": optional(body, "n_epochs", "integer", 4, minimum=1, maximum=50),
                        "prompt_loss_weight": optional(body, "prompt_loss_weight", "number", 0.01)},
        "training_files": [training], "validation_files": validation, "result_files": [],
        "events": [event(f"Created fine-tune: {job_id}", created)],
        "_started": time.time(), "_suffix": optional(body, "suffix", "string"),
    }
    app.store.put("fine_tune", job)
    return JSONResponse(public(job))


async def list_jobs(request: Request) -> Response:
    app = state(request)
    jobs = [public(advance(app, job), with_events=False) for job in app.store.all("fine_tune")]
    return JSONResponse({"object": "list", "data": jobs})


async def retrieve(request: Request) -> Response:
    return JSONResponse(public(get_job(state(request), request.path_params["fine_tune_id"])))


async def cancel(request: Request) -> Response:
    app = state(request)
    job = get_job(app, request.path_params["fine_tune_id"])
    if job["status"] in TERMINAL:
        raise invalid(f"Cannot cancel a job that has status {job['status']}.", code="invalid_state")
    job.update(status="cancelled", updated_at=now())
    job["events"].append(event("Fine-tune cancelled"))
    app.store.save("fine_tune", job)
    return JSONResponse(public(job))


async def events(request: Request) -> Response:
    app = state(request)
    job_id = request.path_params["fine_tune_id"]
    job = get_job(app, job_id)
    if request.query_params.get("stream") not in ("true", "True", "1"):
        return JSONResponse({"object": "list", "data": job["events"]})
    return sse_response(follow_events(app, job_id))


async def follow_events(app: State, job_id: str) -> AsyncIterator[bytes]:
    """Events as they happen, until the job ends."""
    sent = 0
    while True:
        job = get_job(app, job_id)
        for item in job["events"][sent:]:
            yield sse(item)
        sent = len(job["events"])
        if job["status"] in TERMINAL:
            yield sse("[DONE]")
            return
        await asyncio.sleep(min(0.1, app.settings.job_delay / 4 or 0.01))


ROUTES = [
    ("/fine-tunes", create, ["POST"]),
    ("/fine-tunes", list_jobs, ["GET"]),
    ("/fine-tunes/{fine_tune_id}", retrieve, ["GET"]),
    ("/fine-tunes/{fine_tune_id}/cancel", cancel, ["POST"]),
    ("/fine-tunes/{fine_tune_id}/events", events, ["GET"]),
]
