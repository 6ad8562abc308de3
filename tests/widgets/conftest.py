"""A live sandbox on loopback, a client for it, and a builder on each assistants back end."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from oai_magics.assistants import BACKENDS, backend_for
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from tests.helpers.builders import builder  # noqa: F401 (a fixture: a builder on the `backend` below)

# An IPython shell on this sandbox (for %assistant form) and the fault switch, as the magics tests have them.
from ..magics.conftest import faults, shell  # noqa: F401


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
