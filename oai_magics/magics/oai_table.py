"""The table of `%oai` subcommands.

`ROUTER` is filled by the modules that define subcommands, which import it from here: `oai`
itself (configuration, profiles, history, usage), `oai_api`, `oai_files` and `oai_finetunes`.
`oai` (the magic) imports those modules at its top, so the table is full before the first line
is routed, and no subcommand module imports the magic. A handler is called with the `OAIMagics`
instance that routed it and the arguments its own parser read.
"""

from __future__ import annotations

from .router import Router

__all__ = ["ROUTER"]

ROUTER = Router("oai")
