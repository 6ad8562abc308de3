"""An IPython shell with the extension loaded, talking to the session's sandbox over loopback."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.sandbox import Sandbox, start
from tests.helpers.shells import extension_shell, retire


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), job_delay=0.1) as running:
        yield running


@pytest.fixture(scope="session")
def bare_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox as the servers people run themselves are: no Assistants and no Conversations API;
    chat completions (all llama.cpp or Ollama give the chat back end) and Responses (what LiteLLM or
    vLLM add, for the responses back end with chained threads)."""
    with start(data_dir=tmp_path_factory.mktemp("bare"), job_delay=0.1, assistants_api=False,
               conversations_api=False) as running:
        yield running


def use_server(ip: InteractiveShell, server: Sandbox, profile: str) -> None:
    """Point a shell of `shell_on` at another sandbox, as a user adds and uses a profile."""
    with capture_output():
        ip.run_line_magic("oai", f"profile add {profile} --base-url {server.base_url} --key-env SANDBOX_TEST_KEY")
        ip.run_line_magic("oai", f"use {profile}")


@contextlib.contextmanager
def shell_on(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, profile: str = "test") -> Iterator[InteractiveShell]:
    """A fresh shell whose active profile is a user-defined one pointing at `sandbox`."""
    monkeypatch.setenv("SANDBOX_TEST_KEY", sandbox.api_key)
    with extension_shell() as ip:
        with capture_output():
            ip.run_line_magic("oai", f"profile add {profile} --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
            ip.run_line_magic("oai", f"use {profile}")
        yield ip


@pytest.fixture
def shell(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    with shell_on(sandbox, monkeypatch) as ip:
        yield ip


@pytest.fixture
def shell_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], InteractiveShell]]:
    """`shell_at(base_url)`: a fresh shell whose active profile points at that server (a misbehaving one,
    say), with a key of its own."""
    started: list[InteractiveShell] = []

    def make(base_url: str) -> InteractiveShell:
        InteractiveShell.clear_instance()
        ip = InteractiveShell.instance()
        monkeypatch.setenv("ODD_SERVER_KEY", "sk-odd-0123456789")
        ip.run_line_magic("load_ext", "oai_magics")
        run(ip, "oai", f"profile add odd --base-url {base_url} --key-env ODD_SERVER_KEY")
        run(ip, "oai", "use odd")
        started.append(ip)
        return ip

    yield make
    for ip in started:
        ip.run_line_magic("unload_ext", "oai_magics")
        retire(ip)


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Any]:
    def arm(**fault: Any) -> None:
        assert requests.post(sandbox.url + "/sandbox/faults", json=fault, timeout=10).status_code == 200

    yield arm
    requests.delete(sandbox.url + "/sandbox/faults", timeout=10)


def listing_done(ip: InteractiveShell, seconds: float = 30) -> None:
    """Wait until the active profile's background models listing has come (or failed): a test that
    arms a fault on /v1/models must not have it taken by that request. `seconds` bounds the wait."""
    from oai_magics.magics import session_of

    session = session_of(ip)
    ready = session.watch.ready(session.profile_name)
    assert ready is not None and ready.wait(seconds)


def run(ip: InteractiveShell, magic: str, line: str = "", cell: str | None = None) -> tuple[Any, Any]:
    """Run a magic; (its return value, the captured output)."""
    with capture_output() as captured:
        value = ip.run_cell_magic(magic, line, cell) if cell is not None else ip.run_line_magic(magic, line)
    return value, captured


def subcommands(router: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every subcommand of a router, nested ones included: ("files upload", handler), ..."""
    from oai_magics.magics.router import Router

    found = []
    for name, handler in router.table.items():
        found += subcommands(handler, f"{prefix}{name} ") if isinstance(handler, Router) else [(prefix + name, handler)]
    return found
