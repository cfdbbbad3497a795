"""The manifest of a batch: what ran, from which inputs, with which code, on which machine.

One format for every results folder (``run``, ``experiment``, ``sweep``, a calibration's check
run): ``manifest.json`` holds the batch (kind, name, scenarios and their hashes, root seed,
replications, chunk size), the command line, the text of every input file, the code version,
the Python and package versions, timings and status, and what the kind adds (the reference
scenario and outcomes of an experiment, the design of a sweep, the fitted values of a
calibration). The batch's fingerprint decides whether a folder may be resumed, its lineage
(the fingerprint less the replication count) whether it may grow to more replications.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from sim import __version__
from sim.config.loader import scenario_hash
from sim.design.batch import Batch
from sim.project import PROJECT_ROOT, shown_path

DISTRIBUTION = "militia-pressure-sim"
# What the project needs, in case it runs from a checkout that pip did not install.
REQUIRED = (
    "simpy",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "tqdm",
    "matplotlib",
    "markdown",
    "pyabc",
    "ema_workbench",
    "SALib",
    "dask",
    "distributed",
    "statsmodels",
)


def describe(
    batch: Batch, command: tuple[str, ...] | list[str], workers: int, scheduler: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """The manifest of ``batch`` as it starts; the runner adds timings and status."""
    return {
        "kind": batch.source.kind,
        "name": batch.name,
        "command": list(command),
        "source_file": shown_path(batch.source.file),
        "overrides": list(batch.source.overrides),
        "inputs": {shown_path(path): path.read_text(encoding="utf-8") for path in batch.inputs},
        "scenarios": [name for name, _ in batch.scenarios],
        "scenario_hashes": {name: scenario_hash(scenario) for name, scenario in batch.scenarios},
        "root_seed": batch.root_seed,
        "replications": batch.replications,
        "chunk_size": batch.chunk_size,
        "checks": [c.id for c in batch.checks],
        "parameters_from": batch.draws.describe() if batch.draws else None,
        "workers": workers,
        "scheduler": scheduler,
        "code_version": code_version(),
        "environment": environment(),
        "fingerprint": fingerprint(batch),
        "lineage": lineage(batch),
        **extra,
    }


def fingerprint(batch: Batch) -> str:
    """A hash of everything that determines the runs, and of the code that makes them."""
    return _digest(_content(batch))


def lineage(batch: Batch) -> str:
    """The fingerprint less the replication count: batches of one lineage differ only in how
    many replications they run, and replication r is the same in all of them (its streams,
    and its posterior draw, do not depend on the count), so a folder may grow into another."""
    content = _content(batch)
    del content["replications"]
    if "draws" in content:
        content["draws"] = {k: v for k, v in content["draws"].items() if k not in ("rows", "draws")}
    return _digest(content)


def _content(batch: Batch) -> dict[str, Any]:
    return {
        "scenarios": [(name, scenario_hash(s)) for name, s in batch.scenarios],
        "replications": batch.replications,
        "root_seed": batch.root_seed,
        "chunk_size": batch.chunk_size,
        **({"checks": [repr(c) for c in batch.checks]} if batch.checks else {}),
        **({"draws": {**batch.draws.describe(), "rows": list(batch.draws.rows)}} if batch.draws else {}),
        "code": {k: v for k, v in code_version().items() if k != "git_modified"},
    }


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def code_version() -> dict[str, Any]:
    """The package version and, inside a git checkout, the commit and whether it was modified."""
    version: dict[str, Any] = {"package": __version__}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sim", "configs"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return version
    if commit.returncode == 0:
        version["git_commit"] = commit.stdout.strip()
        version["git_modified"] = bool(dirty.stdout.strip())
    return version


def environment() -> dict[str, Any]:
    """Python, the platform, and the installed version of every package the project uses
    (its dependencies and optional extras; None where one is not installed)."""
    versions = {}
    for name in _requirements():
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": versions}


def _requirements() -> list[str]:
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        declared = []
    names = [re.match(r"[A-Za-z0-9_.\-]+", req).group(0) for req in declared]
    return sorted(set(names) | set(REQUIRED), key=str.lower)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
