"""Ctrl-C during `%assistant run`: a real SIGINT while the kernel is blocked reading the stream.

The sandbox here waits a second between reply pieces, so when the first piece has been shown the
main thread is blocked in a socket read; a helper thread then sends SIGINT to the process. A run
left without its stream goes on at the sandbox's run pace (seconds), as a real one would, so the
cancel that follows finds it still in progress.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import threading
from typing import Any, Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start

from .conftest import shell_on
from .test_assistant import BACKENDS


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("slow"), token_delay=1.0, run_delay=5.0) as running:
        yield running


@pytest.fixture
def slow_shell(slow_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    with shell_on(slow_sandbox, monkeypatch, profile="slow") as ip:
        yield ip


class InterruptOnText(io.StringIO):
    """Captured output that sends SIGINT (from another thread) once the reply has begun."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.seen = threading.Event()
        self.sender = threading.Thread(target=self._send, daemon=True)
        self.sender.start()

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.marker in self.getvalue():
            self.seen.set()
        return written

    def _send(self) -> None:
        if self.seen.wait(30):
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("api", BACKENDS)
def test_ctrl_c_cancels_the_run_on_the_server_and_keeps_the_partial_reply(
        slow_shell: Any, slow_sandbox: Sandbox, api: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        slow_shell.run_line_magic("assistant", f"create talker --model gpt-4o-mini --api {api}")
    out = InterruptOnText("sandbox")
    with contextlib.redirect_stdout(out):
        slow_shell.run_line_magic("assistant", f"run talker --api {api} Tell me about the harbour of Genoa")
    out.sender.join(5)
    result = slow_shell.user_ns["_"]
    text = out.getvalue()
    assert "interrupted: run" in text and "cancelled on the server" in text and "characters of the reply kept" in text
    # the status line says where the run was left, not the last status that streamed
    assert re.search(r"^\[(cancelled|interrupted) · [\d.]+ s · \d+/\d+ steps\]$", text, re.M), text
    assert "sandbox" in result.text and "Genoa" not in result.text  # partial: the rest never came
    runs = slow_shell.run_line_magic("assistant", f"runs {result.thread_id} --api {api}")
    assert list(runs["status"]) in (["cancelled"], ["cancelling"])
    if api == "assistants":  # the server's own record of the run, read directly
        client = Client(api_key=slow_sandbox.api_key, base_url=slow_sandbox.base_url)
        assert client.threads.runs.retrieve(result.thread_id, result.run_id)["status"] in ("cancelling", "cancelled")
