"""Where a chat call comes from: the cell, that cell's run, and the call's place within the run.

Jupyter frontends (JupyterLab, Notebook 7, nbclient) send the cell's id in the metadata of each
execute request; the kernel keeps that request as the shell's parent message. Without an id (a
terminal, a console) each execution is its own cell, numbered by the execution count, so the
same prompt typed in two places is two questions, never a re-run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..chat_memory import Call

__all__ = ["CallCounter", "current_run"]


def _parent_message(shell: Any) -> dict:
    """The execute request being run, as the kernel received it ({} outside a kernel)."""
    kernel = getattr(shell, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    if get_parent is None:
        return {}
    try:
        parent = get_parent("shell")
    except Exception:  # a kernel without parent tracking behaves like a terminal
        return {}
    return parent if isinstance(parent, dict) else {}


def current_run(shell: Any) -> tuple[str, str]:
    """(cell, run) of the code running now.

    The cell is Jupyter's cell id when the frontend sent one, else the execution count; the run
    is the execute request's message id (unique per run) when there is one, else the count. Code
    run by another message (a widget's callback) is keyed by that message alone.
    """
    count = str(getattr(shell, "execution_count", 0))
    parent = _parent_message(shell)
    header = parent.get("header") or {}
    msg_id = header.get("msg_id")
    if msg_id and header.get("msg_type", "execute_request") != "execute_request":
        # A widget callback (a comm message): no cell, and the execution count is the last cell's.
        # Each one is its own source, so clicks add to the conversation instead of replacing each other.
        return f"msg:{msg_id}", msg_id
    cell_id = (parent.get("metadata") or {}).get("cellId")
    return (f"cell:{cell_id}" if cell_id else f"in:{count}"), (msg_id or f"in:{count}")


class CallCounter:
    """Numbers the calls of each cell run: 0, 1, 2, ... starting again when a new run begins."""

    def __init__(self) -> None:
        self._run: tuple[str, str] | None = None
        self._next = 0

    def next(self, shell: Any) -> "Call":
        from ..chat_memory import Call  # the client loads on first use, not at %load_ext

        run = current_run(shell)
        if run != self._run:
            self._run, self._next = run, 0
        call = Call(cell=run[0], run=run[1], position=self._next)
        self._next += 1
        return call
