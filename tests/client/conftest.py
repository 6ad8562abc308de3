"""A loopback HTTP server that records every request the client sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from werkzeug import Request, Response

from oai_magics.client import Client

CANARY_KEY = "sk-canary.0123456789.abcdefghijklmnop"


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    content_type: str
    body: Any  # parsed JSON, form fields (files as bytes), or None
    raw_path: str = ""  # the request target exactly as it arrived, escapes and all


@dataclass
class Recorder:
    requests: list[Seen] = field(default_factory=list)
    reply: Callable[[Request], Response] | None = None

    @property
    def last(self) -> Seen:
        return self.requests[-1]


def _seen(request: Request) -> Seen:
    content_type = request.headers.get("Content-Type", "")
    body: Any = None
    if content_type.startswith("multipart/form-data"):
        body = {key: value for key, value in request.form.items(multi=True)}
        for key in request.form:
            values = request.form.getlist(key)
            body[key] = values if key.endswith("[]") else values[0]
        for key, upload in request.files.items():
            body[key] = {"filename": upload.filename, "content": upload.read()}
    else:
        raw = request.get_data()
        body = json.loads(raw) if raw else None
    query = {key: (vals if len(vals) > 1 else vals[0]) for key, vals in request.args.lists()}
    raw_path = request.environ.get("RAW_URI", "").partition("?")[0]
    return Seen(request.method, request.path, query, dict(request.headers), content_type, body, raw_path)


def any_answer(seen: Seen) -> dict:
    """An answer every endpoint accepts as the object it promises: an id, empty lists where lists are
    promised, and for embeddings one vector per input."""
    answer: dict[str, Any] = {"object": "list", "id": "obj_1", "data": [], "has_more": False, "choices": [],
                              "results": [], "output": []}
    if seen.path.endswith("/embeddings") and isinstance(seen.body, dict):
        inputs = seen.body.get("input")
        count = len(inputs) if isinstance(inputs, list) else 1
        answer["data"] = [{"object": "embedding", "index": index, "embedding": [0.0]} for index in range(count)]
    return answer


@pytest.fixture
def recorder(httpserver: Any) -> Recorder:
    rec = Recorder()

    def handler(request: Request) -> Response:
        rec.requests.append(_seen(request))
        if rec.reply is not None:
            return rec.reply(request)
        return Response(json.dumps(any_answer(rec.requests[-1])), content_type="application/json")

    import re

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    return rec


@pytest.fixture
def client(httpserver: Any) -> Client:
    """A client on the loopback server, with a key that must never leak, and no waiting on retries."""
    c = Client(api_key=CANARY_KEY, base_url=httpserver.url_for("/v1").rstrip("/"), max_retries=2)
    c._requester.sleep = lambda seconds: None
    return c
