"""Results folders, filled chunk by chunk so that an interrupted run resumes.

Layout: ``manifest.json`` (written first, with the batch's fingerprint and ``status``),
``parts/`` (one Parquet file per finished chunk, with its failures beside it), and at the end
``runs.parquet`` and ``failures.csv`` assembled from the parts in (scenario, replication)
order. Every file is written under a temporary name and renamed, so a reader never sees half
a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.errors import UsageError

FAILURE_COLUMNS = ["scenario", "replication", "seed", "error", "where", "reproduce"]


def check_output_folder(out: Path) -> None:
    """Refuse a folder that already holds files, before any work is done."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"output folder {out} already exists and is not empty: choose another --out")
    parent = out.resolve().parent
    if parent.exists() and not os.access(parent, os.W_OK):
        raise UsageError(f"output folder {out}: cannot write in {parent}")


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary path)`` then rename it to ``path``: readers see all or nothing."""
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_json(path: Path, content: Any) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"))


def write_csv(path: Path, table: pd.DataFrame) -> None:
    write_atomic(path, lambda p: table.to_csv(p, index=False, float_format="%.6g"))


class ResultsFolder:
    """A batch's results folder (see the module docstring)."""

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.out = out
        self.fingerprint = fingerprint
        self.parts = out / "parts"

    def open(self, manifest: dict[str, Any], grow: bool = False) -> set[tuple[int, int]]:
        """Create the folder or check that it holds this very batch; return the
        (scenario, chunk) pairs already done. With ``grow``, a folder of the same lineage
        (the same batch with another replication count) is taken too: its parts are kept,
        and the caller keeps those whose replications match its own chunks."""
        previous = self.out / "manifest.json"
        if previous.exists():
            try:
                earlier = json.loads(previous.read_text())
            except (OSError, ValueError):
                earlier = {}
            same = earlier.get("fingerprint") == self.fingerprint
            if not same and not (grow and earlier.get("lineage") == manifest.get("lineage")):
                raise UsageError(
                    f"output folder {self.out} holds results of a different batch, seed, "
                    "replication count or code version: resuming would mix them; choose another --out"
                )
        else:
            check_output_folder(self.out)
        self.parts.mkdir(parents=True, exist_ok=True)
        write_json(previous, {**manifest, "status": "running"})
        return {_chunk_of(p) for p in self.parts.glob("*/*.parquet")}

    def replications_in(self, scenario: int, index: int) -> int:
        """How many replications a finished part holds: its rows and its failures."""
        path = self.part(scenario, index)
        return pq.read_metadata(path).num_rows + len(json.loads(path.with_suffix(".failures.json").read_text()))

    def part(self, scenario: int, index: int) -> Path:
        return self.parts / f"{scenario:03d}" / f"{index:06d}.parquet"

    def save(self, scenario: int, index: int, rows: pa.Table, failures: list[dict]) -> None:
        """Write a finished chunk: its failures first, then its rows (the commit point)."""
        path = self.part(scenario, index)
        path.parent.mkdir(exist_ok=True)
        write_json(path.with_suffix(".failures.json"), failures)
        write_atomic(path, lambda p: pq.write_table(rows, p))

    def assemble(self, chunks: Sequence[tuple[int, int]]) -> tuple[Path, list[dict]]:
        """Concatenate the parts, in the order given, into ``runs.parquet`` (row group by
        row group, so memory stays flat) and collect their failures."""
        target = self.out / "runs.parquet"

        def write(partial: Path) -> None:
            writer = None
            try:
                for scenario, index in chunks:
                    table = pq.read_table(self.part(scenario, index))
                    writer = writer or pq.ParquetWriter(partial, table.schema)
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()

        write_atomic(target, write)
        failures = [f for s, i in chunks for f in json.loads(self.part(s, i).with_suffix(".failures.json").read_text())]
        return target, failures

    def finish(self, manifest: dict[str, Any], failures: pd.DataFrame) -> None:
        write_csv(self.out / "failures.csv", failures)
        write_json(self.out / "manifest.json", {**manifest, "status": "complete"})


def _chunk_of(path: Path) -> tuple[int, int]:
    return int(path.parent.name), int(path.stem)
