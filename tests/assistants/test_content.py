"""Images, files and typed answers through every assistants back end against the sandbox: a run's
message carries its images and files in its API's own parts (and the sandbox's reply names what it
saw), and an assistant made with a strict json_schema response format answers in that shape. Every
request body our client sends is valid by the 2026 spec."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import jsonschema
import pytest
from PIL import Image

from oai_magics.assistants import backend_for
from oai_magics.assistants.responses_chain import ChainedResponsesBackend
from oai_magics.assistants.store import AssistantStore
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from tests.helpers.documents import pdf
from tests.helpers.openapi import spec

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["city", "stars"],
          "properties": {"city": {"type": "string"}, "stars": {"type": "integer"}}}
FORMAT = {"type": "json_schema", "json_schema": {"name": "stay", "schema": SCHEMA, "strict": True}}


def png_url(size: tuple[int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


PARTS = [{"type": "file", "file": {"filename": "menu.pdf",
                                   "file_data": "data:application/pdf;base64," + base64.b64encode(pdf(2)).decode()}},
         {"type": "image_url", "image_url": {"url": png_url((48, 32)), "detail": "low"}}]


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Sandbox]]:
    """One sandbox with every API, and one without Conversations (the chained responses back end)."""
    with start(data_dir=tmp_path_factory.mktemp("full"), run_delay=0.0, token_delay=0.0) as full, \
            start(data_dir=tmp_path_factory.mktemp("bare"), run_delay=0.0, token_delay=0.0,
                  conversations_api=False) as bare:
        yield {"full": full, "bare": bare}


@pytest.fixture(params=["assistants", "responses", "chained", "chat"])
def backend(request: pytest.FixtureRequest, sandboxes: dict[str, Sandbox], tmp_path: Path) -> Iterator[Any]:
    server = sandboxes["bare" if request.param == "chained" else "full"]
    client = Client(api_key=server.api_key, base_url=server.base_url)
    sent: list[tuple[str, dict]] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        body = response.request.body
        if response.status_code < 400 and body and "json" in response.request.headers.get("Content-Type", ""):
            sent.append((urlsplit(response.request.url).path.removeprefix("/v1"), json.loads(body)))

    client._requester.transport.session.hooks["response"].append(hook)
    store = AssistantStore(tmp_path / "store.sqlite3")
    yield ChainedResponsesBackend(client, store) if request.param == "chained" else backend_for(client, request.param, store)
    for path, body in sent:
        assert spec("2026").request_errors("post", path, {}, "application/json", body) == [], path


def reply_of(handle: Any) -> str:
    for _ in handle.events():
        pass
    assert handle.status == "completed", handle.run
    return handle.text


def test_a_runs_message_carries_its_images_and_files(backend: Any) -> None:
    backend.create_assistant(name="looker", model="gpt-4o-mini")
    handle = backend.start_run("looker", message="What is on the menu in Porto?", parts=PARTS, stream=True)
    reply = reply_of(handle)
    assert "Porto" in reply
    if backend.name == "assistants":  # that API reads no image data, nor files in content: both were uploaded
        assert "I was shown 1 image: the uploaded image file-" in reply and "I was given 1 file: the uploaded file file-" in reply
    else:
        assert "I was shown 1 image: PNG 48×32 px (low detail)." in reply
        assert "I was given 1 file: menu.pdf, a PDF of 2 pages." in reply
    later = backend.add_message(handle.thread_id, "And this one?", parts=PARTS[1:])
    assert later["text"].startswith("And this one?\n[image")
    assert "[image" in backend.list_messages(handle.thread_id)[0]["text"]


def test_an_assistant_with_a_schema_answers_in_that_shape(backend: Any) -> None:
    backend.create_assistant(name="rater", model="gpt-4o-mini", response_format=FORMAT)
    answer = json.loads(reply_of(backend.start_run("rater", message="Rate our stay in Lisbon: 4 stars", stream=False)))
    jsonschema.validate(answer, SCHEMA)
    assert answer == {"city": "Lisbon", "stars": 4}
