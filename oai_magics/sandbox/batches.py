"""The Batch API: a JSONL file of requests goes validating -> in_progress -> finalizing ->
completed, `job_delay` seconds a stage, and leaves an output file and an error file.

A malformed input file, or one over the API's limits (`batch_limits`), fails the batch at
validation (with `errors` naming the lines or the limit); a cancelled
batch is `cancelling` for one stage, then `cancelled`; a batch still unfinished when its window
closes (`batch_window` seconds in the sandbox, 24 hours of the API's) is `expired`, its unprocessed
lines in the error file as `batch_expired`. Each request line is answered by the sandbox's own route
for its URL, so a batch answers exactly as the direct endpoint would; the lines are answered one at
a time with the event loop free between them, so other requests are answered while a large batch
runs; a cancel that arrives meanwhile stops them at the next line and keeps what was answered (the
transitions are guarded in `batches_life`). Batches advance whenever they are read.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .batch_limits import file_too_large, over_limits
from .batches_life import TERMINAL, claim, current, finish, move, release
from .errors import ApiError, error_body, invalid
from .files import add_file, get_file, jsonl_lines
from .state import State, state
from .store import new_id
from .web import json_body, optional, paginate, reject_unknown, require

ENDPOINTS = ("/v1/embeddings", "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/moderations")


def public(batch: dict) -> dict:
    """The batch as the API shows it: times and files not reached yet are left out (the spec types
    them as integers and strings, never null)."""
    return {k: v for k, v in batch.items() if not k.startswith("_") and v is not None}


async def advance(request: Request, batch_id: str, *, answer: bool = True) -> dict:
    """Apply every transition whose time has come (answering the lines too, unless `answer` is
    False); return the batch as it is now."""
    app = state(request)
    batch = current(app, batch_id)
    if batch["status"] in TERMINAL or batch.get("_busy"):
        return batch
    delay = app.settings.job_delay
    elapsed = time.time() - batch["_started"]
    if batch["status"] == "cancelling":
        if time.time() - batch["_cancelled"] >= delay:
            move(app, batch_id, "cancelled")
    elif elapsed >= app.settings.batch_window and batch["status"] in ("validating", "in_progress"):
        expire(app, batch)
    elif batch["status"] == "validating" and elapsed >= delay:
        lines, errors = parse_lines(app, batch)
        if errors:
            move(app, batch_id, "failed", errors={"object": "list", "data": errors})
        else:
            move(app, batch_id, "in_progress", request_counts={"total": len(lines), "completed": 0, "failed": 0})
    if answer and elapsed >= 2 * delay and (claimed := claim(app, batch_id)) is not None:
        try:
            results = await run_lines(request, claimed)
        except BaseException:
            release(app, batch_id)  # the next read answers the lines again
            raise
        finish(app, batch_id, results)
    if elapsed >= 3 * delay and current(app, batch_id)["status"] == "finalizing":
        move(app, batch_id, "completed")
    return current(app, batch_id)


def parse_lines(app: State, batch: dict) -> tuple[list[dict], list[dict]]:
    """The request lines, or the errors that fail the batch (as the API reports them)."""
    limits = app.settings.batch_limits
    too_large = file_too_large(app.store.blob_path(batch["input_file_id"]), limits)
    if too_large is not None:
        return [], [too_large]
    data = app.store.read_blob(batch["input_file_id"])
    lines, errors, seen = [], [], set()

    def error(code: str, message: str, number: int, param: str | None = None) -> None:
        errors.append({"code": code, "message": message, "param": param, "line": number})

    for number, raw in enumerate(jsonl_lines(data), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            error("invalid_json_line", "This line is not parseable as valid JSON.", number)
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str) or not isinstance(line.get("body"), dict):
            error("invalid_request", "Each line needs a string 'custom_id', a 'method', a 'url' and an object 'body'.", number)
        elif line.get("url") != batch["endpoint"]:
            error("mismatched_endpoint", f"The url '{line.get('url')}' does not match the batch endpoint "
                                         f"'{batch['endpoint']}'.", number, "url")
        elif line.get("method", "POST") != "POST":
            error("invalid_method", "Only POST requests are supported.", number, "method")
        elif line["custom_id"] in seen:
            error("duplicate_custom_id", f"The custom_id '{line['custom_id']}' is used more than once.", number, "custom_id")
        else:
            seen.add(line["custom_id"])
            lines.append(line)
    if not lines and not errors:
        error("empty_file", "The input file has no requests.", 1)
    errors += over_limits(lines, batch["endpoint"], limits)
    return lines, errors[:1000]


def expire(app: State, batch: dict) -> None:
    """The window closed first: every line not answered goes to the error file as `batch_expired`."""
    lines, _ = parse_lines(app, batch)
    message = "This request could not be executed before the completion window expired."
    records = [{"id": new_id("batch_req_"), "custom_id": line["custom_id"], "response": None,
                "error": {"code": "batch_expired", "message": message}} for line in lines]
    files = {"error_file_id": add_file(app, f"batch_{batch['id']}_errors.jsonl", jsonl(records), "batch_output")["id"]}
    move(app, batch["id"], "expired", **(files if records else {}),
         request_counts={"total": len(lines), "completed": 0, "failed": len(records)})


def jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


async def run_lines(request: Request, batch: dict) -> dict:
    """Answer the lines through the sandbox's own routes, until they are done or the batch is
    cancelled; what they gave (the output and error files, counts, usage) as fields of the batch."""
    app = state(request)
    lines, _ = parse_lines(app, batch)
    outputs, failures = [], []
    tokens = {"input_tokens": 0, "output_tokens": 0}
    model = None
    for line in lines:
        if current(app, batch["id"])["status"] != "in_progress":  # cancelled meanwhile: stop here
            break
        # A request in a batch can meet the same injected faults as a direct one.
        fault = request.app.state.faults.take("POST", batch["endpoint"])
        if fault is not None and fault.hold:
            await request.app.state.faults.hold(fault.hold)
        if fault is not None and fault.status:
            status, answer = fault.status, error_body(fault.status, fault.message, "invalid_request_error", None, None)
        else:
            status, answer = await call_route(request, batch["endpoint"], line["body"])
        # The routes answer without awaiting anything: give the event loop a turn between lines, or
        # every other request would wait for the whole batch.
        await asyncio.sleep(0)
        record = {"id": new_id("batch_req_"), "custom_id": line["custom_id"],
                  "response": {"status_code": status, "request_id": new_id("req_"), "body": answer}, "error": None}
        if status < 400:
            outputs.append(record)
            usage = answer.get("usage") or {}
            # Chat and embeddings say prompt/completion, Responses input/output.
            tokens["input_tokens"] += int(usage.get("prompt_tokens") or usage.get("input_tokens") or 0)
            tokens["output_tokens"] += int(usage.get("completion_tokens") or usage.get("output_tokens") or 0)
            model = model or answer.get("model")
        else:
            failures.append(record)
    results: dict = {}
    for name, records, field in (("output", outputs, "output_file_id"), ("errors", failures, "error_file_id")):
        if records:
            results[field] = add_file(app, f"batch_{batch['id']}_{name}.jsonl", jsonl(records), "batch_output")["id"]
    results["request_counts"] = {"total": len(lines), "completed": len(outputs), "failed": len(failures)}
    results["usage"] = {"input_tokens": tokens["input_tokens"], "input_tokens_details": {"cached_tokens": 0},
                        "output_tokens": tokens["output_tokens"], "output_tokens_details": {"reasoning_tokens": 0},
                        "total_tokens": tokens["input_tokens"] + tokens["output_tokens"]}
    if model:
        results["model"] = model  # the model that processed the batch, as the API names it
    return results


async def call_route(request: Request, path: str, body: dict) -> tuple[int, Any]:
    """One request through the application's route table (not its middleware: no faults, no rate limits)."""
    payload = json.dumps(body).encode()
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": path, "raw_path": path.encode(),
             "root_path": "", "scheme": "http", "query_string": b"", "server": ("batch", 0), "client": ("batch", 0),
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                         (b"openai-beta", b"assistants=v2")],
             "app": request.app, "state": {}}
    sent = False
    status, chunks = 500, []

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await request.app.router(scope, receive, send)
    except ApiError as exc:  # the app's error handlers sit outside the router: render the envelope here
        return exc.status, error_body(exc.status, exc.message, exc.type, exc.param, exc.code)
    raw = b"".join(chunks)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, {"error": {"message": raw[:200].decode("utf-8", "replace"), "type": "server_error",
                                  "param": None, "code": None}}


