"""Running the sandbox: in a background thread of this process (`start`), or as a program (`main`)."""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from .app import create_app
from .faults import DroppedConnection
from .batch_limits import BatchLimits
from .state import Settings

__all__ = ["Sandbox", "start", "main"]


class _HideInjectedDrops(logging.Filter):
    """A dropped connection is what a 'drop' fault asks for, not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


# One instance: adding it again on every start is then a no-op (loggers keep a filter once).
_HIDE_INJECTED_DROPS = _HideInjectedDrops()


def _bind(host: str, port: int) -> socket.socket:
    # Naming the protocol matters: asyncio turns Nagle's algorithm off only on sockets whose `proto`
    # is TCP, and without that every answer's body waited ~40 ms for the ACK of its headers.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _server(settings: Settings, log_level: str) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_HIDE_INJECTED_DROPS)
    config = uvicorn.Config(create_app(settings), log_level=log_level, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


@dataclass
class Sandbox:
    """A running sandbox: where it is, the key it accepts, and how to stop it."""

    base_url: str
    api_key: str = field(repr=False)  # a local, throwaway key, yet a key: never in a repr
    data_dir: Path
    _server: Any = field(repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _tmp: Any = field(default=None, repr=False)
    settings: Settings | None = field(default=None, repr=False)

    # What a running sandbox can change: the handlers read these on every request.
    LIVE_SETTINGS = ("token_delay", "run_delay", "job_delay", "run_expiry")

    def configure(self, **changes: float) -> None:
        """Change how the running sandbox paces its answers; the next request sees the change."""
        unknown = set(changes) - set(self.LIVE_SETTINGS)
        if unknown or self.settings is None:
            raise ValueError(f"cannot change {', '.join(sorted(unknown)) or 'settings'} of a running sandbox")
        for name, value in changes.items():
            setattr(self.settings, name, float(value))

    @property
    def url(self) -> str:
        """The server's root (the control endpoints live under it)."""
        return self.base_url[: -len("/v1")]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, then remove a temporary data directory.

        The folder is removed only once the server thread has ended (it may still be writing
        there); if the thread outlives `timeout`, even after a forced exit, the folder stays and a
        later `stop()` tries again.
        """
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                self._server.force_exit = True  # stop waiting for open connections
                self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                logging.getLogger("oai_magics.sandbox").warning(
                    "the sandbox thread has not stopped yet; its data folder %s is kept", self.data_dir)
                return
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(host: str = "127.0.0.1", port: int = 0, data_dir: str | Path | None = None, api_key: str | None = None,
          token_delay: float = 0.0, run_delay: float = 0.0, job_delay: float = 1.0, run_expiry: float = 600.0,
          batch_window: float = 24 * 3600.0, batch_limits: BatchLimits | None = None,
          log_level: str = "warning") -> Sandbox:
    """Start a sandbox in a background thread; returns once it accepts connections.

    With no `api_key` any bearer token is accepted and `.api_key` is a fresh random one to use.
    `batch_limits` are what one batch may hold (by default the API's).
    """
    tmp = tempfile.TemporaryDirectory(prefix="oai-sandbox-") if data_dir is None else None
    folder = Path(tmp.name if tmp else data_dir)  # type: ignore[arg-type]
    settings = Settings(data_dir=folder, api_key=api_key, token_delay=token_delay, run_delay=run_delay,
                        job_delay=job_delay, run_expiry=run_expiry, batch_window=batch_window,
                        batch_limits=batch_limits or BatchLimits())
    server: uvicorn.Server | None = None
    sock: socket.socket | None = None
    thread: threading.Thread | None = None
    try:
        server = _server(settings, log_level)
        sock = _bind(host, port)
        ready = threading.Event()
        thread = threading.Thread(target=_serve, args=(server, sock, ready), name="oai-magics-sandbox", daemon=True)
        thread.start()
        if not ready.wait(timeout=30) or not server.started:
            raise RuntimeError("the sandbox did not start; see the log above")
    except BaseException:
        _abandon(server, sock, thread, tmp)
        raise
    assert sock is not None and thread is not None
    bound = sock.getsockname()
    display_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return Sandbox(base_url=f"http://{display_host}:{bound[1]}/v1", api_key=api_key or f"sk-sandbox-{secrets.token_hex(8)}",
                   data_dir=folder, _server=server, _thread=thread, _tmp=tmp, settings=settings)


def _abandon(server: uvicorn.Server | None, sock: socket.socket | None, thread: threading.Thread | None, tmp: Any) -> None:
    """Undo a start that failed: stop the thread, close the socket and the store, remove a temporary folder."""
    if server is not None:
        server.should_exit = True
    if thread is not None:
        thread.join(timeout=10)
    if sock is not None:
        sock.close()
    if server is not None:
        # A server that never started never ran its shutdown, which closes the store.
        server.config.app.state.sandbox.store.close()
    if tmp is not None and (thread is None or not thread.is_alive()):
        tmp.cleanup()


def _serve(server: uvicorn.Server, sock: socket.socket, ready: threading.Event) -> None:
    import asyncio

    async def run() -> None:
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.005)
        ready.set()
        await serving

    try:
        asyncio.run(run())
    except SystemExit:
        pass  # uvicorn exits this way when the application fails to start; start() reports it
    finally:
        ready.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oai_magics.sandbox",
                                     description="An OpenAI-compatible server on loopback, for demos and tests.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port; the URL is printed)")
    parser.add_argument("--data-dir", help="where state is kept (default: a temporary directory)")
    parser.add_argument("--api-key", help="accept only this key (default: any bearer token)")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between streamed chunks")
    parser.add_argument("--run-delay", type=float, default=0.5, help="seconds a run spends queued and in progress")
    parser.add_argument("--job-delay", type=float, default=2.0, help="seconds a fine-tune spends pending and running")
    parser.add_argument("--batch-window", type=float, default=24 * 3600.0,
                        help="seconds a batch may take before it expires (default: the API's 24 hours)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="oai-sandbox-") if args.data_dir is None else None
    settings = Settings(data_dir=Path(tmp.name if tmp else args.data_dir), api_key=args.api_key,
                        token_delay=args.token_delay, run_delay=args.run_delay, job_delay=args.job_delay,
                        batch_window=args.batch_window)
    server = _server(settings, args.log_level)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        _abandon(server, None, None, tmp)
        return 1
    host, port = sock.getsockname()[:2]
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets=sockets)
        print(f"http://{'[' + host + ']' if ':' in host else host}:{port}/v1", flush=True)

    server.startup = startup  # type: ignore[method-assign]
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run(sockets=[sock])
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0
