"""%assistant and %%assistant: assistants, threads, messages and runs, on either back end.

Subcommands are a table (`assistant_table.ROUTER`), filled by the handler modules imported below:
`assistant_commands` (assistants, threads, messages, files, the form) and `assistant_runs` (run,
submit, cancel, runs, steps). `--api responses|assistants|chat` may stand before the subcommand or
among its options.
"""

from __future__ import annotations

import re
from typing import Any

from IPython.core.magic import line_cell_magic, magics_class, no_var_expand

# Each handler module registers its subcommands on ROUTER when imported.
from . import assistant_commands, assistant_runs  # noqa: F401
from .assistant_table import ROUTER
from .common import SessionMagics, friendly

__all__ = ["AssistantMagics"]


@magics_class
class AssistantMagics(SessionMagics):
    """%assistant: `%assistant help` lists the subcommands."""

    def __init__(self, shell: Any, session: Any) -> None:
        super().__init__(shell, session)
        self.cell: str | None = None  # the body of %%assistant, for the subcommand that takes it
        self.functions: dict[str, set[str]] = {}  # assistant id -> the Python functions named for it
        self.schemas: dict[str, Any] = {}  # assistant id -> the --schema it was created with (a Pydantic class's)
        self.last_run: tuple[str, str] | None = None  # (thread id, run id) of the latest run
        self.threads: dict[str, None] = {}  # the threads runs went to in this session, the latest last

    @friendly
    @no_var_expand
    @line_cell_magic
    def assistant(self, line: str, cell: str | None = None) -> Any:
        """Assistants, threads and runs: `%assistant help` lists the subcommands."""
        self.cell = cell
        try:
            return ROUTER.dispatch(self, _api_after_subcommand(line))
        finally:
            self.cell = None

    def backend(self, args: Any) -> Any:
        from .assistant_backend import backend_of

        return backend_of(self.session, getattr(args, "api", None))


_API_FIRST = re.compile(r"^\s*--api(?:=|\s+)(\S+)\s+(\S+)(.*)$", re.DOTALL)


def _api_after_subcommand(line: str) -> str:
    """`--api X sub ...` -> `sub --api X ...`: the subcommand's parser reads it among its options,
    before a message (free text, taken as typed from its first word, options and all)."""
    found = _API_FIRST.match(line)
    return f"{found[2]} --api {found[1]}{found[3]}" if found else line
