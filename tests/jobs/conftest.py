"""Jobs of many requests against a live sandbox: the shell and fault fixtures of the magics tests, plus
the sandbox's rate limits and its count of the requests it has seen."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox

from ..magics.conftest import faults, run, sandbox, shell  # noqa: F401  (fixtures shared with the magics tests)


class Traffic:
    """The sandbox's view: requests seen and refused per path, and its rate limits."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.url = sandbox.url + "/sandbox/limits"

    def limit(self, **limits: Any) -> None:
        assert requests.post(self.url, json=limits, timeout=10).status_code == 200

    def report(self) -> dict:
        return requests.get(self.url, timeout=10).json()

    def seen(self, path: str = "/v1/embeddings") -> int:
        return self.report()["seen"].get(path, 0)

    def refused(self, path: str = "/v1/embeddings") -> int:
        return self.report()["refused"].get(path, 0)


@pytest.fixture
def traffic(sandbox: Sandbox) -> Iterator[Traffic]:
    requests.delete(sandbox.url + "/sandbox/limits", timeout=10)
    yield Traffic(sandbox)
    requests.delete(sandbox.url + "/sandbox/limits", timeout=10)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    yield c
    c.close()
