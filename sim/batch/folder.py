"""Results folders, filled chunk by chunk so that an interrupted run resumes.

Layout: ``manifest.json`` (written first, with the batch's fingerprint and ``status``),
``parts/`` (one Parquet file per finished chunk, and beside it a record of its SHA-256, row
count and failures, written before the part itself), and at the end ``runs.parquet`` (the
parts streamed in (scenario, replication) order into row groups of :data:`ROW_GROUP_ROWS`
rows) and ``failures.csv``; the finished manifest records the checksum of every part and of
``runs.parquet``.

What a folder guarantees:

- every file is written under a temporary name and renamed, so a reader never sees half a file;
- a process killed (even by ``kill -9``) keeps every part it renamed: a resume starts from them;
- every file outside ``parts/`` is flushed to disk before its rename, and its folder after, so a
  power cut leaves the old file or the new one; the parts are flushed a group at a time (every
  :data:`FLUSH_EVERY` parts, when the folder is closed, and before ``runs.parquet`` is written),
  so a power cut loses at most the parts since the last group, and a resume recomputes them
  (next line);
- a part counts as done only if its record is intact and its bytes match the record's
  checksum; a damaged part is recomputed;
- a damaged manifest is reported, never taken for another batch's;
- one process at a time: a lock (``.lock``, released by the system when its holder dies)
  stops a second run into the same folder; a ``.lock`` that is not a regular file (a link, a
  folder, a pipe) is refused, never followed or truncated;
- temporary files left by a killed run are removed by the next;
- status ``complete`` is the last thing written: a folder whose files made from the runs (a
  summary, a report) were not all written reads ``analysing``, and is complete once the same
  command writes them; ``compare`` and ``load_results`` read only a complete folder;
- ``failures.csv`` holds error text: a cell a spreadsheet would run as a formula is neutralised
  (:mod:`sim.batch.cells`).

A folder of folders (:func:`folder_of_folders`: ``validate`` of several scenarios) holds a
results folder per scenario and files made from them, under its own manifest and lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.atomic import PARTIAL, write_atomic
from sim.batch.atomic import flush as flush_to_disk
from sim.batch.cells import write_csv as write_neutralised_csv
from sim.config.errors import UsageError

FAILURE_COLUMNS = ["scenario", "replication", "seed", "error", "where", "reproduce"]
LOCK = ".lock"
RUNS = "runs.parquet"
COMPLETE = "complete"  # the manifest's status once every file of the folder is written
ANALYSING = "analysing"  # the runs are written, the files made from them not yet
WHAT_TO_DO = "remove the folder or choose another --out"
ROW_GROUP_ROWS = 16_384  # rows per row group of runs.parquet: about 6 MB of Arrow each (bounds the runner's memory), read at full speed
COMBINE_EVERY = 64  # parts held while assembling that are combined into one table
FLUSH_EVERY = 64  # parts written between two flushes to disk (see ResultsFolder.save)


def check_output_folder(out: Path) -> None:
    """Refuse a folder that already holds files, before any work is done (a lock or the
    temporary files of a run killed before it wrote anything do not count)."""
    if out.exists() and (not out.is_dir() or any(not _leftover(p) for p in out.iterdir())):
        raise UsageError(f"output folder {out} already exists and is not empty: choose another --out")
    parent = out.resolve().parent
    if parent.exists() and not os.access(parent, os.W_OK):
        raise UsageError(f"output folder {out}: cannot write in {parent}")


def _leftover(path: Path) -> bool:
    return path.name == LOCK or PARTIAL in path.name


def write_json(path: Path, content: Any) -> None:
    write_atomic(path, lambda p: p.write_text(_json_text(content)))


def _json_text(content: Any) -> str:
    return json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """``table`` as a CSV file, atomically, cells as they are: a table with free text goes
    through :func:`sim.batch.cells.write_csv`, which neutralises formulas."""
    write_atomic(path, lambda p: table.to_csv(p, index=False, float_format="%.6g"))


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read block by block."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest (a JSON object), or one line saying that it is damaged and what to do."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path} is damaged (not JSON: {exc}): {WHAT_TO_DO}") from None
    if not isinstance(content, dict):
        raise UsageError(f"{path} is damaged (not a JSON object): {WHAT_TO_DO}")
    return content


def verify_runs(out: Path, manifest: dict[str, Any]) -> Path:
    """``runs.parquet`` of a finished folder, checked against the manifest's checksum (a finished
    manifest always records one: one that does not is damaged)."""
    path = out / RUNS
    checksums = manifest.get("checksums")
    expected = checksums.get(RUNS) if isinstance(checksums, dict) else None
    if not isinstance(expected, str):
        raise UsageError(
            f"{out}/manifest.json is damaged (it records no checksum of {RUNS}): run the command that made "
            f"the folder again with the same --out, or {WHAT_TO_DO}"
        )
    if sha256_of(path) != expected:
        raise UsageError(
            f"{path} is damaged (its checksum differs from the manifest's): run the command "
            f"that made it again with the same --out to rebuild it, or {WHAT_TO_DO}"
        )
    return path


class ResultsFolder:
    """A batch's results folder (see the module docstring); open it, then close it."""

    def __init__(self, out: Path, fingerprint: str, held: HeldLock | None = None) -> None:
        self.out = out
        self.held = held  # a lock held over several batches: taken by the first, kept after close
        self.fingerprint = fingerprint
        self.parts = out / "parts"
        self.damaged: list[str] = []  # one line per damaged part found on opening
        self._lock: int | None = None
        self._checksums: dict[str, str] = {}
        self._unflushed: list[Path] = []  # parts and records written since the last flush
        self.most_rows_held = 0  # the most rows held at once while assembling runs.parquet

    def open(self, manifest: dict[str, Any], grow: bool = False) -> set[tuple[int, int]]:
        """Create the folder or check that it holds this very batch, lock it, clean what a
        killed run left, and return the (scenario, chunk) pairs already done and intact.
        With ``grow``, a folder of the same lineage (the same batch with another replication
        count) is taken too: its parts are kept, and the caller keeps those whose
        replications match its own chunks."""
        previous = self.out / "manifest.json"
        self._check_same(previous, manifest, grow)  # before the lock too: a refused run changes nothing
        self.out.mkdir(parents=True, exist_ok=True)
        self._acquire()
        self._check_same(previous, manifest, grow)  # what the folder holds now that no one else writes
        self._clean_partials()
        self.parts.mkdir(parents=True, exist_ok=True)
        write_json(previous, {**manifest, "status": "running"})
        return {key for key in map(_chunk_of, sorted(self.parts.glob("*/*.parquet"))) if self._intact(*key)}

    def _check_same(self, previous: Path, manifest: dict[str, Any], grow: bool) -> None:
        if not previous.exists():
            check_output_folder(self.out)
            return
        earlier = read_manifest(previous)
        same = earlier.get("fingerprint") == self.fingerprint
        if not same and not (grow and earlier.get("lineage") == manifest.get("lineage")):
            raise UsageError(
                f"output folder {self.out} holds results of a different batch, seed, "
                "replication count or code version: resuming would mix them; choose another --out"
            )

    def close(self) -> None:
        """Flush the parts not yet flushed (a run stopped between two flushes keeps them through
        a power cut too), and release the lock (the system releases it too if this process dies)."""
        with contextlib.suppress(OSError):  # what is not flushed is recomputed if a power cut loses it
            self.flush()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _acquire(self) -> None:
        if self.held is None:
            self._lock = lock_folder(self.out)
        elif self.held.fd is None:
            self.held.fd = lock_folder(self.out)  # released by the holder, not by close()

    def _clean_partials(self) -> None:
        """Remove the temporary files of killed runs: every one under ``parts/`` (only the
        holder of the lock writes there), and beside the manifest those of dead processes."""
        for path in self.parts.glob(f"*/.*{PARTIAL}*"):
            path.unlink(missing_ok=True)
        clean_partials(self.out)

    def _intact(self, scenario: int, index: int) -> bool:
        """Whether a part and its record are whole; a damaged one is removed and noted."""
        path = self.part(scenario, index)
        record = self._record(path)
        if record is None:
            reason = "no readable record"
        elif sha256_of(path) != record["sha256"]:
            reason = "checksum"
        else:
            self._checksums[self._name(path)] = record["sha256"]
            return True
        self.damaged.append(f"part {self._name(path)} damaged ({reason}): recomputed")
        path.unlink(missing_ok=True)
        return False

    def _record(self, path: Path) -> dict[str, Any] | None:
        try:
            record = json.loads(_record_path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        valid = (
            isinstance(record, dict)
            and isinstance(record.get("sha256"), str)
            and isinstance(record.get("rows"), int)
            and isinstance(record.get("failures"), list)
        )
        return record if valid else None

    def replications_in(self, scenario: int, index: int) -> int:
        """How many replications a finished part holds: its rows and its failures."""
        record = self._record(self.part(scenario, index))
        return record["rows"] + len(record["failures"])

    def part(self, scenario: int, index: int) -> Path:
        return self.parts / f"{scenario:03d}" / f"{index:06d}.parquet"

    def _name(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    def save(self, scenario: int, index: int, rows: pa.Table, failures: list[dict]) -> None:
        """Write a finished chunk: its record (the checksum of its bytes, its row count and
        failures), then its rows under their own name (the commit point), each renamed into
        place whole. Neither is flushed to disk here: every :data:`FLUSH_EVERY` parts, and
        before ``runs.parquet`` is assembled, the parts written since are flushed together
        (:meth:`flush`). A part a power cut tore or lost is caught by its record and recomputed."""
        path = self.part(scenario, index)
        path.parent.mkdir(exist_ok=True)
        sink = pa.BufferOutputStream()
        pq.write_table(rows, sink)
        data = sink.getvalue()
        self._checksums[self._name(path)] = checksum = hashlib.sha256(data).hexdigest()
        record = _record_path(path)
        content = {"sha256": checksum, "rows": rows.num_rows, "failures": failures}
        write_atomic(record, lambda p: p.write_text(_json_text(content)), durable=False)
        write_atomic(path, lambda p: p.write_bytes(data), durable=False)
        self._unflushed += [record, path]
        if len(self._unflushed) >= 2 * FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Flush to disk the parts and records written since the last flush, then their folders
        once: they then survive a power cut."""
        flush_to_disk(self._unflushed, [p.parent for p in self._unflushed])
        self._unflushed = []

    def assemble(self, chunks: Sequence[tuple[int, int]]) -> tuple[Path, list[dict]]:
        """Concatenate the parts, in the order given, into ``runs.parquet`` in row groups of
        :data:`ROW_GROUP_ROWS` rows (the last one shorter), streamed part by part, so memory
        stays flat, and collect their failures. The row groups depend only on the rows, so
        the file's bytes do not depend on the workers, the backend or a resume."""
        self.flush()
        target = self.out / RUNS

        def write(partial: Path) -> None:
            with RowGroups(partial, ROW_GROUP_ROWS) as groups:
                for scenario, index in chunks:
                    groups.add(pq.ParquetFile(self.part(scenario, index)).read())  # not read_table: no datasets
            self.most_rows_held = groups.most_rows_held

        write_atomic(target, write)
        self._checksums[RUNS] = sha256_of(target)
        failures = [f for s, i in chunks for f in self._record(self.part(s, i))["failures"]]
        return target, failures

    def finish(
        self,
        manifest: dict[str, Any],
        failures: pd.DataFrame,
        chunks: Sequence[tuple[int, int]],
        status: str = COMPLETE,
    ) -> dict[str, Any]:
        """Write ``failures.csv`` and the finished manifest, with the checksums of the
        ``chunks``' parts and of ``runs.parquet``; return that manifest. Its ``status`` is
        ``complete``, or ``analysing`` when the caller writes files made from the runs and then
        marks the folder complete (:func:`mark_complete`)."""
        write_neutralised_csv(self.out / "failures.csv", failures)  # error text is free text: no cell runs as a formula
        names = [self._name(self.part(*key)) for key in chunks] + [RUNS]
        finished = {**manifest, "status": status, "checksums": {name: self._checksums[name] for name in names}}
        write_json(self.out / "manifest.json", finished)
        return finished


class RowGroups:
    """A Parquet file written table by table in row groups of ``rows`` rows (the last one
    shorter), whatever the sizes of the tables: it holds fewer than ``rows`` rows plus the last
    table given, every :data:`COMBINE_EVERY` tables combined into one (each small table has a
    cost of its own, per column, well beyond its rows). ``most_rows_held`` tells the most rows
    it held at once."""

    def __init__(self, path: Path, rows: int) -> None:
        self.path = path
        self.rows = rows
        self.most_rows_held = 0
        self._writer: pq.ParquetWriter | None = None
        self._held: list[pa.Table] = []
        self._count = 0
        self._small = 0  # tables added since the last were combined

    def add(self, table: pa.Table) -> None:
        self._writer = self._writer or pq.ParquetWriter(self.path, table.schema)
        self._held.append(table)
        self._small += 1
        self._count += table.num_rows
        self.most_rows_held = max(self.most_rows_held, self._count)
        if self._small >= COMBINE_EVERY:  # thousands of small tables cost far more than their rows
            kept = len(self._held) - self._small
            self._held[kept:] = [pa.concat_tables(self._held[kept:]).combine_chunks()]
            self._small = 0
        while self._count >= self.rows:
            self._write(self.rows)

    def _write(self, rows: int) -> None:
        held = pa.concat_tables(self._held)
        self._writer.write_table(held.slice(0, rows), row_group_size=rows)
        rest = held.slice(rows)
        self._held = [rest] if rest.num_rows else []
        self._count = rest.num_rows
        self._small = 0

    def __enter__(self) -> RowGroups:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if self._writer is None:
            return
        try:
            if kind is None and self._count:
                self._write(self._count)
        finally:
            self._writer.close()


class HeldLock:
    """A results folder's lock held across several batches into it and the files made from
    them (a run by precision's stages and its report): the first :class:`ResultsFolder` given it
    takes the lock after its checks, the next ones keep it, and leaving the ``with`` block
    releases it, so no other process writes in between."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def mark_complete(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``out``'s manifest with status ``complete``, the last file of a folder: once every
    other file is written. Return that manifest."""
    finished = {**manifest, "status": COMPLETE}
    write_json(out / "manifest.json", finished)
    return finished


def lock_folder(out: Path) -> int:
    """Lock the results folder ``out`` (``.lock``, released by the system when this process
    dies) and return the lock's file descriptor, to close when done; one line if another
    process holds it."""
    path = out / LOCK
    not_a_file = UsageError(
        f"{path} is not a regular file (a link, a folder or a device): remove it, or choose another --out"
    )
    try:  # a planted link is never followed, a device or pipe never blocks, nothing is truncated before the check
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EMLINK):
            raise not_a_file from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise not_a_file
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise UsageError(
            f"{out} is in use by process {holder}: wait for it to finish, or choose another --out"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


@contextlib.contextmanager
def locked_folder(out: Path) -> Iterator[None]:
    """``out`` (made if need be) locked by :func:`lock_folder` for the time of the ``with``
    block: a second process gets one line saying the folder is in use. If the block fails while
    ``out`` holds nothing but the lock, the lock goes, and ``out`` too if this call made it."""
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    fd = lock_folder(out)
    try:
        yield
    except BaseException:
        if out.is_dir() and [p.name for p in out.iterdir()] == [LOCK]:
            (out / LOCK).unlink(missing_ok=True)
            if made:
                with contextlib.suppress(OSError):
                    out.rmdir()
        raise
    finally:
        os.close(fd)


def clean_partials(out: Path) -> None:
    """Remove the temporary files of :func:`write_atomic` that dead processes left in ``out``."""
    for path in out.glob(f".*{PARTIAL}*"):
        if not _alive(path.name.rpartition(PARTIAL)[2]):
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def folder_of_folders(out: Path, manifest: dict[str, Any]) -> Iterator[None]:
    """A results folder that holds results folders of its own (``out/<name>/``, each a
    :class:`ResultsFolder`) and files made from them, for the time of the ``with`` block.

    Before anything is written, ``out`` must be new, empty, or a folder of the same
    ``manifest["kind"]`` and ``manifest["fingerprint"]`` (a resume); then it is locked, the
    temporary files of killed runs are removed, and ``manifest.json`` is written with status
    ``running`` (the block writes the finished one). If the block fails while ``out`` holds nothing but that manifest
    and the lock, both are removed again, and ``out`` too if this call made it: a failed start
    leaves nothing behind, and a failure later leaves what a resume needs."""
    _check_folder_of_folders(out, manifest)  # before the lock too: a refused run changes nothing
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        fd = lock_folder(out)
    except UsageError:  # in use: what the folder holds is another process's
        raise
    except BaseException:
        _remove_if_only_own(out, made)
        raise
    try:
        _check_folder_of_folders(out, manifest)  # what the folder holds now that no one else writes
        clean_partials(out)
        write_json(out / "manifest.json", {**manifest, "status": "running"})
        yield
    except BaseException:
        _remove_if_only_own(out, made)
        raise
    finally:
        os.close(fd)


def _check_folder_of_folders(out: Path, manifest: dict[str, Any]) -> None:
    previous = out / "manifest.json"
    if not previous.exists():
        check_output_folder(out)
        return
    earlier = read_manifest(previous)
    if earlier.get("kind") != manifest["kind"]:
        raise UsageError(
            f"output folder {out} holds results of another kind ({earlier.get('kind')}), not a "
            f"{manifest['kind']} folder: choose another --out"
        )
    if earlier.get("fingerprint") != manifest["fingerprint"]:
        raise UsageError(
            f"output folder {out} holds results of other scenarios or settings: "
            "resuming would mix them; choose another --out"
        )


def _remove_if_only_own(out: Path, made: bool) -> None:
    """Remove ``out``'s manifest and lock if it holds nothing else (temporary files aside), and
    ``out`` itself if ``made``: what a start that failed before any work wrote."""
    if not out.is_dir() or any(not _leftover(p) and p.name != "manifest.json" for p in out.iterdir()):
        return
    (out / "manifest.json").unlink(missing_ok=True)
    clean_partials(out)
    (out / LOCK).unlink(missing_ok=True)
    if made:
        try:
            out.rmdir()
        except OSError:  # another process wrote there meanwhile: its files stay
            pass


def _record_path(part: Path) -> Path:
    return part.with_suffix(".json")


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _chunk_of(path: Path) -> tuple[int, int]:
    return int(path.parent.name), int(path.stem)
