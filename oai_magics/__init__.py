"""oai_magics: IPython magics for the OpenAI API and every OpenAI-compatible server.

`%load_ext oai_magics` registers the magics. This module imports nothing heavy: the client,
pandas, matplotlib and ipywidgets are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = ["Client", "OpenAIError", "load_ipython_extension", "unload_ipython_extension", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client, OpenAIError


def __getattr__(name: str) -> Any:
    # Lazy exports keep `import oai_magics` (and so %load_ext) cheap.
    if name in ("Client", "OpenAIError"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'oai_magics' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """Register the oai_magics magics with an IPython shell."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what load_ipython_extension registered."""
    from .magics import unregister

    unregister(ipython)
