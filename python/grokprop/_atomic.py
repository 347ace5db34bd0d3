"""Atomic file replacement, shared by every grokprop writer (saved networks, setups, grid
chunks and manifests): a path holds the old file or the new complete one, whatever happens
during the write."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["kind", "not_saved", "replace_atomically"]


def replace_atomically(name: str, write: Callable[[IO[bytes]], object], subject: str) -> None:
    """Run ``write`` on a new file beside ``name``, fsync it, then rename it to ``name``.

    ``subject`` names what is saved in the errors (``"a grokprop network"``, ``"a grid
    chunk"``). Follows a symlink, keeps the permissions of the file it replaces, refuses a
    non-regular or read-only target; the temporary file never outlives a failure.
    """
    # write through a symlink, as opening the path for writing would
    target = os.path.realpath(name)
    try:
        existing: os.stat_result | None = os.stat(target)  # noqa: PTH116
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if not stat.S_ISREG(existing.st_mode):
            raise not_saved(name, subject, f"it is {kind(existing.st_mode)}, not a regular file")
        if not os.access(target, os.W_OK):  # a rename would replace a read-only file
            raise PermissionError(
                errno.EACCES, f"cannot save {subject} over a read-only file", name
            )
    directory, base = os.path.split(target)
    temp, fd = _create_beside(directory, base, name, subject)
    try:
        with os.fdopen(fd, "wb") as file:
            if existing is not None:  # the permissions the overwritten file had
                with contextlib.suppress(OSError):
                    os.chmod(temp, stat.S_IMODE(existing.st_mode))  # noqa: PTH101
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)  # noqa: PTH105
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(temp)  # noqa: PTH108
        raise
    _sync_directory(directory)


def _create_beside(directory: str, base: str, name: str, subject: str) -> tuple[str, int]:
    """A new file ``.<base>.<random>.tmp`` in ``directory``, open for writing.

    Made with ``os.open``'s mode 0o666, so the process umask applies as to any new file.
    """
    for _ in range(100):
        temp = str(Path(directory) / f".{base[:200]}.{secrets.token_hex(4)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            why = (
                "; save writes a new file beside the target and renames it over the "
                "target, so the directory must be writable"
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
                else ""
            )
            raise OSError(
                exc.errno,
                f"cannot save {subject}: cannot create a file in {directory!r} "
                f"({exc.strerror}){why}",
                name,
            ) from exc
    raise FileExistsError(errno.EEXIST, f"cannot save {subject}: no free temporary name", name)


def _sync_directory(directory: str) -> None:
    """Make the rename durable (POSIX; elsewhere, or if refused, the rename stands)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def kind(mode: int) -> str:
    for test, kind in [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]:
        if test(mode):
            return kind
    return "not a plain file"


def not_saved(name: str, subject: str, what: str) -> ValueError:
    return ValueError(f"{name}: cannot save {subject}: {what}")
