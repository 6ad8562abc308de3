"""%assistant and %%assistant: assistants, threads, messages and runs, on either back end.

Subcommands are a table (`ROUTER`); their handlers live in `assistant_commands` (assistants,
threads, messages, files, the form) and `assistant_runs` (run, submit, cancel, runs, steps).
`--api responses|assistants` may stand before the subcommand or among its options.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand

from .arguments import argument
from .common import SessionMagics, friendly, parse
from .router import Router

__all__ = ["AssistantMagics", "ROUTER", "api_option", "local_errors"]

ROUTER = Router("assistant")
API_CHOICES = ("responses", "assistants")


def api_option(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The `--api` flag every subcommand takes (its own parser, so `--help` lists it)."""
    return argument("--api", choices=API_CHOICES, help="which back end: responses or assistants "
                    "(default: the profile's setting, else found by asking the server once)")(handler)


def local_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """A name that matches nothing, a tool the back end lacks, a bad answer: one UsageError line."""
    import functools

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..assistants import Unsupported
        from ..assistants.resolve import NotFound

        try:
            return method(*args, **kwargs)
        except (NotFound, Unsupported) as exc:
            raise UsageError(str(exc)) from None

    return wrapper


@magics_class
class AssistantMagics(SessionMagics):
    """%assistant: `%assistant help` lists the subcommands."""

    def __init__(self, shell: Any, session: Any) -> None:
        super().__init__(shell, session)
        self.cell: str | None = None  # the body of %%assistant, for the subcommand that takes it
        self.functions: dict[str, set[str]] = {}  # assistant id -> the Python functions named for it
        self.last_run: tuple[str, str] | None = None  # (thread id, run id) of the latest run

    @friendly
    @local_errors
    @no_var_expand
    @line_cell_magic
    def assistant(self, line: str, cell: str | None = None) -> Any:
        """Assistants, threads and runs: `%assistant help` lists the subcommands."""
        self.cell = cell
        name, _, rest = _api_after_subcommand(line).strip().partition(" ")
        handler = ROUTER.table.get(name)
        try:
            if handler is None:
                return ROUTER.dispatch(self, line)  # help, or one line naming the known subcommands
            # Messages are free text: options come before their first word.
            return handler(self, parse(handler, rest, intermixed=True))
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


# The handlers register themselves on ROUTER.
from . import assistant_commands, assistant_runs  # noqa: E402,F401
