"""ipywidgets forms; today the thread-run builder (`ThreadRunBuilder`).

Imported on first use (`%assistant form`, or `from oai_magics.widgets import ThreadRunBuilder`),
never at `%load_ext`: ipywidgets is a heavy import.
"""

from __future__ import annotations

from .builder import RunOutcome, ThreadRunBuilder

__all__ = ["ThreadRunBuilder", "RunOutcome"]
