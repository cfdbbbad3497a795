"""Reading a finished results folder back: its kind, its manifest and its tables.

Every folder the project writes has a ``manifest.json`` whose ``kind`` says what made it
(``run``, ``experiment``, ``sweep``, ``validate``, ``side_by_side``, ``calibration``; an experiment over states of the world loads as ``robustness``) and whose
``status`` is ``complete`` once every file is written. :data:`KINDS` declares, per kind, the files it must
hold; every other table it holds (CSV, and the runs and posterior in Parquet) is read too.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sim.analysis.display import Shown
from sim.analysis.tidy import TidyRuns
from sim.batch.folder import sha256_of
from sim.config.errors import UsageError
from sim.config.limits import MB, Bound

# What each kind of folder must hold, beyond manifest.json.
KINDS: dict[str, tuple[str, ...]] = {
    "run": ("runs.parquet", "summary.csv", "failures.csv"),
    "experiment": ("runs.parquet", "summary.csv", "comparison.csv", "failures.csv"),
    "sweep": ("runs.parquet", "points.csv", "failures.csv"),
    "validate": ("runs.parquet", "validation.csv", "failures.csv"),
    "side_by_side": ("side_by_side.csv",),  # validate of several scenarios; each in a validate folder of its own
    "calibration": ("posterior.parquet", "parameters.csv", "generations.csv"),
    "robustness": (
        "runs.parquet",
        "summary.csv",
        "states.csv",
        "robustness.csv",
        "failures.csv",
    ),  # an experiment over states
}
PARQUET_TABLES = ("runs", "posterior")
RUNS_COLUMNS = ("scenario", "replication", "seed")  # every runs.parquet the batch writes has them
TABLE_BYTES = Bound(
    4096 * MB, "the runs table of the largest batch (10 million runs, about 430 bytes a row) holds 4 GB"
)


@dataclass(frozen=True, repr=False)
class Results(Shown, TidyRuns):
    """A finished results folder: ``tables`` holds every table in it by name (``runs``,
    ``summary``, ``comparison``, ``uncertainty``, ``points``, ``sensitivity``, ``validation``,
    ``failures``, ``posterior``, ``parameters``, ``generations`` ... as the kind writes them).

    Its repr is a few lines (kind, replications, folder, headline; a table in Jupyter), ``plot()``
    draws its figures again (:mod:`sim.analysis.display`), and ``tidy_runs`` is ``runs`` with a
    robustness experiment's ``option``, ``state`` and uncertain parameters as columns
    (:func:`sim.analysis.tidy.tidy`; ``runs`` stays the file's table)."""

    kind: str
    folder: Path
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def runs(self) -> pd.DataFrame | None:
        return self.tables.get("runs")

    @property
    def summary(self) -> pd.DataFrame | None:
        return self.tables.get("summary")

    @property
    def comparison(self) -> pd.DataFrame | None:
        return self.tables.get("comparison")

    @property
    def uncertainty(self) -> pd.DataFrame | None:
        return self.tables.get("uncertainty")

    @property
    def failures(self) -> pd.DataFrame | None:
        return self.tables.get("failures")


def load_results(folder: str | Path) -> Results:
    """Read a finished results folder of any kind.

    Raises
    ------
    UsageError
        If ``folder`` is not a folder, has no readable manifest, is of no kind the project
        writes, is unfinished, lacks a file its kind writes, or holds a table that cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a results folder: no such folder")
    manifest = _manifest(folder)
    kind = manifest.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise UsageError(
            f"{folder} is not a results folder of this project: its manifest's kind {_shown(kind)} is not one of "
            f"{', '.join(KINDS)}"
        )
    if kind == "experiment" and manifest.get("robustness") is not None:
        kind = "robustness"  # an experiment over states of the world: no comparison, its robustness tables instead
    if manifest.get("status") != "complete":
        raise UsageError(
            f"{folder} holds an unfinished {kind} (status {manifest.get('status')!r}): "
            "run the same command again to finish it"
        )
    missing = [name for name in KINDS[kind] if not (folder / name).is_file()]
    if missing:
        raise UsageError(f"{folder} is a damaged {kind} folder: it lacks {', '.join(missing)}")
    tables = {path.stem: _read(path) for path in sorted(folder.glob("*.csv"))}
    parquet = [name for name in PARQUET_TABLES if os.path.lexists(folder / f"{name}.parquet")]
    if "runs" in parquet:
        _check_runs(folder / "runs.parquet", manifest, kind)
    tables.update({name: _read(folder / f"{name}.parquet") for name in parquet})
    if "runs" in tables:
        missing = [c for c in RUNS_COLUMNS if c not in tables["runs"].columns]
        if missing:
            raise UsageError(f"{folder / 'runs.parquet'} is damaged: it lacks the column(s) {', '.join(missing)}")
    return Results(kind, folder, manifest, tables)


def _shown(value: object) -> str:
    """A manifest's value in a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_file(path: Path) -> None:
    """A table is read only if it is a regular file (not a symbolic link, a device, a pipe) of at most :data:`TABLE_BYTES`."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise UsageError(f"{path} cannot be read ({type(exc).__name__}): the folder is damaged") from None
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{path} is a symbolic link, not a table the command wrote: refused")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path} is not a regular file (a folder, a device, a pipe or a socket): refused")
    if info.st_size > TABLE_BYTES.most:
        raise UsageError(
            f"{path} holds {info.st_size} bytes, more than {TABLE_BYTES.most // MB} MB ({TABLE_BYTES.reason}): refused"
        )


def _check_runs(path: Path, manifest: dict, kind: str) -> None:
    """``runs.parquet`` must be the file the batch wrote: its SHA-256 the manifest's."""
    _check_file(path)
    checksums = manifest.get("checksums")
    expected = checksums.get(path.name) if isinstance(checksums, dict) else None
    if not isinstance(expected, str):
        raise UsageError(f"{path.parent} is a damaged {kind} folder: its manifest records no checksum of {path.name}")
    if sha256_of(path) != expected:
        raise UsageError(f"{path} is damaged or edited: its checksum differs from the manifest's")


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    if not path.is_file():
        raise UsageError(f"{folder} is not a results folder of this project: it has no manifest.json")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path} cannot be read as JSON ({exc}): the folder is damaged") from None
    if not isinstance(manifest, dict):
        raise UsageError(f"{path} is not a manifest (a JSON object): the folder is damaged")
    return manifest


def _read(path: Path) -> pd.DataFrame:
    _check_file(path)
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UsageError(f"{path} cannot be read ({type(exc).__name__}: {exc}): the folder is damaged") from None
