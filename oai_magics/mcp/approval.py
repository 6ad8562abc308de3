"""The approval rule for MCP tool calls, local and remote alike, and the question asked in the cell.

    always     every call runs
    never      no call runs (the model hears that it was refused)
    read-only  calls to tools the server marks read-only (`readOnlyHint`) run; the others are asked
    ask        every call is asked, showing the server, the tool and its arguments

`verdict` applies a rule; `ask` puts the question to the person at the notebook. A kernel that
cannot ask (no stdin, as under nbclient) is an error that names the rules that need no answer.
"""

from __future__ import annotations

import builtins
import json
from typing import Callable, Literal

from ..local_errors import LocalError

__all__ = ["Approve", "APPROVE_CHOICES", "verdict", "ask", "NeedsAnswer"]

Approve = Literal["ask", "always", "never", "read-only"]
APPROVE_CHOICES: tuple[str, ...] = ("ask", "always", "never", "read-only")

# ipykernel puts its own `input` (which asks the front end) into builtins while a cell runs; the
# default argument is whatever `input` was at import, so the one in place at call time is looked up.
_IMPORTED_INPUT = input


class NeedsAnswer(LocalError):
    """An MCP call waits for an approval that nobody can give here."""

    hint = "this kernel cannot ask (no stdin): choose --approve always|never|read-only for the server"


def verdict(rule: str, read_only: bool) -> Literal["approve", "deny", "ask"]:
    """always -> approve, never -> deny, read-only -> approve if read_only else ask, ask -> ask."""
    if rule not in APPROVE_CHOICES:
        raise ValueError(f"unknown approval rule {rule!r}; one of {', '.join(APPROVE_CHOICES)}")
    if rule == "always" or (rule == "read-only" and read_only):
        return "approve"
    return "deny" if rule == "never" else "ask"


def pretty(arguments: dict | str) -> str:
    """The arguments as indented JSON (a string that is no JSON is shown as it is)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            return arguments
    return json.dumps(arguments, indent=2, ensure_ascii=False, default=str)


def ask(server: str, tool: str, arguments: dict | str, prompt: Callable[[str], str] = input) -> bool:
    """Show server, tool and the pretty-printed arguments, ask "Run <server>.<tool>? [y/N]"; True for y/yes.
    A kernel with no stdin (ipykernel raises StdinNotImplementedError, e.g. under nbclient) -> LocalError
    (oai_magics.local_errors) saying the call needs an answer and naming `--approve always|never|read-only`."""
    reader = builtins.input if prompt is _IMPORTED_INPUT else prompt
    print(f"{server}.{tool} wants to run with:\n{pretty(arguments)}")
    try:
        answer = reader(f"Run {server}.{tool}? [y/N] ")
    except (NotImplementedError, EOFError):  # StdinNotImplementedError is a NotImplementedError
        raise NeedsAnswer(f"the call {server}.{tool} needs an answer") from None
    return answer.strip().lower() in ("y", "yes")
