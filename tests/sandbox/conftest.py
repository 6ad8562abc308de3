"""A live sandbox on loopback, and clients that record every answer for contract checks."""

from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from tests.helpers.contract import Answer


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), job_delay=0.2) as running:
        yield running


def recording_client(sandbox: Sandbox, answers: list[Answer], **kwargs: Any) -> Client:
    """A client whose requests session logs each response (a real requests hook, not a mock)."""
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, **kwargs)

    def hook(response: Any, *args: Any, **kw: Any) -> None:
        content_type = response.headers.get("content-type", "")
        body = None
        if "json" in content_type:
            body = json.loads(response.content)
        path = urlsplit(response.request.url).path.removeprefix("/v1")
        answers.append(Answer(response.request.method, path, response.status_code, content_type,
                              response.request.headers.get("OpenAI-Beta", ""), body))

    client._requester.transport.session.hooks["response"].append(hook)
    return client


@pytest.fixture
def answers() -> list[Answer]:
    return []


@pytest.fixture
def api(sandbox: Sandbox, answers: list[Answer]) -> Client:
    return recording_client(sandbox, answers)


@pytest.fixture
def api_v1(sandbox: Sandbox, answers: list[Answer]) -> Client:
    return recording_client(sandbox, answers, assistants_version="v1")


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Any]:
    """Arm a fault with `faults(path=..., status=...)`; all are disarmed after the test."""

    def arm(**fault: Any) -> None:
        answer = requests.post(sandbox.url + "/sandbox/faults", json=fault, timeout=10)
        assert answer.status_code == 200, answer.text

    yield arm
    requests.delete(sandbox.url + "/sandbox/faults", timeout=10)
