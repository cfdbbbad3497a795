"""A batch: named scenarios x replications under one root seed, the unit the runner executes.

``run``, ``experiment``, ``sweep`` and a calibration's check run all become a batch; where it
came from (:class:`Source`) is kept so that a failed replication can be reproduced with one
``trace`` command, and every file read to make it is kept for the results' manifest.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from sim.config.limits import check_batch, check_seed
from sim.config.scenario import Scenario
from sim.design.posterior import Draws
from sim.replication.checks import Check

DEFAULT_CHUNK_SIZE = 100


@dataclass(frozen=True)
class Source:
    """The file a batch was made from and how: ``kind`` is ``run`` (a scenario file with
    ``overrides``), ``experiment``, ``sweep`` or ``calibration``."""

    kind: str
    file: Path
    overrides: tuple[str, ...] = ()

    def reproduce(self, scenario: str, replication: int, root_seed: int, draws: Draws | None = None) -> str:
        """The ``trace`` command that replays one replication of this batch (with the values
        it drew from a posterior, if it did)."""
        words = ["python", "run.py", "trace", str(self.file)]
        if self.kind in ("experiment", "sweep"):
            words += ["--scenario", scenario]
        drawn = assignments(draws.values_of(replication)) if draws is not None else ()
        for assignment in (*self.overrides, *drawn):
            words += ["--set", assignment]
        words += ["--seed", str(root_seed), "--replication", str(replication)]
        return shlex.join(words)


def assignments(overrides: Mapping[str, Any]) -> tuple[str, ...]:
    """Overrides as ``--set`` arguments (values in TOML syntax, as the TOML writer formats them)."""

    def toml(value: Any) -> str:
        plain = value.item() if hasattr(value, "item") else value  # a numpy scalar, as its Python value
        return tomli_w.dumps({"v": plain}).removeprefix("v = ").rstrip()

    return tuple(f"{key}={toml(value)}" for key, value in overrides.items())


@dataclass(frozen=True)
class Batch:
    """What the runner executes. Replication r of every scenario uses the same random
    streams (common random numbers); chunks of ``chunk_size`` replications are the tasks."""

    name: str
    scenarios: tuple[tuple[str, Scenario], ...]
    replications: int
    root_seed: int
    source: Source
    inputs: tuple[Path, ...] = ()  # every file read to make the batch
    chunk_size: int = DEFAULT_CHUNK_SIZE
    checks: tuple[Check, ...] = ()  # statistics of each replication's log, beside its outcomes
    draws: Draws | None = None  # parameters drawn from a posterior, per replication

    def __post_init__(self) -> None:
        # every way of making a batch (files, the command line, the Python API) meets these
        # bounds before anything is planned or written
        check_seed(self.root_seed, "root seed", str(self.source.file))
        check_batch(len(self.scenarios), self.replications, str(self.source.file))

    def reproduce(self, scenario: str, replication: int) -> str:
        """The ``trace`` command that replays one replication."""
        return self.source.reproduce(scenario, replication, self.root_seed, self.draws)
