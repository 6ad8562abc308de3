"""Where the thread-run builder gets what it works with: its assistants back end, the Python
functions tool calls may run, and the notebook's namespace (where more functions and tool specs are
found by name)."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Union

from ..assistants import Backend

__all__ = ["Functions", "backend_for_form", "function_table", "tool_names", "user_namespace"]

Functions = Union[Iterable[Callable[..., Any]], Mapping[str, Callable[..., Any]]]


def function_table(given: Functions | None) -> dict[str, Callable[..., Any]]:
    """The functions given (a list, or a dict by name) by the names tool calls use."""
    if given is None:
        return {}
    if isinstance(given, Mapping):
        return dict(given)
    return {function.__name__: function for function in given}


def tool_names(text: str) -> list[str]:
    """The names typed in a Tools field, separated by commas or semicolons."""
    return [name.strip() for name in text.replace(";", ",").split(",") if name.strip()]


def backend_for_form(client: Any, api: str | None) -> Backend:
    """The back end `%assistant` would choose: `api`, else what the server said when asked (once)."""
    from ..assistants import choose_backend

    if client is None:
        from ..client import Client

        client = Client()
    return choose_backend(client, api)


def user_namespace(shell: Any) -> Mapping[str, Any]:
    """The variables of `shell`'s notebook (by default the running one's); none outside IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return {}
        shell = get_ipython()
    return shell.user_ns if shell is not None else {}
