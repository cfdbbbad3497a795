"""Files written whole or not at all: :func:`write_atomic` (used by every file the project
writes into a results folder)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable
from pathlib import Path

PARTIAL = ".partial-"  # the mark of a temporary file of write_atomic


def write_atomic(path: Path, write: Callable[[Path], None], durable: bool = True) -> None:
    """Call ``write(temporary path)``, flush it to disk, rename it to ``path`` and flush the
    folder: readers see all or nothing, and a power cut cannot leave a renamed empty file.

    With ``durable=False`` nothing is flushed: readers (and a process killed, even by
    ``kill -9``) still see all or nothing, but after a power cut the file may be missing, empty
    or torn until the caller flushes it with :func:`flush` (the parts of a results folder, whose
    checksums catch such a file, are flushed a group at a time this way)."""
    partial = path.with_name(f".{path.name}{PARTIAL}{os.getpid()}")
    try:
        write(partial)
        if durable:
            _fsync(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if durable:
        _fsync(path.parent)


def flush(files: Iterable[Path], folders: Iterable[Path]) -> None:
    """Flush ``files`` to disk, then ``folders`` (each once): what :func:`write_atomic` with
    ``durable=False`` left unflushed is then as durable as if it had been written durably."""
    for path in files:
        _fsync(path)
    for folder in dict.fromkeys(folders):
        _fsync(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot flush a folder
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)
