"""IPython shells for tests: a fresh one (`fresh_shell`), one with the extension loaded
(`extension_shell`), the JSON bodies a shell's client sends (`sent_bodies`), ended the way its exit hook would, minus a garbage collection (`retire`); a
shell on a misbehaving loopback server (`raw_shell`, `use_server`, `shown_on_raw`).

IPython registers `atexit_operations` for every shell it makes, and each one ends with `gc.collect()`
over the whole heap. A suite makes hundreds of shells: their hooks, run one after another when pytest
exits, held its exit for many minutes after the last test. A retired shell saves its history, stops its
history thread and leaves no hook behind.
"""

from __future__ import annotations

import atexit
import contextlib
import json
from typing import Any, Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.rawserver import SERVER_KEY, RawServer


def retire(ip: InteractiveShell) -> None:
    """Stop `ip`'s history thread, drop its exit hook and clear it as the singleton."""
    atexit.unregister(ip.atexit_operations)
    history = ip.history_manager
    if history is not None and history.enabled:
        history.end_session()
        if history.save_thread is not None:
            history.save_thread.stop()
    InteractiveShell.clear_instance()


@contextlib.contextmanager
def fresh_shell() -> Iterator[InteractiveShell]:
    """A new singleton shell (display() publishes through it), retired afterwards."""
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    try:
        yield ip
    finally:
        retire(ip)


@contextlib.contextmanager
def extension_shell() -> Iterator[InteractiveShell]:
    """A new singleton shell with the extension loaded; unloaded and retired afterwards."""
    with fresh_shell() as ip:
        ip.run_line_magic("load_ext", "oai_magics")
        try:
            yield ip
        finally:
            ip.run_line_magic("unload_ext", "oai_magics")


@pytest.fixture
def raw_shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A fresh shell with the extension loaded and SERVER_KEY in REVIEW_KEY, on no server yet
    (`use_server` points it at one)."""
    monkeypatch.setenv("REVIEW_KEY", SERVER_KEY)
    with extension_shell() as ip:
        yield ip


def use_server(ip: InteractiveShell, server: RawServer) -> None:
    """Make a profile on `server` with the key in REVIEW_KEY the shell's active one."""
    with capture_output():
        ip.run_line_magic("oai", f"profile add raw --base-url {server.url} --key-env REVIEW_KEY")
        ip.run_line_magic("oai", "use raw")


def shown_on_raw(server: RawServer, monkeypatch: pytest.MonkeyPatch, key: str, line: str) -> str:
    """What a fresh shell shows for `line` on a profile of the raw server (`%oai use` probes it first)."""
    monkeypatch.setenv("REVIEW_KEY", key)
    with extension_shell() as ip, capture_output() as shown:
        for cell in (f"%oai profile add raw --base-url {server.url} --key-env REVIEW_KEY", "%oai use raw", line):
            ip.run_cell(cell)
    return shown.stdout + shown.stderr


def sent_bodies(shell: Any) -> list[tuple[str, dict]]:
    """(path, JSON body) of every request the session's client sends from now on (a requests hook, no mock)."""
    sent: list[tuple[str, dict]] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        body = response.request.body
        if body and response.request.headers.get("Content-Type", "").startswith("application/json"):
            sent.append((response.request.path_url.removeprefix("/v1"), {**json.loads(body), "_status": response.status_code}))

    from oai_magics.magics import session_of

    session_of(shell).client._requester.transport.session.hooks["response"].append(hook)
    return sent
