"""The hub: local MCP servers kept connected on one background thread with its own event loop.

The `mcp` SDK is async (anyio) and an IPython kernel already runs an asyncio loop of its own, so
the sessions live on a loop of their own in a daemon thread. Each server is one long-lived task
that enters its transport and `ClientSession` and holds them until asked to stop (an anyio
context must be left by the task that entered it). The notebook's thread submits calls with
`asyncio.run_coroutine_threadsafe` and waits with the server's timeout, so a server that hangs
costs at most that long, Ctrl-C stops the wait, and a server that dies is one line with the last
lines it wrote to stderr.

Servers start on first use (listing their tools or calling one) and stop on `remove`, on `close`
and when the interpreter exits.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import importlib
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, AsyncIterator, Coroutine

from . import sdk_log
from .servers import McpError, ServerSpec, resolved_headers

__all__ = ["McpHub", "ToolInfo", "CallOutcome"]

STDERR_LINES = 3  # lines of a failed server's stderr quoted in its error
START_SECONDS = 30.0  # the least a start may take (an interpreter and its imports), whatever a call's timeout


@dataclass(frozen=True)
class ToolInfo:
    """A tool as the server lists it."""

    server: str
    name: str
    description: str
    input_schema: dict
    read_only: bool


@dataclass(frozen=True)
class CallOutcome:
    """What a call gave: its text for the model, whether the tool reported an error, how long it took."""

    text: str
    is_error: bool
    seconds: float


@dataclass
class _Connection:
    spec: ServerSpec
    stop: asyncio.Event
    errlog: IO[str] | None = None
    session: Any = None
    tools: list[ToolInfo] = field(default_factory=list)
    task: "asyncio.Task[None] | None" = None
    stderr_mark: int = 0  # where the current call's stderr begins (what it wrote is what is quoted)
    notes: Any = field(default_factory=sdk_log.notes_of)  # what the SDK logged about it
    read: Any = None  # the transport's stream of messages from the server


def _stderr_tail(errlog: IO[str] | None, since: int = 0) -> str:
    """The last lines a stdio server wrote to stderr after offset `since`, joined into one line."""
    if errlog is None or errlog.closed:
        return ""
    errlog.seek(since)
    lines = [line.strip() for line in errlog.read().splitlines() if line.strip()]
    errlog.seek(0, 2)
    return " | ".join(lines[-STDERR_LINES:])


class McpHub:
    """The MCP servers of one session, by name."""

    def __init__(self) -> None:
        self.specs: dict[str, ServerSpec] = {}
        self._live: dict[str, _Connection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    # -- the table of servers ---------------------------------------------------------------------
    def add(self, spec: ServerSpec) -> None:
        """Record a server (replacing one of the same name, which is stopped); nothing starts yet."""
        self.remove(spec.name)
        self.specs[spec.name] = spec

    def remove(self, name: str) -> bool:
        """Forget a server and stop its process or connection; whether it was known."""
        known = self.specs.pop(name, None) is not None
        connection = self._live.pop(name, None)
        if connection is not None:
            self._stop(connection)
        return known

    def spec(self, name: str) -> ServerSpec:
        if name not in self.specs:
            known = ", ".join(sorted(self.specs)) or "none yet (%oai mcp add NAME -- COMMAND ...)"
            raise McpError(f"no MCP server named {name!r}; known: {known}")
        return self.specs[name]

    def close(self) -> None:
        """Stop every server and the loop's thread."""
        for name in list(self._live):
            self._stop(self._live.pop(name))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
        atexit.unregister(self.close)

    # -- using a server -----------------------------------------------------------------------------
    def tools(self, name: str) -> list[ToolInfo]:
        """The server's tools (it is started first if it is not running)."""
        return self._connected(name).tools

    def call(self, name: str, tool: str, arguments: dict) -> CallOutcome:
        """Call a tool and wait for it, at most the server's timeout."""
        connection = self._connected(name)
        started = time.monotonic()
        if connection.errlog is not None:
            connection.stderr_mark = connection.errlog.seek(0, 2)
        result = self._wait(connection.session.call_tool(tool, arguments), connection, f"calling {tool}")
        from .results import result_text

        text, is_error = result_text(result)
        return CallOutcome(text, is_error, time.monotonic() - started)

    # -- the loop and the connections ---------------------------------------------------------------
    def _loop_now(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                sdk_log.install()
                loop = asyncio.new_event_loop()
                threading.Thread(target=_run, args=(loop,), name="oai-magics-mcp", daemon=True).start()
                self._loop = loop
            return self._loop

    def _connected(self, name: str) -> _Connection:
        spec = self.spec(name)
        live = self._live.pop(name, None)
        if live is not None and live.task is not None and not live.task.done():
            if not _ended(live):
                self._live[name] = live
                return live
            self._stop(live)  # its process ended while it was idle: started afresh, nothing was sent to it
        connection = _Connection(spec, stop=asyncio.Event(),
                                 errlog=tempfile.TemporaryFile("w+") if spec.command else None)
        loop = self._loop_now()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        asyncio.run_coroutine_threadsafe(self._start(connection, ready), loop)
        limit = max(spec.timeout, START_SECONDS)
        try:
            ready.result(timeout=limit)
        except KeyboardInterrupt:
            self._stop(connection)
            raise
        except Exception as exc:
            timed_out = isinstance(exc, concurrent.futures.TimeoutError)
            problem = self._problem(connection, f"did not start within {limit:g} s" if timed_out
                                    else f"could not start ({_reason(exc)})")
            self._stop(connection)
            raise McpError(problem) from None
        self._live[name] = connection
        _preload_validator()
        return connection

    async def _start(self, connection: _Connection, ready: concurrent.futures.Future[None]) -> None:
        connection.task = asyncio.current_task()
        sdk_log.NOTES.set(connection.notes)  # this task's and its transport's
        try:
            await self._serve(connection, ready)
        except BaseException as exc:  # noqa: B036 - the waiting thread hears of every end, then it is re-raised
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else McpError("stopped while starting"))
            if not isinstance(exc, Exception):
                raise

    async def _serve(self, connection: _Connection, ready: concurrent.futures.Future[None]) -> None:
        from mcp import ClientSession

        async with self._transport(connection) as (read, write), ClientSession(read, write) as session:
            connection.read = read
            await session.initialize()
            connection.session = session
            connection.tools = await _list_tools(session, connection.spec.name)
            ready.set_result(None)
            await connection.stop.wait()

    @contextlib.asynccontextmanager
    async def _transport(self, connection: _Connection) -> AsyncIterator[tuple[Any, Any]]:
        spec = connection.spec
        if spec.command:
            from mcp import StdioServerParameters, stdio_client

            params = StdioServerParameters(command=spec.command[0], args=list(spec.command[1:]))
            async with stdio_client(params, errlog=connection.errlog) as streams:
                yield streams
            return
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        http = create_mcp_http_client(headers=resolved_headers(spec.headers))
        http.event_hooks = {"response": [sdk_log.note_http_error]}
        async with http, streamable_http_client(spec.url, http_client=http) as streams:
            yield streams[0], streams[1]

    def _wait(self, work: Coroutine[Any, Any, Any], connection: _Connection, doing: str) -> Any:
        """Run `work` on the loop; wait at most the server's timeout; Ctrl-C stops waiting. A call that
        fails other than by timing out has lost its connection (the process died, the URL went away):
        it is stopped, and the next use starts the server afresh."""
        spec = connection.spec
        future = asyncio.run_coroutine_threadsafe(work, self._loop_now())
        try:
            return future.result(timeout=spec.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise McpError(f"MCP server {spec.name!r} did not answer within {spec.timeout:g} s ({doing})",
                           hint="raise it with %oai mcp add ... --timeout SECONDS") from None
        except KeyboardInterrupt:
            future.cancel()
            raise
        except Exception as exc:
            problem = self._problem(connection, f"failed while {doing} ({_reason(exc)})")
            if self._live.get(spec.name) is connection:
                del self._live[spec.name]
            self._stop(connection)
            raise McpError(problem) from None

    def _problem(self, connection: _Connection, what: str) -> str:
        """One line: which server, what went wrong, and the last lines it wrote to stderr."""
        line = f"MCP server {connection.spec.name!r} ({connection.spec.where}) {what}"
        tail = _stderr_tail(connection.errlog, connection.stderr_mark)
        line = f"{line}; it wrote: {tail}" if tail else line
        notes = [note for note in connection.notes if note not in line]  # the SDK's error may say it already
        return f"{line}; {' | '.join(notes)}" if notes else line

    def _stop(self, connection: _Connection) -> None:
        """Ask the server's task to leave its contexts (which stops the process) and wait for it; a
        server still starting (perhaps hung in its handshake) is cancelled instead."""
        loop = self._loop
        if loop is None:
            return

        async def halt() -> None:
            connection.stop.set()
            task = connection.task  # set by then: the start was scheduled on this loop before
            if task is None:
                return
            if connection.session is None:
                task.cancel()
            with contextlib.suppress(BaseException):
                await task

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(halt(), loop).result(timeout=10)
        if connection.errlog is not None:
            connection.errlog.close()


def _preload_validator() -> None:
    """The SDK checks each result against its tool's output schema with jsonschema, whose import takes
    about a second: begun in the background once a server is up, it overlaps the model's answer
    instead of delaying the first call."""
    if "jsonschema" not in sys.modules:
        threading.Thread(target=importlib.import_module, args=("jsonschema",), name="oai-magics-mcp-preload",
                         daemon=True).start()


def _ended(connection: _Connection) -> bool:
    """Whether the server's side of the connection has closed: a stdio transport closes its stream of
    messages when the process's stdout ends (the process exited or was killed)."""
    statistics = getattr(connection.read, "statistics", None)
    return statistics is not None and statistics().open_send_streams == 0


def _run(loop: asyncio.AbstractEventLoop) -> None:
    """The hub's thread: the loop runs until `close` stops it."""
    loop.run_forever()
    loop.close()


async def _list_tools(session: Any, server: str) -> list[ToolInfo]:
    """Every tool, page by page."""
    tools, cursor = [], None
    while True:
        from mcp.types import PaginatedRequestParams

        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        for tool in page.tools:
            hints = tool.annotations
            tools.append(ToolInfo(server, tool.name, tool.description or "", dict(tool.input_schema or {}),
                                  bool(hints and hints.read_only_hint)))
        cursor = page.next_cursor
        if not cursor:
            return tools


def _reason(exc: BaseException) -> str:
    """An exception in a few words; an anyio group is reported by its first inner error."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
