"""Sweeps (``run.py sweep``): a design of parameter values, its points and its sensitivity analysis."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.describe import write_description
from sim.analysis.display import Shown
from sim.analysis.figures import save_figure
from sim.analysis.sweep import point_table, sweep_context, sweep_figures
from sim.api.options import BatchOptions
from sim.batch.cells import write_csv
from sim.batch.execution import BatchResult, run_batch
from sim.batch.folder import HeldLock, mark_complete
from sim.config.loader import load_scenario as _load_scenario
from sim.config.scenario import Scenario
from sim.design.sweep import SweepFile, load_sweep
from sim.design.types import design_type

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn
    from matplotlib.figure import Figure


@dataclass(frozen=True, repr=False)
class SweepResult(Shown):
    points: pd.DataFrame  # one row per design point: parameters, outcome means and CIs
    sensitivity: pd.DataFrame | None  # from the design type's analysis (Sobol' indices for saltelli)
    runs: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    plots: int
    figures: dict[str, Figure] = dataclasses.field(default_factory=dict)  # by file name in plots/


def run_sweep(
    sweep: SweepFile | str | Path,
    out: str | Path,
    replications: int | None = None,
    batch: BatchOptions | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``: points.csv (one row per design point with
    outcome means and CIs), plots/, and what its design type analyses (``sensitivity.csv``).
    ``replications`` per design point instead of the file's (None: the file's; applies to a sweep
    given as a file); ``batch`` says how the batch runs (workers, scheduler, progress ...)."""
    if not isinstance(sweep, SweepFile):
        sweep = load_sweep(sweep, replications)
    options, out = (batch or BatchOptions()).shown(len(sweep.batch.scenarios) * sweep.batch.replications), Path(out)
    outcomes = list(sweep.header.outcomes)
    extra = {"design": sweep.header.design, "outcomes": outcomes}
    with HeldLock() as held:  # points, plots and sensitivity are written under the sweep's lock
        result = run_batch(sweep.batch, out, options.execution(), options.command, extra, analysed=True, held=held)
        return _sweep_files(sweep, out, result, outcomes)


def _sweep_files(sweep: SweepFile, out: Path, result: BatchResult, outcomes: list[str]) -> SweepResult:
    """Write a finished sweep's points.csv, plots and sensitivity.csv, then mark it complete."""
    points = point_table(sweep.design, result.runs, outcomes)
    write_csv(out / "points.csv", points)
    paths = [p.path for p in sweep.parameters]
    figures = sweep_figures(points, paths, outcomes, sweep_context(_sweep_base(sweep), paths, outcomes))
    for name, figure in figures.items():
        save_figure(figure, out / "plots" / name)
    analyse = design_type(sweep.header.design).analyse
    sensitivity = analyse(sweep.parameters, points, outcomes, sweep.header.root_seed) if analyse else None
    if sensitivity is not None:
        write_csv(out / "sensitivity.csv", sensitivity)
    write_description(out, result.manifest, sweep)
    manifest = mark_complete(out, result.manifest)
    return SweepResult(points, sensitivity, result.runs, result.failures, out, manifest, len(figures), figures)


def _sweep_base(sweep: SweepFile) -> Scenario:
    """The sweep's base scenario, with its horizon: where its parameters' base values come from."""
    end = {"scenario.end_date": sweep.header.end_date} if sweep.header.end_date else {}
    return _load_scenario(sweep.path.parent / sweep.header.base, end)
