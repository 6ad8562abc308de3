"""The reliability suite's fixtures: one sandbox per module, a handle on its fault injection and
traffic log, and an IPython shell whose profile points at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.sandbox import Sandbox, start
from tests.helpers.shells import retire

CONTROL_TIMEOUT = 30  # seconds for a control request (longer than any wait it asks the sandbox for)


class Server:
    """The sandbox as a test sees it from outside: arm faults, read what requests it received."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.auth = {"Authorization": f"Bearer {sandbox.api_key}"}

    def arm(self, **fault: Any) -> None:
        answer = requests.post(self.sandbox.url + "/sandbox/faults", json=fault, timeout=CONTROL_TIMEOUT)
        assert answer.status_code == 200, answer.text

    def disarm(self) -> None:
        requests.delete(self.sandbox.url + "/sandbox/faults", timeout=CONTROL_TIMEOUT)

    def traffic(self, wait: float = 0, until: str = "idle") -> dict:
        """{"requests": [...], "in_flight": n}, after waiting up to `wait` seconds for `until`
        (idle, busy, or a number of requests received)."""
        query = {"wait": wait, "until": until} if wait else {}
        answer = requests.get(self.sandbox.url + "/sandbox/requests", params=query, timeout=CONTROL_TIMEOUT + wait)
        answer.raise_for_status()
        return answer.json()

    def seen(self, path: str = "", method: str = "") -> list[dict]:
        """The API requests received so far (since the last `forget`) whose path starts with `path`."""
        return [r for r in self.traffic()["requests"] if r["path"].startswith(path) and (not method or r["method"] == method)]

    def forget(self) -> None:
        requests.delete(self.sandbox.url + "/sandbox/requests", timeout=CONTROL_TIMEOUT)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request straight to the sandbox, around the client under test (to learn the right answer)."""
        answer = requests.request(method, self.sandbox.base_url + path, headers=self.auth, timeout=CONTROL_TIMEOUT, **kwargs)
        answer.raise_for_status()
        return answer.json()


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
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    monkeypatch.setenv("SANDBOX_TEST_KEY", sandbox.api_key)
    monkeypatch.setenv("OAI_MAGICS_CACHE_DIR", str(tmp_path / "embedding-cache"))
    ip.run_line_magic("load_ext", "oai_magics")
    with capture_output():
        ip.run_line_magic("config", "OAIMagics.timeout = 2.0")
        ip.run_line_magic("oai", f"profile add test --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
        ip.run_line_magic("oai", "use test")
    yield ip
    ip.run_line_magic("unload_ext", "oai_magics")
    retire(ip)
