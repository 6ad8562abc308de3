"""`%oai record` and `%oai replay`: a notebook's requests written to a file, and answered from it later
with no network and no key (a demo, Binder, a notebook re-run without paying).

`%oai record PATH [--timing]` appends every request and its answer to PATH (JSON lines; see
`client.tape`); `%oai replay PATH [--speed recorded|full]` answers from it. `off` stops either. A
relative PATH is taken from the kernel's working folder, which Jupyter (and nbclient run with the
notebook's folder as its path) makes the notebook's own: `%oai replay 01-quickstart.replay.jsonl` in
a notebook's first cell finds the recording beside it. The mode lives on the session (`session.tape`),
which builds every client with its transport, the clients of jobs included.

Each mode has a folder of its own (`data_dir`, removed with it) for `%embed`'s cache and the Batch API
jobs (`embed.store_file`), empty at the start: a text in the user's cache would send no request, so
none would be recorded and a replay elsewhere would fail; and a replay adds no vectors to the user's
cache, no job to their list, and starts no sandbox for the sandbox profile's cache.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from IPython.core.error import UsageError

from .arguments import argument, magic_arguments
from .oai_table import ROUTER

__all__ = ["Recording", "Replaying", "replay_line"]

OFF = "off"


@dataclass
class _Mode:
    """What recording and replaying share: the file, and a folder of their own (see the module's
    docstring), removed with the mode."""

    path: Path
    folder: tempfile.TemporaryDirectory = field(init=False)
    prefix: ClassVar[str]

    def __post_init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix=self.prefix)

    @property
    def data_dir(self) -> Path:
        return Path(self.folder.name)


@dataclass
class Recording(_Mode):
    """`%oai record PATH`: clients send as usual and write each exchange to `path`."""

    timing: bool
    replaying = False
    prefix = "oai-record-"
    writer: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from ..client.recording import TapeWriter

        self.writer = TapeWriter(self.path, self.timing)  # first: a file that cannot be written makes no folder
        super().__post_init__()

    def transport(self, max_connections: int) -> Any:
        from ..client.recording import RecordingTransport

        return RecordingTransport(self.writer, max_connections)


@dataclass
class Replaying(_Mode):
    """`%oai replay PATH`: clients answer from the recording at `path` and send nothing."""

    speed: str
    replaying = True
    prefix = "oai-replay-"
    tape: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from ..client.tape import Tape

        self.tape = Tape.load(self.path)
        super().__post_init__()

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
        print(f"recording stopped: {_exchanges(session.tape.writer.written)} written to {_shown(session.tape.path)}")
        session.use_tape(None)
        return
    if isinstance(session.tape, Replaying):
        raise UsageError(f"%oai record: replaying from {session.tape.path}; %oai replay off first")
    path = Path(args.path).expanduser().absolute()
    earlier = session.tape if isinstance(session.tape, Recording) else None
    if earlier is not None and earlier.path == path and earlier.timing == args.timing:
        print(f"already {describe(earlier)}")  # a cell run twice: one recording, not two in a row
        return
    try:
        mode = Recording(path, args.timing)
    except OSError as exc:
        raise UsageError(f"%oai record: cannot write {args.path}: {exc.strerror or exc}") from None
    stopped = (f"recording into {_shown(earlier.path)} stopped ({_exchanges(earlier.writer.written)} written); "
               if earlier is not None else "")
    session.use_tape(mode)
    print(f"{stopped}recording every request and its answer into {args.path} (appended; no key or header is written)"
          f"{', with timing' if args.timing else ''}; %oai record off stops")


@ROUTER.command("replay")
@magic_arguments(name="oai replay")
@argument("path", nargs="?", help="a file written by %%oai record, or 'off' to send requests again")
@argument("--speed", choices=["recorded", "full"], default="recorded",
          help="streamed replies arrive at their recorded pace (default), or at once with no wait between "
               "requests (a retry's back-off, a run's polls)")
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
    if isinstance(session.tape, Recording):  # ended without a word, the next `record off` found nothing on
        raise UsageError(f"%oai replay: recording into {session.tape.path}; %oai record off first")
    path = Path(path_text).expanduser().absolute()
    if path.is_dir():
        raise UsageError(f"%oai replay: {path_text} is a folder, not a recording")
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
        return f"recording into {_shown(mode.path)} ({_exchanges(mode.writer.written)} so far)"
    if isinstance(mode, Replaying):
        return f"replaying from {_shown(mode.path)} at {mode.speed} speed"
    return "neither recording nor replaying: requests go to the server"


def _shown(path: Path) -> Path:
    """`path` from the kernel's folder (the notebook's) when it lies within: a notebook's output is
    shared with it, and need not name the folders of the machine it ran on."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _exchanges(count: int) -> str:
    return "1 exchange" if count == 1 else f"{count} exchanges"
