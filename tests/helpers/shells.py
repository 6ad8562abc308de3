"""Ending a test's IPython shell the way its exit hook would, minus a garbage collection.

IPython registers `atexit_operations` for every shell it makes, and each one ends with `gc.collect()`
over the whole heap. A suite makes hundreds of shells: their hooks, run one after another when pytest
exits, held its exit for many minutes after the last test. A retired shell saves its history, stops its
history thread and leaves no hook behind.
"""

from __future__ import annotations

import atexit
import contextlib
from typing import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell


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
def extension_shell(monkeypatch: pytest.MonkeyPatch, key_env: str, key: str) -> Iterator[InteractiveShell]:
    """A fresh shell with the extension loaded and `key` in the environment variable `key_env` (for a
    profile the test adds), unloaded and retired afterwards."""
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    monkeypatch.setenv(key_env, key)
    ip.run_line_magic("load_ext", "oai_magics")
    yield ip
    ip.run_line_magic("unload_ext", "oai_magics")
    retire(ip)
