"""The table of `%assistant` subcommands and what their handlers share.

`ROUTER` is filled by the handler modules (`assistant_commands`, `assistant_runs`), which import
it from here; `assistant` (the magic) imports those modules at its top, so the table is full
before the first line is routed, and no handler module imports another or the magic.
"""

from __future__ import annotations

from typing import Any, Callable

from IPython.core.error import UsageError

from ..assistants.names import BACKENDS as API_CHOICES
from .arguments import argument
from .common import publish, read_variable
from .router import Router

__all__ = ["ROUTER", "API_CHOICES", "api_option", "records_frame", "show_frame", "tool_specs", "tool_names",
           "latest_thread"]

ROUTER = Router("assistant")
BUILT_INS = ("code_interpreter", "file_search", "retrieval")


def api_option(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The `--api` flag every subcommand takes (its own parser, so `--help` lists it)."""
    return argument("--api", choices=API_CHOICES, help="which back end: responses, assistants or chat "
                    "(default: the profile's setting, else found by asking the server once)")(handler)


def latest_thread(magics: Any) -> str:
    """The thread of this session's latest run: what `runs`, `steps` and `messages` show when given none."""
    if magics.last_run is None:
        raise UsageError("No run yet in this session: name a thread (%assistant threads lists them).")
    return magics.last_run[0]


def records_frame(records: list, drop: tuple[str, ...] = ("raw",)) -> Any:
    """Records as a DataFrame with datetimes (the `raw` server objects left out)."""
    from ..frames import listing_frame

    return listing_frame([{k: v for k, v in r.items() if k not in drop} for r in records])


def show_frame(magics: Any, frame: Any, output: str | None) -> Any:
    """A table is returned so IPython shows it (and sets `_`); `-o` also stores it."""
    if output:
        publish(magics.shell, frame, output)
    return frame


def tool_specs(magics: Any, names: str | None) -> tuple[list[dict], set[str]]:
    """`--tools f,g,code_interpreter,spec`: Python functions by name, built-ins, or variables holding
    JSON tool specs (a dict or a list of dicts). Returns the specs and the Python functions named."""
    from ..tools import chat_tool

    specs: list[dict] = []
    functions: set[str] = set()
    for name in filter(None, (n.strip() for n in (names or "").split(","))):
        if name in BUILT_INS:
            specs.append({"type": name})
            continue
        value = read_variable(magics.shell, name)
        if callable(value):
            specs.append(chat_tool(value, name=name))  # named as the notebook calls it
            functions.add(name)
        elif isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            specs.extend(_spec(v) for v in (value if isinstance(value, list) else [value]))
        else:
            raise UsageError(f"--tools: {name!r} is neither a function nor a tool spec (a dict or a list of dicts)")
    return specs, functions


def _spec(spec: dict) -> dict:
    """A JSON tool spec in the nested shape records keep: functions in either shape, built-ins as given."""
    from ..tools import chat_tool

    if spec.get("type") != "function":
        return spec
    try:
        return chat_tool(spec)
    except ValueError as exc:
        raise UsageError(f"--tools: {exc}") from None


def tool_names(tools: list[dict]) -> str:
    return ", ".join((t.get("function") or {}).get("name") or (f"mcp:{t['server_label']}" if t.get("type") == "mcp" else "")
                     or t.get("type", "?") for t in tools)
