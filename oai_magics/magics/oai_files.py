"""`%oai files`: list, upload, show, download and delete files on the server.

A downloaded file is named by the server (`filename`), and a name that comes from a server never
chooses a folder: only its last part is kept, cleaned for every platform and of characters that
do not show (controls, bidi overrides, zero-width marks), inside the working folder (or the folder
given with `--to`), and an existing file is never overwritten (a ` (1)`, ` (2)` ... suffix is added,
the name shortened to stay within the file system's limit; the file is created exclusively, so a
race cannot overwrite either).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path, PurePath
from typing import IO, Any

from IPython.core.error import UsageError

from .arguments import an_id, argument, magic_arguments
from .common import listing, local_path
from .oai_table import ROUTER

__all__ = ["FILES", "safe_name", "create_new"]

FILES = ROUTER.group("files", "Files on the server: list, upload, show, download, delete.", default="list")


@FILES.command("list", listing=True)
@magic_arguments(name="oai files list")
@argument("--purpose", help="only files with this purpose")
def list_files(magics: Any, args: Any) -> Any:
    """The files on the server, as a DataFrame."""
    params = {"purpose": args.purpose} if args.purpose else {}
    return listing(_shown(file) for file in magics.session.client.files.list(**params).auto_paging_iter())


@FILES.command("upload")
@magic_arguments(name="oai files upload")
@argument("--purpose", help="assistants (the default, said when used), fine-tune, batch, vision or user_data")
@argument("path", help="the file to upload")
def upload(magics: Any, args: Any) -> Any:
    """Upload a file; its file object as a DataFrame row."""
    if args.purpose is None:
        print("purpose: assistants (the default; choose another with --purpose fine-tune, batch, vision or user_data)")
    purpose = args.purpose or "assistants"
    return listing([magics.session.client.files.create(local_path(args.path), purpose=purpose)])


@FILES.command("show")
@magic_arguments(name="oai files show")
@argument("file_id", type=an_id, help="the file's id")
def show(magics: Any, args: Any) -> Any:
    """One file's details, as a DataFrame row."""
    return listing([_shown(magics.session.client.files.retrieve(args.file_id))])


@FILES.command("delete")
@magic_arguments(name="oai files delete")
@argument("file_id", type=an_id, help="the file's id")
def delete(magics: Any, args: Any) -> None:
    """Delete a file on the server."""
    magics.session.client.files.delete(args.file_id)
    print(f"deleted {args.file_id}")


@FILES.command("download")
@magic_arguments(name="oai files download")
@argument("--to", metavar="PATH", help="a folder to write into, or a new file's path (default: the working folder)")
@argument("file_id", type=an_id, help="the file's id")
def download(magics: Any, args: Any) -> None:
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
    """A server-given file name fit to create in a folder and to show: its last part, without
    invisible characters (controls, bidi overrides, zero-width marks: they disguise a name), cleaned
    for every platform, no longer than a file name may be."""
    from pathvalidate import sanitize_filename

    for candidate in (name or "", fallback):
        last = _visible(re.split(r"[\\/]", candidate)[-1])
        stem, suffix = _split_suffix(last)
        fitted = _fit(stem, suffix, _NAME_MAX)  # before pathvalidate, whose own cut drops the suffix
        cleaned = sanitize_filename(fitted, platform="universal").lstrip(". ")
        if cleaned:
            return cleaned
    return "download"


def create_new(folder: Path, name: str) -> tuple[IO[bytes], Path]:
    """A new file `name` in `folder`, opened for writing; `name (1)`, `name (2)` ... when it exists,
    the name shortened where the counter would make it longer than the folder allows."""
    limit = _name_max(folder)
    stem, suffix = _split_suffix(name)
    for attempt in range(10_000):
        candidate = folder / _fit(stem, (f" ({attempt})" if attempt else "") + suffix, limit)
        try:
            return open(candidate, "xb"), candidate
        except FileExistsError:
            continue
    raise UsageError(f"{folder / name} and 10,000 numbered copies exist; choose a name with --to")


_NAME_MAX = 255  # bytes in a file name on ext4, APFS, NTFS (in UTF-16 units there) and most others
_LONGEST_SUFFIX = 16  # a longer "suffix" is part of the name, not a file type to keep


def _shown(file: dict[str, Any]) -> dict[str, Any]:
    """A file object to show in a table: its server-given name without the characters that disguise it."""
    name = file.get("filename")
    return {**file, "filename": _visible(name)} if isinstance(name, str) else file


def _visible(text: str) -> str:
    """`text` without control and format characters (Unicode categories Cc and Cf)."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


def _split_suffix(name: str) -> tuple[str, str]:
    """(stem, suffix): the file type a counter goes before and a cut keeps (`.jsonl`, `.tar.gz`)."""
    suffixes = PurePath(name).suffixes if name not in ("", ".", "..") else []
    suffix = "".join(suffixes[-2:]) if suffixes[-2:-1] == [".tar"] else "".join(suffixes[-1:])
    if len(os.fsencode(suffix)) > _LONGEST_SUFFIX:
        suffix = ""
    return name[:len(name) - len(suffix)], suffix


def _fit(stem: str, end: str, limit: int) -> str:
    """`stem + end`, the stem cut (on a character boundary) so that the whole is at most `limit` bytes."""
    room = limit - len(os.fsencode(end))
    encoded = os.fsencode(stem)
    if len(encoded) <= room:
        return stem + end
    return encoded[:max(room, 0)].decode(sys.getfilesystemencoding(), "ignore").rstrip(" .") + end


def _name_max(folder: Path) -> int:
    """The longest file name `folder` takes, in bytes."""
    try:
        return min(os.pathconf(folder, "PC_NAME_MAX"), _NAME_MAX)
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no answer for this folder
        return _NAME_MAX


def _create_exactly(path: Path) -> IO[bytes]:
    try:
        return open(path, "xb")
    except FileExistsError:
        raise UsageError(f"{path} exists: choose another name with --to (nothing was overwritten)") from None
