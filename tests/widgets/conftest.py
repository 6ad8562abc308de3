"""A live sandbox on loopback, a client for it, and a builder on each assistants back end."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests

from oai_magics.assistants import BACKENDS, backend_for
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start

from ..magics.conftest import shell  # noqa: F401  (an IPython shell on this sandbox, for %assistant form)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    with Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=2, timeout=(5.0, 30.0)) as made:
        yield made


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, client: Client, tmp_path: Any) -> Any:
    """Each back end over the sandbox; the responses one keeps its local records in the test's folder."""
    from oai_magics.assistants.store import AssistantStore

    return backend_for(client, request.param, store=AssistantStore(tmp_path / "assistants.sqlite3"))


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Any]:
    def arm(**fault: Any) -> None:
        assert requests.post(sandbox.url + "/sandbox/faults", json=fault, timeout=10).status_code == 200

    yield arm
    requests.delete(sandbox.url + "/sandbox/faults", timeout=10)
