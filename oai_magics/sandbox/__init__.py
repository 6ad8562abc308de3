"""The embedded sandbox: an OpenAI-compatible HTTP server on loopback, for demos and tests.

    python -m oai_magics.sandbox --port 0          # prints its base URL, ending in /v1

    from oai_magics.sandbox import start
    sandbox = start()                              # a background thread of this process
    sandbox.base_url, sandbox.api_key; sandbox.stop()

It is deterministic, says in its answers that they come from the sandbox, keeps state in SQLite,
and follows the wire format of the OpenAI API (the 2026 spec for current endpoints and
Assistants v2, the 2023 specs for the legacy endpoints and Assistants v1). It imports nothing
from the project's client package: it is an independent implementation of the server side.
"""

from __future__ import annotations

from typing import Any

__all__ = ["start", "Sandbox"]


def __getattr__(name: str) -> Any:
    # Starlette and uvicorn load only when a sandbox is really wanted.
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
