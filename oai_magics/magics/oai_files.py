"""`%oai files`: list, upload, show, download and delete files on the server.

A downloaded file is named by the server (`filename`), and a name that comes from a server never
chooses a folder: only its last part is kept, cleaned for every platform, inside the working
folder (or the folder given with `--to`), and an existing file is never overwritten (a ` (1)`,
` (2)` ... suffix is added; the file is created exclusively, so a race cannot overwrite either).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any

from IPython.core.error import UsageError

from .arguments import an_id, argument, magic_arguments
from .common import listing, local_path
from .oai import ROUTER, OAIMagics

__all__ = ["FILES", "safe_name", "create_new"]

FILES = ROUTER.group("files", "Files on the server: list, upload, show, download, delete.", default="list")


@FILES.command("list")
@magic_arguments(name="oai files list")
@argument("--purpose", help="only files with this purpose")
def list_files(magics: OAIMagics, args: Any) -> Any:
    """The files on the server, as a DataFrame."""
    params = {"purpose": args.purpose} if args.purpose else {}
    return listing(magics.session.client.files.list(**params).auto_paging_iter())


@FILES.command("upload")
@magic_arguments(name="oai files upload")
@argument("--purpose", help="assistants (the default, said when used), fine-tune, batch, vision or user_data")
@argument("path", help="the file to upload")
def upload(magics: OAIMagics, args: Any) -> Any:
    """Upload a file; its file object as a DataFrame row."""
    if args.purpose is None:
        print("purpose: assistants (the default; choose another with --purpose fine-tune, batch, vision or user_data)")
    purpose = args.purpose or "assistants"
    return listing([magics.session.client.files.create(local_path(args.path), purpose=purpose)])


@FILES.command("show")
@magic_arguments(name="oai files show")
@argument("file_id", type=an_id, help="the file's id")
def show(magics: OAIMagics, args: Any) -> Any:
    """One file's details, as a DataFrame row."""
    return listing([magics.session.client.files.retrieve(args.file_id)])


@FILES.command("delete")
@magic_arguments(name="oai files delete")
@argument("file_id", type=an_id, help="the file's id")
def delete(magics: OAIMagics, args: Any) -> None:
    """Delete a file on the server."""
    magics.session.client.files.delete(args.file_id)
    print(f"deleted {args.file_id}")


@FILES.command("download")
@magic_arguments(name="oai files download")
@argument("--to", metavar="PATH", help="a folder to write into, or a new file's path (default: the working folder)")
@argument("file_id", type=an_id, help="the file's id")
def download(magics: OAIMagics, args: Any) -> None:
    """Write a file's content here, under its own name made safe, never overwriting."""
    api = magics.session.client.files
    chosen = local_path(args.to) if args.to else None
    if chosen is not None and not chosen.is_dir() and not args.to.endswith(("/", os.sep)):
        content = api.content(args.file_id)
        handle, target = _create_exactly(chosen), chosen  # the user named the file
    else:
        name = safe_name(api.retrieve(args.file_id).get("filename"), fallback=args.file_id)
        content = api.content(args.file_id)
        folder = chosen or Path.cwd()
        folder.mkdir(parents=True, exist_ok=True)
        handle, target = create_new(folder, name)
    try:
        with handle:
            handle.write(content)
    except BaseException:
        target.unlink(missing_ok=True)  # no truncated file left behind (a full disk, say)
        raise
    print(f"wrote {target} ({target.stat().st_size} bytes)")


def safe_name(name: str | None, fallback: str) -> str:
    """A server-given file name fit to create in a folder: its last part, cleaned for every platform."""
    from pathvalidate import sanitize_filename

    last = re.split(r"[\\/]", name or "")[-1]
    cleaned = sanitize_filename(last, platform="universal").lstrip(". ")
    return cleaned or sanitize_filename(fallback, platform="universal").lstrip(". ") or "download"


def create_new(folder: Path, name: str) -> tuple[IO[bytes], Path]:
    """A new file `name` in `folder`, opened for writing; `name (1)`, `name (2)` ... when it exists."""
    stem, dot, suffix = name.partition(".")
    for attempt in range(10_000):
        candidate = folder / (name if attempt == 0 else f"{stem} ({attempt}){dot}{suffix}")
        try:
            return open(candidate, "xb"), candidate
        except FileExistsError:
            continue
    raise UsageError(f"{folder / name} and 10,000 numbered copies exist; choose a name with --to")


def _create_exactly(path: Path) -> IO[bytes]:
    try:
        return open(path, "xb")
    except FileExistsError:
        raise UsageError(f"{path} exists: choose another name with --to (nothing was overwritten)") from None
