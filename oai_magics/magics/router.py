"""Subcommands as a table: `%oai NAME args` runs the function registered under NAME, its
arguments parsed by the function's own `@magic_arguments` parser (so `%oai NAME -h` works).

A table can hold another table as one of its subcommands (`%oai files upload PATH`): the nested
one routes the rest of the line the same way, lists its own subcommands on `help`, and may run a
default subcommand when nothing follows its name (`%oai files` lists the files).

A subcommand registered as a listing (`command(NAME, listing=True)`) takes `-o NAME` like every
magic: the router adds the flag and stores the table the handler returns, so no listing does it
on its own.
"""

from __future__ import annotations

from typing import Any, Callable, Union

from IPython.core.error import UsageError

from .arguments import a_name, argument, parse
from .common import store_in

__all__ = ["Router"]

Handler = Callable[[Any, Any], Any]
_HELP = ("-h", "--help", "help")


class Router:
    def __init__(self, magic: str, doc: str = "", default: str | None = None) -> None:
        self.magic = magic  # how the user types it: "oai", "oai files"
        self.doc = doc  # one line, shown in the parent's listing
        self.default = default
        self.table: dict[str, Union[Handler, Router]] = {}

    def command(self, name: str, listing: bool = False) -> Callable[[Handler], Handler]:
        """Register a handler under `name`; a `listing` also takes `-o NAME` for the table it returns."""
        def register(handler: Handler) -> Handler:
            if listing:  # the parser is built on first use, so the flag joins the handler's own
                handler = argument("-o", "--output", metavar="NAME", type=a_name,
                                   help="also store the table in this variable")(handler)
                handler.stores_output = True  # type: ignore[attr-defined]
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
        if name.startswith("-") and name not in _HELP and self.default:  # `%oai files -o table`: the default's options
            name, rest = self.default, line
        if name.endswith("?") and name.rstrip("?") in self.table and not rest.strip():
            name, rest = name.rstrip("?"), "--help"  # `%assistant run?`: help on the subcommand, as `?` is in IPython
        if name in _HELP or (not name and self.default is None):
            print(self.summary())
            return None
        handler = self.table.get(name or self.default or "")
        if handler is None:
            raise UsageError(f"%{self.magic}: unknown subcommand {name!r}; try one of: {', '.join(sorted(self.table))}")
        if isinstance(handler, Router):
            return handler.dispatch(owner, rest)
        args = parse(handler, rest, namespace=owner.shell.user_ns)
        result = handler(owner, args)
        if getattr(handler, "stores_output", False) and args.output:
            store_in(owner.shell, result, args.output)  # IPython shows the table and sets `_` itself
        return result

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
