"""Files: multipart upload (streamed to disk), list, retrieve, content and delete."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiError, invalid
from .state import State, find, state
from .store import new_id, now
from .web import paginate

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
CHUNK = 1 << 20


async def read_form(request: Request, max_bytes: int, max_files: int = 4) -> Any:
    """The multipart form; uploads are spooled to temporary files by Starlette, not held in memory."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise invalid("This endpoint expects a multipart/form-data body.")
    length = int(request.headers.get("content-length") or 0)
    if length > max_bytes + 64 * 1024:
        raise ApiError(413, f"The file is too large: the limit is {max_bytes} bytes.", code="file_too_large")
    return await request.form(max_files=max_files, max_fields=64)


def optional_form_file(form: Any, name: str) -> UploadFile | None:
    upload = form.get(name)
    return upload if isinstance(upload, UploadFile) else None


def form_file(form: Any, name: str) -> UploadFile:
    """A required upload field, or the API's 400 naming it."""
    upload = optional_form_file(form, name)
    if upload is None:
        raise invalid(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    return upload


async def read_upload(upload: UploadFile) -> bytes:
    await upload.seek(0)
    return await upload.read()


def jsonl_lines(data: bytes) -> list[str]:
    """The lines of a JSONL file, split as JSONL is: at "\n" only (the "\r" of a "\r\n" is
    whitespace JSON allows at a line's end).

    Not `str.splitlines()`: it also ends a line at U+2028, U+2029, U+0085 and other characters
    that JSON writes raw inside a string, which would cut a request in two.
    """
    return data.decode("utf-8", "replace").split("\n")


def check_fine_tune_lines(data: bytes) -> None:
    """Legacy fine-tuning files must be JSONL, one JSON object a line."""
    for number, line in enumerate(jsonl_lines(data), 1):
        if not line.strip():
            continue
        try:
            if not isinstance(json.loads(line), dict):
                raise ValueError
        except ValueError:
            raise invalid(f"Invalid file format for Fine-Tuning API. Line {number} is not a JSON object.",
                          param="file", code="invalid_file_format") from None


async def store_file(app: State, upload: UploadFile, purpose: str) -> dict:
    """Copy the upload into the store in blocks and record its file object."""
    file_id = new_id("file-")
    await upload.seek(0)

    def chunks() -> Any:
        while True:
            block = upload.file.read(CHUNK)
            if not block:
                return
            yield block

    size = app.store.write_blob(file_id, chunks())
    if size > app.settings.max_upload_bytes:
        app.store.delete_blob(file_id)
        raise ApiError(413, f"The file is too large: the limit is {app.settings.max_upload_bytes} bytes.", code="file_too_large")
    return app.store.put("file", file_object(file_id, upload.filename or "file", size, purpose))


def file_object(file_id: str, filename: str, size: int, purpose: str) -> dict:
    return {"id": file_id, "object": "file", "bytes": size, "created_at": now(), "filename": filename,
            "purpose": purpose, "status": "processed"}


def add_file(app: State, filename: str, data: bytes, purpose: str) -> dict:
    """A file the sandbox itself makes (fine-tune results, say)."""
    file_id = new_id("file-")
    app.store.write_blob(file_id, [data])
    return app.store.put("file", file_object(file_id, filename, len(data), purpose))


def get_file(app: State, file_id: str, param: str | None = None) -> dict:
    return find(app, "file", file_id, what="file", param=param)


async def create_file(request: Request) -> Response:
    app = state(request)
    form = await read_form(request, app.settings.max_upload_bytes)
    upload = form_file(form, "file")
    purpose = form.get("purpose")
    if not purpose:
        raise invalid("Missing required parameter: 'purpose'.", param="purpose", code="missing_required_parameter")
    if purpose not in PURPOSES:
        raise invalid(f"Invalid value for 'purpose': '{purpose}'. Supported values are: {', '.join(PURPOSES)}.", param="purpose")
    if purpose == "fine-tune":
        check_fine_tune_lines(await read_upload(upload))
    return JSONResponse(await store_file(app, upload, str(purpose)))


async def list_files(request: Request) -> Response:
    app = state(request)
    purpose = request.query_params.get("purpose")
    items = app.store.all("file", where=(lambda f: f["purpose"] == purpose) if purpose else None)
    return JSONResponse(paginate(items, request.query_params, default_limit=10000, max_limit=10000))


async def retrieve_file(request: Request) -> Response:
    return JSONResponse(get_file(state(request), request.path_params["file_id"]))


async def delete_file(request: Request) -> Response:
    app = state(request)
    file_id = request.path_params["file_id"]
    get_file(app, file_id)
    app.store.delete("file", file_id)
    app.store.delete_blob(file_id)
    return JSONResponse({"id": file_id, "object": "file", "deleted": True})


async def file_content(request: Request) -> Response:
    app = state(request)
    found = get_file(app, request.path_params["file_id"])
    return Response(app.store.read_blob(found["id"]), media_type="application/octet-stream",
                    headers={"Content-Disposition": _attachment(found["filename"])})


def _attachment(filename: str) -> str:
    """A Content-Disposition for any name: headers are Latin-1, so other names (and quotes or line
    breaks, which would end the header) go percent-encoded as RFC 6266's `filename*`, as Starlette's
    FileResponse does."""
    escaped = quote(filename)
    if escaped == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{escaped}"


ROUTES = [
    ("/files", create_file, ["POST"]),
    ("/files", list_files, ["GET"]),
    ("/files/{file_id}", retrieve_file, ["GET"]),
    ("/files/{file_id}", delete_file, ["DELETE"]),
    ("/files/{file_id}/content", file_content, ["GET"]),
]
