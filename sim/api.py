"""A Python API that mirrors the command line, for notebooks and scripts.

>>> from sim import api
>>> baseline = api.load_scenario("configs/baseline.toml", {"cram.kill_prob": 0.8})
>>> runs = api.run_scenario(baseline, replications=100, seed=1)        # DataFrame, one row each
>>> result = api.run_experiment("configs/experiments/policy_comparison.toml", out="results/pc")
>>> result.comparison.query("outcome == 'us_killed'")                   # paired differences
>>> api.compare(result.runs, reference="continuity", outcomes=["us_killed"]).summary
>>> api.trace(baseline, replication=0, seed=1)                          # the event log

Every function returns pandas DataFrames; none prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .compare import paired_differences, summarise_scenarios
from .config import load_scenario as _load_scenario
from .execution import run_batch
from .experiment import Experiment, load_experiment
from .replication import event_log
from .report import sweep_plots, write_report
from .runner import run_replications
from .scenario import Scenario
from .sensitivity import sobol_indices
from .storage import write_atomic
from .summary import summarise_runs
from .sweep import SALTELLI, Sweep, load_sweep, point_table

__all__ = [
    "Comparison", "ExperimentResult", "RunOptions", "SweepResult", "compare", "load_experiment", "load_scenario",
    "load_sweep", "run_experiment", "run_scenario", "run_sweep", "summarise", "trace",
]  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    summary: pd.DataFrame  # per scenario and outcome: mean, CI, quantiles, P(> 0)
    comparison: pd.DataFrame  # per scenario and outcome: paired difference from the reference


@dataclass(frozen=True)
class ExperimentResult:
    runs: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict


@dataclass(frozen=True)
class SweepResult:
    points: pd.DataFrame  # one row per design point: parameters, outcome means and CIs
    sensitivity: pd.DataFrame | None  # Sobol' indices (Saltelli designs only)
    runs: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    plots: int


@dataclass(frozen=True)
class RunOptions:
    """How a batch is run, beyond where: progress callback, stop at the first failure, and
    the command line recorded in the manifest."""

    progress: Callable[[int], None] | None = None
    fail_fast: bool = False
    command: tuple[str, ...] = ("python API",)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] = ()) -> Scenario:
    """A validated scenario; ``overrides`` by dotted path, as a dict or ``"key=value"`` strings."""
    return _load_scenario(path, overrides)


def run_scenario(scenario: Scenario | str | Path, replications: int, seed: int = 1, workers: int | None = None) -> pd.DataFrame:
    """One row of outcomes per replication (as ``run.py run``, without files)."""
    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return run_replications(scenario, replications, seed, workers)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """The summary table of ``run.py run``: mean, CI, percentiles and P(> 0) per outcome."""
    return summarise_runs(runs)


def trace(scenario: Scenario | str | Path, replication: int = 0, seed: int = 1) -> pd.DataFrame:
    """The event log of one replication (as ``run.py trace``)."""
    from .cli import event_table

    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return event_table(event_log(scenario, replication, seed), scenario)


def compare(runs: pd.DataFrame, reference: str, outcomes: Sequence[str]) -> Comparison:
    """Summary and paired comparison of a runs table (as ``run.py compare``, without files)."""
    return Comparison(summarise_scenarios(runs, outcomes), paired_differences(runs, reference, outcomes))


def run_experiment(
    experiment: Experiment | str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    replications: int | None = None,
    options: RunOptions | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment into ``out``, compare its scenarios and write the
    files of ``run.py experiment``: runs.parquet, failures.csv, summary.csv,
    comparison.csv, report.md and plots/."""
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment, replications)
    options = options or RunOptions()
    out = Path(out)
    manifest = {"command": options.command, "experiment_file": str(experiment.path),
                "experiment_text": experiment.text, "reference": experiment.reference,
                "outcomes": list(experiment.outcomes)}  # fmt: skip
    result = run_batch(experiment.batch, out, workers, scheduler, options.progress, options.fail_fast, manifest)
    write_failures(out, result.failures, experiment.path)
    title = experiment.header.description or experiment.header.name
    comparison = analyse_folder(out, result.runs, experiment.reference, list(experiment.outcomes), title)
    return ExperimentResult(result.runs, comparison.summary, comparison.comparison, result.failures, out, result.manifest)


def analyse_folder(out: Path, runs: pd.DataFrame, reference: str, outcomes: list[str], title: str) -> Comparison:
    """Write summary.csv, comparison.csv and report.md (with plots) for a runs table."""
    comparison = compare(runs, reference, outcomes)
    write_atomic(out / "summary.csv", lambda p: comparison.summary.to_csv(p, index=False, float_format="%.6g"))
    write_atomic(out / "comparison.csv", lambda p: comparison.comparison.to_csv(p, index=False, float_format="%.6g"))
    write_report(out, runs, comparison.summary, comparison.comparison, outcomes, reference, title)
    return comparison


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    replications: int | None = None,
    options: RunOptions | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``: points.csv (one row per design point with
    outcome means and CIs), plots/, and sensitivity.csv for a Saltelli design."""
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, replications)
    options = options or RunOptions()
    out = Path(out)
    outcomes = list(sweep.header.outcomes)
    manifest = {"command": options.command, "sweep_file": str(sweep.path), "sweep_text": sweep.text,
                "design": sweep.header.design, "outcomes": outcomes}  # fmt: skip
    result = run_batch(sweep.batch, out, workers, scheduler, options.progress, options.fail_fast, manifest)
    write_failures(out, result.failures, sweep.path)
    points = point_table(sweep.design, result.runs, outcomes)
    write_atomic(out / "points.csv", lambda p: points.to_csv(p, index=False, float_format="%.6g"))
    plots = sweep_plots(out, points, [p.path for p in sweep.parameters], outcomes)
    indices = None
    if sweep.header.design == SALTELLI:
        indices = pd.concat(
            {o: sobol_indices(sweep.parameters, points[o], sweep.header.root_seed) for o in outcomes}, names=["outcome"]
        ).reset_index()
        write_atomic(out / "sensitivity.csv", lambda p: indices.to_csv(p, index=False, float_format="%.6g"))
    return SweepResult(points, indices, result.runs, result.failures, out, result.manifest, len(plots))


def write_failures(out: Path, failures: pd.DataFrame, file: Path) -> None:
    """failures.csv: each failed replication with its seed, error and a command that reproduces it."""
    failures = failures.assign(
        reproduce=[f"python run.py trace {file} --scenario {s} --replication {r}"
                   for s, r in zip(failures["scenario"], failures["replication"])]  # fmt: skip
    )
    write_atomic(out / "failures.csv", lambda p: failures.to_csv(p, index=False))
