"""The reliability suite's fixtures: one sandbox per module, a handle on its fault injection and
traffic log, and an IPython shell whose profile points at it."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.sandbox import Sandbox, start
from tests.helpers.kernels import kernel  # noqa: F401 (a fixture: a real kernel on this folder's sandbox)
from tests.helpers.sandboxes import Server
from tests.helpers.shells import extension_shell


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), job_delay=0.1) as running:
        yield running


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[Server]:
    """The module's sandbox with no fault armed and an empty traffic log, and so again afterwards."""
    handle = Server(sandbox)
    handle.disarm()
    handle.forget()
    yield handle
    handle.disarm()


@pytest.fixture
def shell(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    """A fresh shell with the extension loaded, its profile on the sandbox, short timeouts, and an
    embedding cache of its own (a vector cached by one case would hide the next case's requests)."""
    monkeypatch.setenv("SANDBOX_TEST_KEY", sandbox.api_key)
    monkeypatch.setenv("OAI_MAGICS_CACHE_DIR", str(tmp_path / "embedding-cache"))
    with extension_shell() as ip:
        with capture_output():
            ip.run_line_magic("config", "OAIMagics.timeout = 2.0")
            ip.run_line_magic("oai", f"profile add test --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
            ip.run_line_magic("oai", "use test")
        yield ip
