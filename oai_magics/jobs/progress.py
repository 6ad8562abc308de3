"""Progress bars for long jobs that are gone once the job ends: a bar shows progress, it is no record.

In a terminal the bar's line is wiped (`leave=False`). In a notebook closing the widget is not
enough: the saved notebook (and its HTML) would keep the output, with the bar's text as it was
first drawn. So there the bar is shown through a display handle whose output is emptied at the end.

Imported on first use only (tqdm.notebook brings ipywidgets along).
"""

from __future__ import annotations

from typing import Any

from IPython.display import display
from tqdm.auto import tqdm
from tqdm.notebook import tqdm as notebook_tqdm

__all__ = ["progress_bar"]


def progress_bar(total: int, desc: str, unit: str, initial: int = 0) -> Any:
    """A tqdm bar (rate and time left from the rate so far) that removes itself on close()."""
    bar = NotebookBar if issubclass(tqdm, notebook_tqdm) else tqdm  # tqdm.auto picks the widget in a notebook
    return bar(total=total, initial=initial, desc=desc, unit=unit, leave=False)


class NotebookBar(notebook_tqdm):  # type: ignore[misc]
    """The notebook bar in an output of its own, emptied when the bar closes."""

    def __init__(self, **options: Any) -> None:
        super().__init__(display=False, **options)
        self._handle = None if self.disable else display(self.container, display_id=True)

    def close(self) -> None:
        super().close()
        if getattr(self, "_handle", None) is not None:
            self._handle.update({"text/plain": ""}, raw=True)
            self._handle = None
