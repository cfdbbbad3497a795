"""Results folders: runs.parquet, summary.csv and manifest.json, written atomically.

Files are first written into a hidden staging folder beside the target, which is renamed
into place only when everything is written: an interrupted or failed run leaves no
half-written results folder.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from sim import __version__
from sim.project import PROJECT_ROOT
from sim.config.errors import UsageError

PACKAGES = ("simpy", "numpy", "scipy", "pandas", "pyarrow")


def check_output_folder(out: Path) -> None:
    """Refuse a folder that already holds files, before any work is done."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"output folder {out} already exists and is not empty: choose another --out")
    parent = out.resolve().parent
    if parent.exists() and not os.access(parent, os.W_OK):
        raise UsageError(f"output folder {out}: cannot write in {parent}")


def write_results(out: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
    """Write ``tables`` (``name.parquet`` or ``name.csv``) and ``manifest.json`` into ``out``."""
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name, table in tables.items():
            if name.endswith(".parquet"):
                table.to_parquet(staging / name, index=False, engine="pyarrow")
            else:
                table.to_csv(staging / name, float_format="%.6g")
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def code_version() -> dict[str, Any]:
    """The package version and, inside a git checkout, the commit and whether it was modified."""
    version: dict[str, Any] = {"package": __version__}
    root = PROJECT_ROOT
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim", "configs"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return version
    if commit.returncode == 0:
        version["git_commit"] = commit.stdout.strip()
        version["git_modified"] = bool(dirty.stdout.strip())
    return version


def environment() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": versions}


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


class ResultsFolder:
    """A batch's results folder, filled chunk by chunk so that an interrupted run resumes.

    Layout: ``manifest.json`` (written first, with the batch fingerprint), ``parts/`` (one
    Parquet file per finished chunk, plus its failures), and at the end ``runs.parquet``
    and ``failures.csv`` assembled from the parts in (scenario, replication) order.
    """

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.out = out
        self.fingerprint = fingerprint
        self.parts = out / "parts"

    def open(self, manifest: dict[str, Any]) -> set[tuple[int, int]]:
        """Create the folder or check that it holds this very batch; return the
        (scenario, chunk) pairs already done."""
        previous = self.out / "manifest.json"
        if previous.exists():
            try:
                fingerprint = json.loads(previous.read_text()).get("fingerprint")
            except (OSError, ValueError):
                fingerprint = None
            if fingerprint != self.fingerprint:
                raise UsageError(
                    f"output folder {self.out} holds results of a different experiment, seed, "
                    "replication count or code version: resuming would mix them; choose another --out"
                )
        else:
            check_output_folder(self.out)
        self.parts.mkdir(parents=True, exist_ok=True)
        write_json(previous, {**manifest, "fingerprint": self.fingerprint, "status": "running"})
        return {_chunk_of(p) for p in self.parts.glob("*/*.parquet")}

    def part(self, scenario: int, index: int) -> Path:
        return self.parts / f"{scenario:03d}" / f"{index:06d}.parquet"

    def save(self, scenario: int, index: int, rows: "pa.Table", failures: list[dict]) -> None:
        """Write a finished chunk: its failures first, then its rows (the commit point)."""
        import pyarrow.parquet as pq

        path = self.part(scenario, index)
        path.parent.mkdir(exist_ok=True)
        write_json(path.with_suffix(".failures.json"), failures)
        write_atomic(path, lambda p: pq.write_table(rows, p))

    def assemble(self, chunks: Sequence[tuple[int, int]]) -> tuple[Path, pd.DataFrame]:
        """Concatenate the parts, in the order given, into ``runs.parquet`` (row group by
        row group, so memory stays flat) and collect their failures."""
        import pyarrow.parquet as pq

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
        return target, pd.DataFrame(failures, columns=["scenario", "replication", "seed", "error", "where"])

    def finish(self, manifest: dict[str, Any]) -> None:
        write_json(self.out / "manifest.json", {**manifest, "fingerprint": self.fingerprint, "status": "complete"})


def _chunk_of(path: Path) -> tuple[int, int]:
    return int(path.parent.name), int(path.stem)
