"""Atomic, early-checked output: every file pamdp writes appears whole or not at all.

A file is written to a temporary file in the target's own folder (so the final rename never
crosses a file system), flushed and ``fsync``-ed, then renamed over the target with
:func:`os.replace`, which POSIX and Windows perform atomically. On any exception, including
``KeyboardInterrupt`` and a full disk (``OSError(ENOSPC)``), the temporary file is removed and
a previous file at the target is left untouched. A reader therefore sees either the complete
previous file, or the complete new one (docs/FORMAT.md, "Writing").

``-`` as a path means standard output (written directly, not atomically). A target that exists
and is not a regular file (``/dev/null``, a named pipe) is written directly too, since renaming
over it would replace the device or pipe itself. A symbolic link is followed: its target file
is replaced and the link kept.

:func:`check_output_path` checks an output path *before* long work starts, so that an
unwritable path fails in a second rather than after an hour's solve.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: The path meaning standard output.
STDOUT = "-"


class OutputPathError(ValueError):
    """An output path pamdp cannot write: its folder is missing or not writable, or it is a
    folder. The message names the path and the reason (command-line exit status 2)."""


def _is_stdout(path: str | os.PathLike[str]) -> bool:
    return isinstance(path, str) and path == STDOUT


def _resolve(path: str | os.PathLike[str]) -> Path:
    """The file actually written: symbolic links followed (also dangling ones)."""
    target = Path(path)
    with contextlib.suppress(OSError):
        if target.is_symlink():
            return Path(os.path.realpath(target))
    return target


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputPathError` unless ``path`` can be written (``-``: standard output).

    Checks that the folder exists and is a folder, that the path is not a folder, that an
    existing file there is writable, and that the folder accepts new files (by creating and
    removing a temporary file, which is what an atomic write needs).
    """
    if _is_stdout(path):
        return
    shown = os.fspath(path)
    if not shown:
        raise OutputPathError("output path is empty")
    target = _resolve(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputPathError(f"{shown}: is a folder, not a file")
    if not folder.exists():
        raise OutputPathError(f"{shown}: the folder {os.fspath(folder)!r} does not exist")
    if not folder.is_dir():
        raise OutputPathError(f"{shown}: {os.fspath(folder)!r} is not a folder")
    if target.exists():
        if not _is_regular(target):
            return  # a device or pipe: written directly
        if not os.access(target, os.W_OK):
            raise OutputPathError(f"{shown}: the file exists and is read-only")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".check")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputPathError(
            f"{shown}: cannot create files in the folder {os.fspath(folder)!r} ({reason})"
        ) from None
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _new_file_mode(target: Path) -> int:
    """The permissions the target would get from a plain ``open``: those of the file it
    replaces, or 0o666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing, atomically: the target changes only when the block ends
    without an exception (see the module docstring).

    ``mode`` is ``"w"`` (text, ``encoding``) or ``"wb"``. ``-`` yields standard output (its
    binary buffer for ``"wb"``), which is flushed but not closed.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', not {mode!r}")
    binary = mode == "wb"
    if _is_stdout(path):
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    target = _resolve(path)
    if target.is_dir():
        raise OutputPathError(f"{os.fspath(path)}: is a folder, not a file")
    if target.exists() and not _is_regular(target):
        with open(target, mode, encoding=None if binary else encoding, newline=newline) as direct:
            yield direct
        return
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError:
        check_output_path(path)  # raises OutputPathError saying why
        raise
    try:
        with os.fdopen(
            handle, mode, encoding=None if binary else encoding, newline=newline
        ) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _new_file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX; a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``-``: standard output)."""
    with atomic_open(path, "w", encoding=encoding) as stream:
        stream.write(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (``-``: standard output's binary buffer)."""
    with atomic_open(path, "wb") as stream:
        stream.write(data)
