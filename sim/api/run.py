"""One scenario: load it, run its replications (``run.py run``), summarise them, trace one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.describe import write_description
from sim.analysis.display import Shown
from sim.analysis.summary import summarise as _summarise
from sim.api.options import RUN_CHUNK_SIZE, BatchOptions
from sim.batch.cells import write_csv
from sim.batch.execution import run_batch
from sim.batch.folder import HeldLock, mark_complete
from sim.config.limits import check_seed
from sim.config.loader import input_files
from sim.config.loader import load_scenario as _load_scenario
from sim.config.scenario import Scenario
from sim.design.batch import Batch, Source
from sim.replication.simulate import event_log, event_table


@dataclass(frozen=True, repr=False)
class RunResult(Shown):
    runs: pd.DataFrame  # one row per replication: scenario, replication, seed, outcomes
    summary: pd.DataFrame  # per outcome: mean, CI, quantiles, P(> 0)
    failures: pd.DataFrame
    folder: Path | None
    manifest: dict


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] = ()) -> Scenario:
    """A validated scenario; ``overrides`` by dotted path, as a dict or ``"key=value"`` strings."""
    return _load_scenario(path, overrides)


def run_scenario(
    scenario: Scenario | str | Path,
    replications: int,
    seed: int = 1,
    out: str | Path | None = None,
    *,
    overrides: Sequence[str] = (),
    batch: BatchOptions | None = None,
) -> RunResult:
    """Replications 0 .. ``replications`` - 1 of one scenario (a batch of one scenario, as
    ``run.py run``); with ``out``, into a resumable results folder with ``summary.csv``.
    A scenario given as a file may take ``overrides`` (``"key=value"``, as ``--set``);
    ``batch`` says how the batch runs (workers, scheduler, progress ...)."""
    options = batch or BatchOptions()
    if isinstance(scenario, Scenario):
        source, inputs = Source("run", Path("<scenario given in Python>")), ()
    else:
        path = Path(scenario)
        scenario = _load_scenario(path, overrides)
        source, inputs = Source("run", path, tuple(overrides)), tuple(input_files(path))
    spec = Batch(
        scenario.scenario.name,
        ((scenario.scenario.name, scenario),),
        replications,
        seed,
        source,
        inputs,
        RUN_CHUNK_SIZE,
    )
    options = options.shown(replications)
    with HeldLock() as held:  # summary.csv is written under the run's lock
        result = run_batch(
            spec, Path(out) if out is not None else None, options.execution(), options.command, analysed=True, held=held
        )
        summary, manifest = _summarise(result.runs), result.manifest
        if out is not None:
            write_csv(Path(out) / "summary.csv", summary)
            write_description(Path(out), manifest, scenario)
            manifest = mark_complete(Path(out), manifest)
    return RunResult(result.runs, summary, result.failures, result.folder, manifest)


def summarise(runs: pd.DataFrame, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Per scenario and outcome: mean, CI, percentiles and P(> 0) (as ``summary.csv``)."""
    return _summarise(runs, outcomes)


def trace(scenario: Scenario | str | Path, replication: int = 0, seed: int = 1) -> pd.DataFrame:
    """The event log of one replication (as ``run.py trace``)."""
    check_seed(seed, "seed", "trace")
    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return event_table(event_log(scenario, replication, seed), scenario)
