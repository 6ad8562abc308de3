"""Execute notebooks top to bottom against the embedded sandbox: `python -m oai_magics.demo notebooks/`.

Each notebook runs in a fresh kernel with no OPENAI_API_KEY (so `%oai use auto` picks the
sandbox; pass --real-api to keep the key), in the output folder (files a notebook writes land
there, not beside the source), its executed copy is written there too, and the exit status is 1
if any cell failed. Needs the `demo` extra (nbclient, nbformat, ipykernel).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["execute", "main"]


def execute(path: Path, timeout: int = 300, keep_key: bool = False, workdir: Path | None = None) -> Any:
    """Run one notebook in a fresh python3 kernel, in `workdir` (default: beside it); the
    executed notebook (an nbformat node)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    workdir = workdir or path.parent
    saved = os.environ.pop("OPENAI_API_KEY", None) if not keep_key else None
    try:
        NotebookClient(notebook, timeout=timeout, startup_timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        if saved is not None:
            os.environ["OPENAI_API_KEY"] = saved
    return notebook


def _first_line_of_error(error: BaseException) -> str:
    """nbclient's CellExecutionError carries the whole traceback; its last line names the error."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oai_magics.demo", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder of notebooks (*.ipynb, run in name order)")
    parser.add_argument("--out", type=Path, default=Path(".tmp/demo"), help="where executed copies go")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a cell may take")
    parser.add_argument("--real-api", action="store_true", help="keep OPENAI_API_KEY: run against the real API")
    args = parser.parse_args(argv)
    import nbformat

    books = sorted(p for p in args.folder.glob("*.ipynb") if not p.name.startswith("."))
    if not books:
        print(f"no notebooks in {args.folder}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in books:
        started = time.monotonic()
        try:
            executed = execute(path, args.timeout, keep_key=args.real_api, workdir=args.out)
        except Exception as error:  # one line per failed notebook, then go on with the others
            failed += 1
            print(f"FAILED {path.name}: {_first_line_of_error(error)}")
            continue
        nbformat.write(executed, args.out / path.name)
        outputs = sum(len(cell.get("outputs", [])) for cell in executed.cells)
        print(f"ok     {path.name}: {len(executed.cells)} cells, {outputs} outputs, {time.monotonic() - started:.1f} s")
    print(f"{len(books) - failed} of {len(books)} notebooks ran; executed copies in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
