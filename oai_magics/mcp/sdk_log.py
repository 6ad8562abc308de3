"""What the `mcp` SDK logs about a server, kept with that server to be quoted in its error.

The SDK logs a line on a stdio server's stdout that is no JSON-RPC message (a banner, a `print`
left in the server, a program that is no MCP server at all) with `logger.exception`, and a wrong
answer over HTTP (an HTML login page) as an error. With no logging configured, Python writes these
to stderr, and a notebook showed a traceback wall per line while the start waited. Here a handler
on the SDK's loggers keeps a short note of each on the connection whose task logged it (a context
variable set by that task), and the hub quotes the last ones in the server's one-line error.
The SDK answers an HTTP error status (a 401 for a missing token) with "Server returned an error
response" alone, so the status is noted here too.
"""

from __future__ import annotations

import collections
import contextvars
import logging

__all__ = ["NOTES", "notes_of", "install", "note_http_error"]

KEPT = 3  # notes kept per connection: the last ones say what went wrong
SHOWN = 80  # characters of a line the server printed

# The notes of the connection whose task (and the transport's tasks it starts) is running.
NOTES: contextvars.ContextVar[collections.deque[str]] = contextvars.ContextVar("oai_magics_mcp_notes")
_LOGGERS = ("mcp", "client")  # the SDK's client session logs as "client"


def notes_of() -> collections.deque[str]:
    """A fresh place for a connection's notes."""
    return collections.deque(maxlen=KEPT)


def _note(record: logging.LogRecord) -> str:
    """The record in a few words: the line the server printed when it is a parse failure."""
    message = record.getMessage()
    error = record.exc_info[1] if record.exc_info else None
    errors = getattr(error, "errors", None)
    if callable(errors):  # pydantic's ValidationError carries the line it could not read
        found = errors()
        if found and isinstance(found[0].get("input"), str):
            return f"not MCP: {found[0]['input'][:SHOWN]!r}"
    return message


class _Keeper(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        notes = NOTES.get(None)
        if notes is not None:
            notes.append(_note(record))
        elif not logging.getLogger().handlers and logging.lastResort is not None:
            # Not about a server of the hub (another library's "client" logger, say): written to stderr
            # as Python would have done had this handler not been there.
            logging.lastResort.handle(record)


def install() -> None:
    """Put the handler on the SDK's loggers once (with a handler there, Python no longer writes the
    records to stderr on its own; a logging set up by the user still receives them)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, _Keeper) for handler in logger.handlers):
            logger.addHandler(_Keeper(logging.WARNING))


async def note_http_error(response: object) -> None:
    """An HTTP client's response hook: an error status becomes a note (its status and reason only,
    never the URL, which may carry a token)."""
    status = getattr(response, "status_code", 0)
    notes = NOTES.get(None)
    if status >= 400 and notes is not None:
        notes.append(f"HTTP {status} {getattr(response, 'reason_phrase', '')}".rstrip())
