"""Files written whole or not at all: :func:`write_atomic` (used by every file the project
writes into a results folder)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

PARTIAL = ".partial-"  # the mark of a temporary file of write_atomic


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary path)``, flush it to disk, rename it to ``path`` and flush the
    folder: readers see all or nothing, and a power cut cannot leave a renamed empty file."""
    partial = path.with_name(f".{path.name}{PARTIAL}{os.getpid()}")
    try:
        write(partial)
        _fsync(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot flush a folder
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)
