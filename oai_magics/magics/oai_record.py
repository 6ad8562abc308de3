"""`%oai record` and `%oai replay`: a notebook's requests written to a file, and answered from it later
with no network and no key (a demo, Binder, a notebook re-run without paying).

`%oai record PATH [--timing]` appends every request and its answer to PATH (JSON lines; see
`client.tape`); `%oai replay PATH [--speed recorded|full]` answers from it. `off` stops either. A
relative PATH is taken from the kernel's working folder, which Jupyter (and nbclient run with the
notebook's folder as its path) makes the notebook's own: `%oai replay 01-quickstart.replay.jsonl` in
a notebook's first cell finds the recording beside it. The mode lives on the session (`session.tape`),
which builds every client with its transport, the clients of jobs included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from .arguments import argument, magic_arguments
from .oai_table import ROUTER

__all__ = ["Recording", "Replaying", "replay_line"]

OFF = "off"


@dataclass
class Recording:
    """`%oai record PATH`: clients send as usual and write each exchange to `path`."""

    path: Path
    timing: bool
    replaying = False
    writer: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from ..client.recording import TapeWriter

        self.writer = TapeWriter(self.path, self.timing)

    def transport(self, max_connections: int) -> Any:
        from ..client.recording import RecordingTransport

        return RecordingTransport(self.writer, max_connections)


@dataclass
class Replaying:
    """`%oai replay PATH`: clients answer from the recording at `path` and send nothing."""

    path: Path
    speed: str
    replaying = True
    tape: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from ..client.tape import Tape

        self.tape = Tape.load(self.path)

    def transport(self, max_connections: int) -> Any:
        from ..client.replay import ReplayTransport

        return ReplayTransport(self.tape, self.speed, max_connections)  # type: ignore[arg-type]


@ROUTER.command("record")
@magic_arguments(name="oai record")
@argument("path", nargs="?", help="the file to append to (JSON lines, e.g. notebook.replay.jsonl), or 'off'")
@argument("--timing", action="store_true", help="keep when each streamed event came, for replay at that pace")
def record(magics: Any, args: Any) -> None:
    """Write every request and its answer to a file, for `%oai replay` (no key or header is written)."""
    session = magics.session
    if not args.path:
        print(describe(session.tape))
        return
    if args.path == OFF:
        if not isinstance(session.tape, Recording):
            raise UsageError("%oai record off: nothing is being recorded")
        print(f"recording stopped: {_exchanges(session.tape.writer.written)} written to {session.tape.path}")
        session.use_tape(None)
        return
    path = Path(args.path).expanduser().absolute()
    try:
        mode = Recording(path, args.timing)
    except OSError as exc:
        raise UsageError(f"%oai record: cannot write {args.path}: {exc.strerror or exc}") from None
    session.use_tape(mode)
    print(f"recording every request and its answer into {args.path} (appended; no key or header is written)"
          f"{', with timing' if args.timing else ''}; %oai record off stops")


@ROUTER.command("replay")
@magic_arguments(name="oai replay")
@argument("path", nargs="?", help="a file written by %%oai record, or 'off' to send requests again")
@argument("--speed", choices=["recorded", "full"], default="recorded",
          help="streamed replies arrive at their recorded pace (default) or at once")
def replay(magics: Any, args: Any) -> None:
    """Answer every request from a recording: no network, no key; a request not in it is refused."""
    session = magics.session
    if not args.path:
        print(describe(session.tape))
        return
    if args.path == OFF:
        if not isinstance(session.tape, Replaying):
            raise UsageError("%oai replay off: nothing is being replayed")
        session.use_tape(None)
        print("replay off: requests go to the server again")
        return
    print(replay_line(session, args.path, args.speed))


def replay_line(session: Any, path_text: str, speed: str) -> str:
    """Start replaying `path_text`; the line that says so."""
    path = Path(path_text).expanduser().absolute()
    if not path.is_file():
        raise UsageError(f"%oai replay: no recording at {path_text}; make one with %oai record {path_text}")
    try:
        mode = Replaying(path, speed)
    except (OSError, ValueError) as exc:
        raise UsageError(f"%oai replay: {exc}") from None
    session.use_tape(mode)
    return (f"replaying {_exchanges(len(mode.tape))} from {path_text} at {speed} speed: no request leaves this "
            "machine and no key is needed; %oai replay off sends again")


def describe(mode: Any) -> str:
    if isinstance(mode, Recording):
        return f"recording into {mode.path} ({_exchanges(mode.writer.written)} so far)"
    if isinstance(mode, Replaying):
        return f"replaying from {mode.path} at {mode.speed} speed"
    return "neither recording nor replaying: requests go to the server"


def _exchanges(count: int) -> str:
    return "1 exchange" if count == 1 else f"{count} exchanges"
