"""Subcommands as a table: `%oai NAME args` runs the function registered under NAME, its
arguments parsed by the function's own `@magic_arguments` parser (so `%oai NAME -h` works).

A table can hold another table as one of its subcommands (`%oai files upload PATH`): the nested
one routes the rest of the line the same way, lists its own subcommands on `help`, and may run a
default subcommand when nothing follows its name (`%oai files` lists the files).
"""

from __future__ import annotations

from typing import Any, Callable, Union

from IPython.core.error import UsageError

__all__ = ["Router"]

Handler = Callable[[Any, Any], Any]
_HELP = ("-h", "--help", "help")


class Router:
    def __init__(self, magic: str, doc: str = "", default: str | None = None) -> None:
        self.magic = magic  # how the user types it: "oai", "oai files"
        self.doc = doc  # one line, shown in the parent's listing
        self.default = default
        self.table: dict[str, Union[Handler, Router]] = {}

    def command(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.table[name] = handler
            return handler

        return register

    def group(self, name: str, doc: str, default: str | None = None) -> "Router":
        """A nested table of subcommands under `name`, described in this table's listing by `doc`."""
        nested = Router(f"{self.magic} {name}", doc, default)
        self.table[name] = nested
        return nested

    def dispatch(self, owner: Any, line: str) -> Any:
        name, rest = (line.split(None, 1) + ["", ""])[:2]
        if name in _HELP or (not name and self.default is None):
            print(self.summary())
            return None
        handler = self.table.get(name or self.default or "")
        if handler is None:
            raise UsageError(f"%{self.magic}: unknown subcommand {name!r}; try one of: {', '.join(sorted(self.table))}")
        if isinstance(handler, Router):
            return handler.dispatch(owner, rest)
        from .arguments import parse

        return handler(owner, parse(handler, rest, namespace=owner.shell.user_ns))

    def summary(self) -> str:
        width = max(map(len, self.table))
        lines = [f"%{self.magic} SUBCOMMAND [options]   (%{self.magic} SUBCOMMAND -h for its options)", ""]
        if self.doc:
            lines[:0] = [self.doc, ""]
        for name in sorted(self.table):
            lines.append(f"  {name.ljust(width)}  {_describe(self.table[name])}")
        if self.default:
            lines += ["", f"Without a subcommand: %{self.magic} {self.default}."]
        return "\n".join(lines)


def _describe(handler: Union[Handler, Router]) -> str:
    """The first line of what a subcommand says about itself."""
    if isinstance(handler, Router):
        text = handler.doc
    else:  # IPython's own decorator swaps __doc__ for the formatted help; the parser keeps the original
        text = getattr(getattr(handler, "parser", None), "description", None) or handler.__doc__ or ""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
