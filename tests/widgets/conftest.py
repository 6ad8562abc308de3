"""A live sandbox on loopback, a client for it, and a builder on each assistants back end (the chat
back end on a sandbox with its Assistants and Conversations routes switched off, as llama.cpp or
Ollama are)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from oai_magics.assistants import BACKENDS, backend_for, choose_backend
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start

# An IPython shell on this sandbox (for %assistant form), the fault switch and the chat-only sandbox,
# as the magics tests have them.
from ..magics.conftest import chat_only_sandbox, faults, no_conversations_sandbox, shell  # noqa: F401


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox")) as running:
        yield running


# The sandbox a back end is tried on when not the full one.
SERVERS = {"chat": "chat_only_sandbox", "responses-chained": "no_conversations_sandbox"}


@pytest.fixture(params=[*BACKENDS, "responses-chained"])
def api(request: pytest.FixtureRequest) -> str:
    """The back end under test (a test of one back end parametrizes `api` itself); "responses-chained"
    is the responses back end on a server without Conversations."""
    return request.param


@pytest.fixture
def server(api: str, request: pytest.FixtureRequest) -> Sandbox:
    """The sandbox a back end is tried on: the chat back end's has only chat completions and the like."""
    return request.getfixturevalue(SERVERS.get(api, "sandbox"))


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
        chosen = choose_backend(client, store=store)
        assert type(chosen).__name__ == "ChainedResponsesBackend"
        return chosen
    return backend_for(client, api, store=store)
