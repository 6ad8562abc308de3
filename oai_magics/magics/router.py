"""Subcommands as a table: `%oai NAME args` runs the function registered under NAME, its
arguments parsed by the function's own `@magic_arguments` parser (so `%oai NAME -h` works)."""

from __future__ import annotations

from typing import Any, Callable

from IPython.core.error import UsageError

__all__ = ["Router"]

Handler = Callable[[Any, Any], Any]


class Router:
    def __init__(self, magic: str) -> None:
        self.magic = magic
        self.table: dict[str, Handler] = {}

    def command(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.table[name] = handler
            return handler

        return register

    def dispatch(self, owner: Any, line: str) -> Any:
        name, _, rest = line.strip().partition(" ")
        if name in ("", "-h", "--help", "help"):
            print(self.summary())
            return None
        handler = self.table.get(name)
        if handler is None:
            raise UsageError(f"%{self.magic}: unknown subcommand {name!r}; try one of: {', '.join(sorted(self.table))}")
        from .common import parse

        return handler(owner, parse(handler, rest))

    def summary(self) -> str:
        width = max(map(len, self.table))
        lines = [f"%{self.magic} SUBCOMMAND [options]   (%{self.magic} SUBCOMMAND -h for its options)", ""]
        for name in sorted(self.table):
            # @magic_arguments replaces __doc__ with the usage text; the parser keeps the docstring.
            parser = getattr(self.table[name], "parser", None)
            doc = ((parser.description if parser else None) or self.table[name].__doc__ or "").strip().splitlines()
            lines.append(f"  {name.ljust(width)}  {doc[0] if doc else ''}")
        return "\n".join(lines)
