"""The repository stands alone: a guard against reading anything beside it.

A clone with nothing next to it must pass the tests, so no code under test may read a folder that
happens to sit beside the checkout (a developer's reference shelf, say). `install()` adds an audit
hook that refuses, in this process, every open or listing of a path that lies in the checkout's
parent folder but outside the checkout; the interpreter, the temporary folder and the user's own
dot-folders stay readable wherever they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
_WATCHED_EVENTS = {"open", "os.listdir", "os.scandir"}


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def outside_reads(parent: Path = ROOT.parent) -> Callable[[str], bool]:
    """A predicate: does reading `path` look beside the checkout?"""
    home = os.path.expanduser("~")
    allowed = [str(ROOT), sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.realpath(tempfile.gettempdir())]

    def forbidden(path: str) -> bool:
        path = os.path.abspath(path)
        if not _inside(path, str(parent)) or any(_inside(path, folder) for folder in allowed):
            return False
        if _inside(path, home):  # ~/.ipython, ~/.cache...: the user's settings, when the checkout is in home
            first = Path(path).relative_to(home).parts[:1]
            return not (first and first[0].startswith("."))
        return True

    return forbidden


def install() -> bool:
    """Refuse reads beside the checkout in this process (not for a checkout directly under `/`,
    whose neighbours are the system's own folders)."""
    parent = ROOT.parent
    if parent == Path(parent.anchor):
        return False
    forbidden = outside_reads(parent)

    def hook(event: str, args: tuple) -> None:
        if event not in _WATCHED_EVENTS or not args:
            return
        target = args[0]
        if isinstance(target, int) or target is None:
            return
        path = os.fsdecode(target) if isinstance(target, (str, bytes, os.PathLike)) else None
        if path and forbidden(path):
            raise PermissionError(f"the tests read {path}, outside the repository: keep what they need in tests/data/")

    sys.addaudithook(hook)
    return True


def tracked_files() -> list[Path]:
    """The files of the checkout: git's tracked and untracked-but-not-ignored ones, or every file of an
    unpacked archive (but the virtual environment and scratch folder)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an unpacked archive): every file counts
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".tmp" not in p.parts]
    return [ROOT / name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]
