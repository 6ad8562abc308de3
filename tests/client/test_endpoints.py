"""Every client method against a real loopback server: method, path, query, headers and body,
each request also validated against the OpenAPI spec of its era (tests/data/openapi/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest

from oai_magics.client import Client, Page
from tests.helpers.openapi import spec

MSG = [{"role": "user", "content": "hi"}]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@dataclass
class Case:
    call: Callable[[Client], Any]
    method: str
    path: str
    era: str = "2026"
    beta: str | None = None
    query: dict | None = None
    body: dict | None = None  # expected to be contained in the body sent


CASES = {
    # models and engines
    "models.list": Case(lambda c: c.models.list(), "GET", "/models"),
    "models.retrieve": Case(lambda c: c.models.retrieve("gpt-4o-mini"), "GET", "/models/gpt-4o-mini"),
    "models.delete": Case(lambda c: c.models.delete("ft:gpt-4o-mini:acme::x1"), "DELETE", "/models/ft:gpt-4o-mini:acme::x1"),
    "engines.list": Case(lambda c: c.engines.list(), "GET", "/engines", era="2023-06"),
    "engines.retrieve": Case(lambda c: c.engines.retrieve("davinci"), "GET", "/engines/davinci", era="2023-06"),
    # text
    "chat.completions.create": Case(
        lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=MSG, temperature=0.2),
        "POST", "/chat/completions", body={"model": "gpt-4o-mini", "messages": MSG, "temperature": 0.2}),
    "completions.create": Case(
        lambda c: c.completions.create(model="davinci-002", prompt="once upon", max_tokens=5),
        "POST", "/completions", body={"prompt": "once upon", "max_tokens": 5}),
    "completions.create(engine_id)": Case(
        lambda c: c.completions.create(engine_id="davinci", prompt="once upon a time", max_tokens=5),
        "POST", "/engines/davinci/completions", era="2022", body={"prompt": "once upon a time"}),
    "edits.create": Case(
        lambda c: c.edits.create(model="text-davinci-edit-001", input="What day of the wek is it?", instruction="Fix the spelling"),
        "POST", "/edits", era="2023", body={"instruction": "Fix the spelling"}),
    "embeddings.create": Case(
        lambda c: c.embeddings.create(model="text-embedding-3-small", input=["a", "b"]),
        "POST", "/embeddings", body={"input": ["a", "b"], "encoding_format": "base64"}),
    "moderations.create": Case(
        lambda c: c.moderations.create(input="I want to hug you"), "POST", "/moderations", body={"input": "I want to hug you"}),
    # audio and images
    "audio.speech.create": Case(
        lambda c: c.audio.speech.create(model="tts-1", input="hello", voice="alloy"),
        "POST", "/audio/speech", body={"voice": "alloy"}),
    "audio.transcriptions.create": Case(
        lambda c: c.audio.transcriptions.create(("talk.mp3", b"ID3fake"), model="whisper-1", timestamp_granularities=["word"]),
        "POST", "/audio/transcriptions", body={"model": "whisper-1", "timestamp_granularities[]": ["word"]}),
    "audio.translations.create": Case(
        lambda c: c.audio.translations.create(("talk.mp3", b"ID3fake"), model="whisper-1", temperature=0),
        "POST", "/audio/translations", body={"model": "whisper-1", "temperature": "0"}),
    "images.generate": Case(
        lambda c: c.images.generate(prompt="a red fox", n=2, size="256x256", model="dall-e-2"),
        "POST", "/images/generations", body={"prompt": "a red fox", "n": 2}),
    "images.edit": Case(
        lambda c: c.images.edit(("fox.png", PNG), mask=("mask.png", PNG), prompt="add a hat", model="dall-e-2"),
        "POST", "/images/edits", body={"prompt": "add a hat"}),
    "images.create_variation": Case(
        lambda c: c.images.create_variation(("fox.png", PNG), n=1, model="dall-e-2"),
        "POST", "/images/variations", body={"n": "1"}),
    # files and legacy fine-tunes
    "files.list": Case(lambda c: c.files.list(purpose="assistants", limit=5, order="asc", after="file-1"),
                       "GET", "/files", query={"purpose": "assistants", "limit": "5", "order": "asc", "after": "file-1"}),
    "files.create": Case(lambda c: c.files.create(("data.jsonl", b'{"a": 1}\n'), purpose="fine-tune"),
                         "POST", "/files", body={"purpose": "fine-tune"}),
    "files.retrieve": Case(lambda c: c.files.retrieve("file-1"), "GET", "/files/file-1"),
    "files.delete": Case(lambda c: c.files.delete("file-1"), "DELETE", "/files/file-1"),
    "files.content": Case(lambda c: c.files.content("file-1"), "GET", "/files/file-1/content"),
    "fine_tunes.list": Case(lambda c: c.fine_tunes.list(), "GET", "/fine-tunes", era="2023"),
    "fine_tunes.create": Case(lambda c: c.fine_tunes.create(training_file="file-1", model="davinci"),
                              "POST", "/fine-tunes", era="2023", body={"training_file": "file-1"}),
    "fine_tunes.retrieve": Case(lambda c: c.fine_tunes.retrieve("ft-1"), "GET", "/fine-tunes/ft-1", era="2023"),
    "fine_tunes.cancel": Case(lambda c: c.fine_tunes.cancel("ft-1"), "POST", "/fine-tunes/ft-1/cancel", era="2023"),
    "fine_tunes.list_events": Case(lambda c: c.fine_tunes.list_events("ft-1"), "GET", "/fine-tunes/ft-1/events", era="2023"),
    # assistants (v2) and assistant files (v1)
    "assistants.list": Case(lambda c: c.assistants.list(limit=3, order="desc", before="asst_9"), "GET", "/assistants",
                            beta="v2", query={"limit": "3", "order": "desc", "before": "asst_9"}),
    "assistants.create": Case(
        lambda c: c.assistants.create(model="gpt-4o-mini", name="Tutor", instructions="Be brief", tools=[{"type": "code_interpreter"}]),
        "POST", "/assistants", beta="v2", body={"name": "Tutor"}),
    "assistants.retrieve": Case(lambda c: c.assistants.retrieve("asst_1"), "GET", "/assistants/asst_1", beta="v2"),
    "assistants.update": Case(lambda c: c.assistants.update("asst_1", name="Renamed"), "POST", "/assistants/asst_1",
                              beta="v2", body={"name": "Renamed"}),
    "assistants.delete": Case(lambda c: c.assistants.delete("asst_1"), "DELETE", "/assistants/asst_1", beta="v2"),
    "assistants.files.list": Case(lambda c: c.assistants.files.list("asst_1", limit=2), "GET", "/assistants/asst_1/files",
                                  era="2023", beta="v1", query={"limit": "2"}),
    "assistants.files.create": Case(lambda c: c.assistants.files.create("asst_1", file_id="file-1"), "POST",
                                    "/assistants/asst_1/files", era="2023", beta="v1", body={"file_id": "file-1"}),
    "assistants.files.retrieve": Case(lambda c: c.assistants.files.retrieve("asst_1", "file-1"), "GET",
                                      "/assistants/asst_1/files/file-1", era="2023", beta="v1"),
    "assistants.files.delete": Case(lambda c: c.assistants.files.delete("asst_1", "file-1"), "DELETE",
                                    "/assistants/asst_1/files/file-1", era="2023", beta="v1"),
    # threads (GET /threads is in no spec: checked against the other list endpoints' rules below)
    "threads.list": Case(lambda c: c.threads.list(limit=2), "GET", "/threads", era="", beta="v2", query={"limit": "2"}),
    "threads.create": Case(lambda c: c.threads.create(messages=MSG, metadata={"k": "v"}), "POST", "/threads", beta="v2",
                           body={"messages": MSG}),
    "threads.retrieve": Case(lambda c: c.threads.retrieve("thread_1"), "GET", "/threads/thread_1", beta="v2"),
    "threads.update": Case(lambda c: c.threads.update("thread_1", metadata={"k": "w"}), "POST", "/threads/thread_1",
                           beta="v2", body={"metadata": {"k": "w"}}),
    "threads.delete": Case(lambda c: c.threads.delete("thread_1"), "DELETE", "/threads/thread_1", beta="v2"),
    "threads.create_and_run": Case(lambda c: c.threads.create_and_run(assistant_id="asst_1", thread={"messages": MSG}),
                                   "POST", "/threads/runs", beta="v2", body={"assistant_id": "asst_1"}),
    # messages, message files (v1)
    "threads.messages.list": Case(lambda c: c.threads.messages.list("thread_1", order="asc", limit=20, run_id="run_1"),
                                  "GET", "/threads/thread_1/messages", beta="v2",
                                  query={"order": "asc", "limit": "20", "run_id": "run_1"}),
    "threads.messages.create": Case(lambda c: c.threads.messages.create("thread_1", role="user", content="Hello"),
                                    "POST", "/threads/thread_1/messages", beta="v2", body={"role": "user", "content": "Hello"}),
    "threads.messages.retrieve": Case(lambda c: c.threads.messages.retrieve("thread_1", "msg_1"), "GET",
                                      "/threads/thread_1/messages/msg_1", beta="v2"),
    "threads.messages.update": Case(lambda c: c.threads.messages.update("thread_1", "msg_1", metadata={"a": "b"}), "POST",
                                    "/threads/thread_1/messages/msg_1", beta="v2", body={"metadata": {"a": "b"}}),
    "threads.messages.delete": Case(lambda c: c.threads.messages.delete("thread_1", "msg_1"), "DELETE",
                                    "/threads/thread_1/messages/msg_1", beta="v2"),
    "threads.messages.files.list": Case(lambda c: c.threads.messages.files.list("thread_1", "msg_1"), "GET",
                                        "/threads/thread_1/messages/msg_1/files", era="2023", beta="v1"),
    "threads.messages.files.retrieve": Case(lambda c: c.threads.messages.files.retrieve("thread_1", "msg_1", "file-1"),
                                            "GET", "/threads/thread_1/messages/msg_1/files/file-1", era="2023", beta="v1"),
    # runs and steps
    "threads.runs.list": Case(lambda c: c.threads.runs.list("thread_1", limit=1), "GET", "/threads/thread_1/runs",
                              beta="v2", query={"limit": "1"}),
    "threads.runs.create": Case(lambda c: c.threads.runs.create("thread_1", assistant_id="asst_1", instructions="Shout"),
                                "POST", "/threads/thread_1/runs", beta="v2", body={"assistant_id": "asst_1"}),
    "threads.runs.retrieve": Case(lambda c: c.threads.runs.retrieve("thread_1", "run_1"), "GET",
                                  "/threads/thread_1/runs/run_1", beta="v2"),
    "threads.runs.update": Case(lambda c: c.threads.runs.update("thread_1", "run_1", metadata={"x": "y"}), "POST",
                                "/threads/thread_1/runs/run_1", beta="v2", body={"metadata": {"x": "y"}}),
    "threads.runs.cancel": Case(lambda c: c.threads.runs.cancel("thread_1", "run_1"), "POST",
                                "/threads/thread_1/runs/run_1/cancel", beta="v2"),
    "threads.runs.submit_tool_outputs": Case(
        lambda c: c.threads.runs.submit_tool_outputs("thread_1", "run_1", tool_outputs=[{"tool_call_id": "call_1", "output": "42"}]),
        "POST", "/threads/thread_1/runs/run_1/submit_tool_outputs", beta="v2",
        body={"tool_outputs": [{"tool_call_id": "call_1", "output": "42"}]}),
    "threads.runs.steps.list": Case(lambda c: c.threads.runs.steps.list("thread_1", "run_1", order="asc"), "GET",
                                    "/threads/thread_1/runs/run_1/steps", beta="v2", query={"order": "asc"}),
    "threads.runs.steps.retrieve": Case(lambda c: c.threads.runs.steps.retrieve("thread_1", "run_1", "step_1"), "GET",
                                        "/threads/thread_1/runs/run_1/steps/step_1", beta="v2"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_method_sends_the_documented_request(name: str, client: Client, recorder: Any) -> None:
    case = CASES[name]
    case.call(client)
    seen = recorder.last
    assert (seen.method, seen.path) == (case.method, "/v1" + case.path)
    assert seen.headers["Authorization"].startswith("Bearer sk-canary")
    assert seen.headers["User-Agent"].startswith("oai-magics/")
    assert seen.headers.get("Openai-Beta") == (f"assistants={case.beta}" if case.beta else None)
    assert "Openai-Organization" not in seen.headers and "Openai-Project" not in seen.headers
    assert seen.query == (case.query or {})
    for key, value in (case.body or {}).items():
        assert seen.body[key] == value, key
    if case.era:  # the wire format, checked against the spec of the endpoint's era
        assert spec(case.era).request_errors(case.method, case.path, seen.query, seen.content_type, seen.body) == []


def test_list_threads_follows_the_other_list_endpoints(client: Client, recorder: Any) -> None:
    """GET /threads is in no spec: its query must be what /assistants accepts."""
    client.threads.list(limit=2, order="asc", after="thread_0", before="thread_9")
    seen = recorder.last
    assert spec("2026").request_errors("GET", "/assistants", seen.query, "", None) == []


def test_every_reference_function_has_a_method() -> None:
    """The reference (openai.ex 0.6.2) function -> method table of the README is complete."""
    from tests.helpers.reference import reference_functions, README_TABLE

    assert reference_functions() - set(README_TABLE) == set()
    client = Client(api_key="x", base_url="http://127.0.0.1:9")
    for function, method in README_TABLE.items():
        target: Any = client
        for part in method.split("."):
            target = getattr(target, part)
        assert callable(target), function


def test_list_endpoints_return_a_page(client: Client, recorder: Any) -> None:
    page = client.assistants.list()
    assert isinstance(page, Page) and page.data == [] and page.has_more is False


def test_organization_and_project_headers_only_when_set(httpserver: Any, recorder: Any) -> None:
    c = Client(api_key="k", base_url=httpserver.url_for("/v1"), organization="org-1", project="proj_1")
    c.models.list()
    assert recorder.last.headers["Openai-Organization"] == "org-1"
    assert recorder.last.headers["Openai-Project"] == "proj_1"


def test_assistants_version_is_configurable_but_v1_only_calls_stay_v1(httpserver: Any, recorder: Any) -> None:
    c = Client(api_key="k", base_url=httpserver.url_for("/v1"), assistants_version="v1")
    c.assistants.list()
    assert recorder.last.headers["Openai-Beta"] == "assistants=v1"
    c2 = Client(api_key="k", base_url=httpserver.url_for("/v1"))
    c2.threads.messages.files.list("t", "m")
    assert recorder.last.headers["Openai-Beta"] == "assistants=v1"


def test_environment_variables_configure_the_client(httpserver: Any, recorder: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    Client().models.list()
    seen = recorder.last
    assert seen.headers["Authorization"] == "Bearer sk-from-env"
    assert (seen.headers["Openai-Organization"], seen.headers["Openai-Project"]) == ("org-env", "proj-env")


def test_ids_cannot_change_the_path(client: Client, recorder: Any) -> None:
    client.files.retrieve("../models?x=1")
    # Escaped, the id stays one segment: no "?x=1" query and no "../" resolved away on the way.
    assert recorder.last.path == "/v1/files/../models?x=1" and recorder.last.query == {}
    with pytest.raises(ValueError):
        client.files.retrieve("")


def test_request_options_are_not_sent_as_parameters(client: Client, recorder: Any) -> None:
    client.chat.completions.create(model="m", messages=MSG, timeout=5, extra_headers={"X-Trace": "1"},
                                   extra_body={"seed": 7}, extra_query={"api-version": "2024"})
    seen = recorder.last
    assert "timeout" not in seen.body and seen.body["seed"] == 7
    assert seen.headers["X-Trace"] == "1" and seen.query == {"api-version": "2024"}
