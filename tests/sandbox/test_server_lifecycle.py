"""Starting and stopping the sandbox in-process: nothing is left behind when start fails, the data
folder outlives a thread that is still running, and repeated starts do not pile up log filters."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager, contextmanager
import logging
import socket
import sqlite3
import tempfile
import threading
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator, Iterator

import pytest

from oai_magics.sandbox import Sandbox, server, start


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Temporary folders made by the sandbox land here, where the test can see them."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@contextmanager
def no_socket_left_unclosed() -> Iterator[None]:
    """Whatever is released inside the block (and then collected) must not be an unclosed socket."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    assert [str(w.message) for w in caught if "socket" in str(w.message)] == []


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        yield taken.getsockname()[1]


def test_a_start_on_a_taken_port_leaves_no_folder_and_no_socket(private_tmp: Path, taken_port: int) -> None:
    with pytest.raises(OSError) as info:
        start(port=taken_port)
    # Checked while the error (and through it every local of the failed start) is still alive:
    # a folder or socket left to the garbage collector counts as leaked.
    assert list(private_tmp.iterdir()) == []
    with no_socket_left_unclosed():
        del info


def test_a_start_whose_server_fails_leaves_nothing_running(private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = server.create_app
    built: list = []

    def failing_app(settings: Any) -> Any:
        app = build(settings)
        built.append(app)

        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:  # the application refuses to start
            raise RuntimeError("startup failed")
            yield

        app.router.lifespan_context = lifespan
        return app

    monkeypatch.setattr(server, "create_app", failing_app)
    logging.getLogger("uvicorn.error").disabled = True  # the failure's traceback is expected
    running_before = set(threading.enumerate())
    try:
        with pytest.raises(RuntimeError, match="did not start") as info:
            start()
    finally:
        logging.getLogger("uvicorn.error").disabled = False
    assert list(private_tmp.iterdir()) == []
    with no_socket_left_unclosed():
        del info
    assert [t for t in set(threading.enumerate()) - running_before if t.name == "oai-magics-sandbox"] == []
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):  # the store let go of its database
        built[0].state.sandbox.store.all("file")


def test_stop_keeps_the_folder_while_the_thread_runs(tmp_path: Path) -> None:
    release = threading.Event()
    busy = threading.Thread(target=release.wait, daemon=True)  # a server thread that has not finished yet
    busy.start()
    folder = tempfile.TemporaryDirectory(dir=tmp_path)
    sandbox = Sandbox(base_url="http://127.0.0.1:9/v1", api_key="k", data_dir=Path(folder.name),
                      _server=SimpleNamespace(should_exit=False, force_exit=False), _thread=busy, _tmp=folder)
    sandbox.stop(timeout=0.01)
    assert Path(folder.name).is_dir() and sandbox._server.force_exit
    release.set()
    busy.join()
    sandbox.stop()
    assert not Path(folder.name).exists()


def test_a_stopped_sandbox_removes_its_folder(private_tmp: Path) -> None:
    with start() as sandbox:
        assert sandbox.data_dir.parent == private_tmp and sandbox.data_dir.is_dir()
    assert not sandbox.data_dir.exists()


def test_repeated_starts_add_the_log_filter_once(tmp_path: Path) -> None:
    def filters() -> int:
        return sum(isinstance(f, server._HideInjectedDrops) for f in logging.getLogger("uvicorn.error").filters)

    for index in range(2):
        with start(data_dir=tmp_path / str(index)):
            pass
    assert filters() == 1
