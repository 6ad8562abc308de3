"""Errors oai_magics raises itself (not a server's answer), on one base that knows how to be one line.

    LocalError                        a message, and a `hint`: what the user can do about it
    ├── TooManyGroups                 display.plots (also a ValueError)
    ├── RunTimeout                    assistants.base (also a TimeoutError)
    ├── Unsupported                   assistants.base (also a ValueError)
    ├── OutputsMismatch               assistants.base: tool outputs for other calls than the waiting ones
    ├── NotFound                      assistants.resolve (also a LookupError)
    ├── Stopped                       jobs.pacing: a job stopped by Ctrl-C
    │   └── OverBudget                jobs.budget: a request its job's --budget refused
    ├── EmbeddingJobError             embeddings.direct: some batches failed (the partial matrix kept)
    ├── SchemaError                   schema: a --schema that names no schema (also a ValueError)
    ├── UnreadableImage               assistants.image_fit: no image Pillow reads safely (also a ValueError)
    ├── JobNotReady                   jobs.batch_status: a Batch API job still running
    └── LineTooLarge                  jobs.batch_files: one request over a batch's limit (also a ValueError)

Each class keeps the built-in error it also is, so `except ValueError` and the like still catch it.
`line()` is the one rendering: the magics show it as a one-line UsageError, the form shows it in
its error line. The client's errors (what a server answered) live in `oai_magics.client.errors`.
This module imports nothing of ours, so every layer may raise these.
"""

from __future__ import annotations

__all__ = ["LocalError"]


class LocalError(Exception):
    """Something oai_magics itself refused or could not finish; `hint` says what to do about it."""

    hint: str = ""

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        """The message; without one, the first line of the class's docstring says what happened."""
        text = super().__str__()
        if text:
            return text
        doc = (type(self).__doc__ or type(self).__name__).strip()
        return doc.splitlines()[0]

    def line(self) -> str:
        """The error in one line: the message, then the hint when there is one."""
        message = str(self)
        if "\n" in message:  # a line break would end the one line a notebook shows
            message = " ".join(message.split())
        return f"{message}; {self.hint}" if self.hint else message
