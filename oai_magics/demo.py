"""Execute the demo notebooks top to bottom: `python -m oai_magics.demo notebooks/ --out build/demo`.

Each notebook runs in a fresh kernel, in the output folder (files a notebook writes land there, not
beside the source); the folders beside the notebooks (the MCP servers they run) are copied there first. Its executed copy and an HTML rendering of it are written there too, one line
per notebook says how it went, and the exit status is 1 if any notebook failed.

The notebooks pick their server with `%oai use auto`: the OpenAI API when OPENAI_API_KEY is set,
else the embedded sandbox. A notebook whose first code cell names a recording (`%oai replay
01-quickstart.replay.jsonl`, a file beside it) runs from that recording, the recording copied into the
output folder with it: real answers, no sandbox, no key, no network. `--record NOTEBOOK` makes that
recording anew: the notebook runs beside itself with its `%oai replay` line read as `%oai record
--timing`, against the OpenAI API when OPENAI_API_KEY is set, else the sandbox. `--backend sandbox` forces the sandbox (the key is then hidden from the
kernels); `--backend openai` insists on the key. Needs the `demo` extra (nbclient, nbformat,
nbconvert, ipykernel).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["execute", "render_html", "copy_folders", "recording_of", "record", "main"]

BACKENDS = ("auto", "sandbox", "openai")
# The line of a notebook's first code cell that names its recording.
REPLAY_LINE = re.compile(r"^%oai replay +(?P<path>\S+)(?P<options>[^\n]*)$", re.MULTILINE)


def _first_code(notebook: Any) -> Any:
    return next((cell for cell in notebook.cells if cell.cell_type == "code"), None)


def recording_of(path: Path) -> Path | None:
    """The recording a notebook replays from (named in its first code cell), beside it; None without one."""
    import nbformat

    cell = _first_code(nbformat.read(path, as_version=4))
    found = REPLAY_LINE.search(cell.source) if cell is not None else None
    return path.parent / found["path"] if found else None


def execute(path: Path, timeout: int = 300, keep_key: bool = False, workdir: Path | None = None) -> Any:
    """Run one notebook in a fresh python3 kernel, in `workdir` (default: beside it); the
    executed notebook (an nbformat node). Without `keep_key` the kernel never sees OPENAI_API_KEY."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    workdir = workdir or path.parent
    recording = recording_of(path)
    if recording is not None and recording.is_file() and workdir.resolve() != path.parent.resolve():
        shutil.copyfile(recording, workdir / recording.name)  # where the kernel looks for it
    saved = os.environ.pop("OPENAI_API_KEY", None) if not keep_key else None
    # The kernel talks over Unix sockets in a private folder: nothing listens on a TCP port.
    with tempfile.TemporaryDirectory(prefix="oai-kernel-") as sockets:
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
        try:
            NotebookClient(notebook, km=manager, timeout=timeout, startup_timeout=120,
                           resources={"metadata": {"path": str(workdir)}}).execute()
        finally:
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
            if saved is not None:
                os.environ["OPENAI_API_KEY"] = saved
    return notebook


def render_html(notebook: Any, target: Path) -> Path:
    """The executed notebook as a standalone HTML page (what a reader without Jupyter can open)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    target.write_text(body, encoding="utf-8")
    return target


def choose_backend(requested: str) -> tuple[str, bool]:
    """(what the notebooks will talk to, whether the kernels keep the key)."""
    has_key = bool(os.environ.get("OPENAI_API_KEY"))
    if requested == "openai" and not has_key:
        raise SystemExit("--backend openai needs OPENAI_API_KEY in the environment")
    if requested == "sandbox" or not has_key:
        return "the embedded sandbox (no key, no network)", False
    return "the OpenAI API (OPENAI_API_KEY is set; BACKEND=sandbox forces the sandbox)", True


def _first_line_of_error(error: BaseException) -> str:
    """nbclient's CellExecutionError carries the whole traceback; its last line names the error."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def run_one(path: Path, out: Path, timeout: int, keep_key: bool) -> bool:
    """Execute, save and render one notebook; print its line. True when it ran without an error."""
    import nbformat

    started = time.monotonic()
    try:
        executed = execute(path, timeout, keep_key=keep_key, workdir=out)
    except Exception as error:  # one line per failed notebook, then go on with the others
        print(f"{path.name:<28} failed  {time.monotonic() - started:5.1f} s  {_first_line_of_error(error)}", flush=True)
        return False
    nbformat.write(executed, out / path.name)
    render_html(executed, out / f"{path.stem}.html")
    cells = sum(cell.cell_type == "code" for cell in executed.cells)
    print(f"{path.name:<28} ok      {time.monotonic() - started:5.1f} s  {cells} code cells", flush=True)
    return True


def copy_folders(source: Path, target: Path) -> None:
    """The folders beside the notebooks, into the folder they run in, as the notebooks find them."""
    import shutil

    for folder in source.iterdir():
        if folder.is_dir() and not folder.name.startswith((".", "_")) and folder.resolve() != target.resolve():
            shutil.copytree(folder, target / folder.name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))


def record(path: Path, timeout: int = 300) -> Any:
    """Record a notebook's answers anew into the recording its first cell names (see the docstring);
    the notebook as executed while recording."""
    import nbformat

    recording = recording_of(path)
    if recording is None:
        raise SystemExit(f"{path.name} names no recording: its first code cell needs a line `%oai replay NAME`")
    keep_key = bool(os.environ.get("OPENAI_API_KEY"))
    recording.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="oai-record-") as scratch:
        notebook = nbformat.read(path, as_version=4)
        cell = _first_code(notebook)
        cell.source = REPLAY_LINE.sub(f"%oai record {recording.name} --timing", cell.source)
        recorder = Path(scratch) / path.name
        nbformat.write(notebook, recorder)
        # Run beside the notebook, so the recording lands there; the copy with its record line is the scratch one.
        try:
            return execute(recorder, timeout, keep_key=keep_key, workdir=path.parent)
        except Exception as error:  # nbclient's error carries the whole traceback: its last line says it
            raise SystemExit(f"{path.name}: a cell failed while recording, so {recording.name} is incomplete: "
                             f"{_first_line_of_error(error)}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oai_magics.demo", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder of notebooks (*.ipynb, run in name order), or one notebook with --record")
    parser.add_argument("--out", type=Path, default=Path("build/demo"), help="where executed copies and HTML go")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a cell may take")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="auto: the OpenAI API when OPENAI_API_KEY is set, else the sandbox")
    parser.add_argument("--record", action="store_true",
                        help="record the answers of the notebooks given (paths) into the recordings they name")
    args = parser.parse_args(argv)
    if args.record:
        books = [args.folder] if args.folder.suffix == ".ipynb" else sorted(args.folder.glob("*.ipynb"))
        for path in (book for book in books if recording_of(book) is not None):
            backend = "the OpenAI API" if os.environ.get("OPENAI_API_KEY") else "the embedded sandbox"
            record(path, args.timeout)
            print(f"{path.name}: recorded against {backend} into {recording_of(path)}", flush=True)
        return 0
    books = sorted(p for p in args.folder.glob("*.ipynb") if not p.name.startswith("."))
    if not books:
        print(f"no notebooks in {args.folder}", file=sys.stderr)
        return 1
    backend, keep_key = choose_backend(args.backend)
    print(f"Running {len(books)} notebooks against {backend}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    copy_folders(args.folder, args.out)
    failed = sum(not run_one(path, args.out, args.timeout, keep_key) for path in books)
    print(f"{len(books) - failed} of {len(books)} notebooks ran; executed copies and HTML pages in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
