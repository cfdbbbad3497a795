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
from typing import Any

import pandas as pd

from . import __version__
from .errors import UsageError

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
    root = Path(__file__).resolve().parent.parent
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
