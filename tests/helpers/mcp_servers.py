"""The tests' own MCP server (`toolbox_server.py`, the SDK's MCPServer), run over stdio or over
streamable HTTP on a free loopback port."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Iterator

TOOLBOX = Path(__file__).with_name("toolbox_server.py")
STDIO_COMMAND = f"{sys.executable} {TOOLBOX}"


@contextlib.contextmanager
def http_toolbox() -> Iterator[str]:
    """The toolbox over streamable HTTP; yields its endpoint URL once it listens (it prints its port then)."""
    process = subprocess.Popen([sys.executable, str(TOOLBOX), "--http"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        port = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert port.isdigit(), f"the toolbox did not start: {port!r}"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)
