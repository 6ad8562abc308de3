"""A live sandbox on loopback, a client for it, and a builder on each assistants back end (the chat
back end, and the responses one with chained threads, on a sandbox with its Assistants and
Conversations routes switched off, as llama.cpp, Ollama, vLLM or LiteLLM are)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from oai_magics.assistants import BACKENDS, backend_for, choose_backend
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from tests.helpers.builders import builder  # noqa: F401 (a fixture: a builder on the `backend` below)

# An IPython shell on this sandbox (for %assistant form), the fault switch and the sandbox without
# Assistants and Conversations, as the magics tests have them.
from ..magics.conftest import bare_sandbox, faults, shell  # noqa: F401


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox")) as running:
        yield running


# The back ends tried on the sandbox without Assistants and Conversations, as on the servers they are for.
ON_BARE = ("chat", "responses-chained")


@pytest.fixture(params=[*BACKENDS, "responses-chained"])
def api(request: pytest.FixtureRequest) -> str:
    """The back end under test (a test of one back end parametrizes `api` itself); "responses-chained"
    is the responses back end on a server without Conversations."""
    return request.param


@pytest.fixture
def server(api: str, request: pytest.FixtureRequest) -> Sandbox:
    """The sandbox a back end is tried on."""
    return request.getfixturevalue("bare_sandbox" if api in ON_BARE else "sandbox")


@pytest.fixture
def client(server: Sandbox) -> Iterator[Client]:
    with Client(api_key=server.api_key, base_url=server.base_url, max_retries=2, timeout=(5.0, 30.0)) as made:
        yield made


@pytest.fixture
def backend(api: str, client: Client, tmp_path: Any) -> Any:
    """Each back end over its sandbox; local records are kept in the test's folder."""
    from oai_magics.assistants.store import AssistantStore

    store = AssistantStore(tmp_path / "assistants.sqlite3")
    if api == "responses-chained":  # as the form finds it: the probe says the server has no Conversations
        from oai_magics.assistants.chooser import PROBED

        PROBED.pop(str(client.base_url), None)  # asked afresh: an earlier test may have left another answer
        chosen = choose_backend(client, store=store)
        assert type(chosen).__name__ == "ChainedResponsesBackend"
        return chosen
    return backend_for(client, api, store=store)