async def create(request: Request) -> Response:
    app = state(request)
    body = await json_body(request)
    reject_unknown(body, {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"})
    source = get_file(app, require(body, "input_file_id"), "input_file_id")
    if source["purpose"] != "batch":
        raise invalid(f"The file '{source['id']}' has purpose '{source['purpose']}'; a batch needs purpose 'batch'.",
                      param="input_file_id")
    endpoint = require(body, "endpoint")
    if endpoint not in ENDPOINTS:
        raise invalid(f"Invalid value: '{endpoint}'. Supported values are: {', '.join(ENDPOINTS)}.", param="endpoint",
                      code="invalid_value")
    window = require(body, "completion_window")
    if window != "24h":
        raise invalid(f"Invalid value: '{window}'. Supported values are: '24h'.", param="completion_window",
                      code="invalid_value")
    metadata = optional(body, "metadata", "object") or None
    created = int(time.time())
    batch = {"id": new_id("batch_"), "object": "batch", "endpoint": endpoint, "errors": None,
             "input_file_id": source["id"], "completion_window": window, "status": "validating",
             "output_file_id": None, "error_file_id": None, "created_at": created, "in_progress_at": None,
             "expires_at": created + 24 * 3600, "finalizing_at": None, "completed_at": None, "failed_at": None,
             "expired_at": None, "cancelling_at": None, "cancelled_at": None,
             "request_counts": {"total": 0, "completed": 0, "failed": 0}, "metadata": metadata,
             "_started": time.time()}
    app.store.put("batch", batch)
    return JSONResponse(public(batch))


async def retrieve(request: Request) -> Response:
    return JSONResponse(public(await advance(request, request.path_params["batch_id"])))


async def cancel(request: Request) -> Response:
    app = state(request)
    batch_id = request.path_params["batch_id"]
    await advance(request, batch_id, answer=False)  # the cancel itself never waits for the lines
    batch = move(app, batch_id, "cancelling", _cancelled=time.time())
    if batch is None:
        raise invalid(f"Cannot cancel a batch with status '{current(app, batch_id)['status']}'.", code="invalid_state")
    return JSONResponse(public(batch))


async def list_batches(request: Request) -> Response:
    app = state(request)
    batches = [public(await advance(request, b["id"])) for b in app.store.all("batch")]
    return JSONResponse(paginate(batches, request.query_params, default_limit=20, max_limit=100))


ROUTES = [
    ("/batches", create, ["POST"]),
    ("/batches", list_batches, ["GET"]),
    ("/batches/{batch_id}", retrieve, ["GET"]),
    ("/batches/{batch_id}/cancel", cancel, ["POST"]),
]
