"""Reading a finished results folder back: its kind, its manifest and its tables.

Every folder the project writes has a ``manifest.json`` whose ``kind`` says what made it
(``run``, ``experiment``, ``sweep``, ``validate``, ``side_by_side``, ``calibration``) and whose
``status`` is ``complete`` once every file is written. :data:`KINDS` declares, per kind, the files it must
hold; every other table it holds (CSV, and the runs and posterior in Parquet) is read too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sim.config.errors import UsageError

# What each kind of folder must hold, beyond manifest.json.
KINDS: dict[str, tuple[str, ...]] = {
    "run": ("runs.parquet", "summary.csv", "failures.csv"),
    "experiment": ("runs.parquet", "summary.csv", "comparison.csv", "failures.csv"),
    "sweep": ("runs.parquet", "points.csv", "failures.csv"),
    "validate": ("runs.parquet", "validation.csv", "failures.csv"),
    "side_by_side": ("side_by_side.csv",),  # validate of several scenarios; each in a validate folder of its own
    "calibration": ("posterior.parquet", "parameters.csv", "generations.csv"),
}
PARQUET_TABLES = ("runs", "posterior")


@dataclass(frozen=True)
class Results:
    """A finished results folder: ``tables`` holds every table in it by name (``runs``,
    ``summary``, ``comparison``, ``uncertainty``, ``points``, ``sensitivity``, ``validation``,
    ``failures``, ``posterior``, ``parameters``, ``generations`` ... as the kind writes them)."""

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
    if kind not in KINDS:
        raise UsageError(f"{folder} is not a results folder of this project: its manifest's kind {kind!r} is not one of "
                         f"{', '.join(KINDS)}")  # fmt: skip
    if manifest.get("status") != "complete":
        raise UsageError(f"{folder} holds an unfinished {kind} (status {manifest.get('status')!r}): "
                         "run the same command again to finish it")  # fmt: skip
    missing = [name for name in KINDS[kind] if not (folder / name).is_file()]
    if missing:
        raise UsageError(f"{folder} is a damaged {kind} folder: it lacks {', '.join(missing)}")
    tables = {path.stem: _read(path) for path in sorted(folder.glob("*.csv"))}
    tables.update({name: _read(folder / f"{name}.parquet") for name in PARQUET_TABLES if (folder / f"{name}.parquet").is_file()})
    return Results(kind, folder, manifest, tables)


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
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UsageError(f"{path} cannot be read ({type(exc).__name__}: {exc}): the folder is damaged") from None
