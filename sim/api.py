"""The Python API: the command line's operations for notebooks and scripts, returning tables.

>>> from sim import api
>>> baseline = api.load_scenario("configs/baseline.toml", {"cram.kill_prob": 0.8})
>>> result = api.run_scenario(baseline, replications=100, seed=1)      # .runs: one row each
>>> result = api.run_experiment("configs/experiments/policy_comparison.toml", out="results/pc")
>>> result.comparison.query("outcome == 'us_killed'")                   # paired differences
>>> api.compare(result.runs, reference="continuity", outcomes=["us_killed"]).summary
>>> api.trace(baseline, replication=0, seed=1)                          # the event log

Every batch (a run, an experiment, a sweep, a calibration's check run) goes through one
execution path (:func:`sim.batch.execution.run_batch`): the same results folder, manifest and
failure rows whatever started it. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from sim.analysis.compare import paired_differences
from sim.analysis.fit_report import (
    count_table,
    dispersion_table,
    parameter_table,
    write_calibrated,
    write_fit_report,
)
from sim.analysis.report import write_report
from sim.analysis.summary import summarise as _summarise
from sim.analysis.sweep import point_table, sweep_plots
from sim.analysis.validation import (
    dated_events,
    fan_chart,
    monthly_checks,
    monthly_tables,
    observed_per_month,
    score_checks,
    summary_line,
    write_validation,
)
from sim.batch.execution import Execution, run_batch
from sim.batch.folder import check_output_folder, write_csv
from sim.batch.runner import executor_for
from sim.calibration.fit import (
    DEFAULT_PARAMETERS,
    Fit,
    FitParameter,
    Objective,
    Settings,
    current_values,
    fit,
)
from sim.calibration.observations import load_observations, select_quarters
from sim.calibration.public_record import Observation, load_record
from sim.config.loader import input_files
from sim.config.loader import load_scenario as _load_scenario
from sim.config.provenance import unit_of
from sim.config.scenario import Scenario
from sim.design.batch import Batch, Source, assignments
from sim.design.experiment import ExperimentFile, load_experiment
from sim.design.sweep import SweepFile, load_sweep
from sim.design.types import design_type
from sim.project import CONFIGS, shown_path
from sim.replication.simulate import event_log, event_table

DEFAULT_DATA = CONFIGS / "data" / "attacks_2020.csv"
RUN_CHUNK_SIZE = 25  # replications per task of a run: small enough to share a few hundred among workers

__all__ = [
    "CalibrationResult", "Comparison", "ExperimentResult", "RunOptions", "RunResult", "SweepResult", "calibrate",
    "compare", "load_experiment", "load_scenario", "load_sweep", "run_experiment", "run_scenario", "run_sweep",
    "FitRequest", "ValidationResult", "summarise", "trace", "validate",
]  # fmt: skip


@dataclass(frozen=True)
class RunOptions:
    """How a batch is run, beyond where: progress callback (receives replications done), stop
    at the first failure, and the command line recorded in the manifest."""

    progress: Callable[[int], None] | None = None
    fail_fast: bool = False
    command: tuple[str, ...] = ("python API",)


@dataclass(frozen=True)
class RunResult:
    runs: pd.DataFrame  # one row per replication: scenario, replication, seed, outcomes
    summary: pd.DataFrame  # per outcome: mean, CI, quantiles, P(> 0)
    failures: pd.DataFrame
    folder: Path | None
    manifest: dict


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
    sensitivity: pd.DataFrame | None  # from the design type's analysis (Sobol' indices for saltelli)
    runs: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    plots: int


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] = ()) -> Scenario:
    """A validated scenario; ``overrides`` by dotted path, as a dict or ``"key=value"`` strings."""
    return _load_scenario(path, overrides)


def _execution(workers: int | None, scheduler: str | None, options: RunOptions) -> Execution:
    return Execution(workers=workers, scheduler=scheduler, progress=options.progress, fail_fast=options.fail_fast)


def run_scenario(
    scenario: Scenario | str | Path,
    replications: int,
    seed: int = 1,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Replications 0 .. ``replications`` - 1 of one scenario (a batch of one scenario, as
    ``run.py run``); with ``out``, into a resumable results folder with ``summary.csv``.
    A scenario given as a file may take ``overrides`` (``"key=value"``, as ``--set``)."""
    options = options or RunOptions()
    if isinstance(scenario, Scenario):
        source, inputs = Source("run", Path("<scenario given in Python>")), ()
    else:
        path = Path(scenario)
        scenario = _load_scenario(path, overrides)
        source, inputs = Source("run", path, tuple(overrides)), tuple(input_files(path))
    batch = Batch(scenario.scenario.name, ((scenario.scenario.name, scenario),), replications, seed, source, inputs, RUN_CHUNK_SIZE)
    result = run_batch(batch, Path(out) if out is not None else None, _execution(workers, scheduler, options), options.command)
    summary = _summarise(result.runs)
    if out is not None:
        write_csv(Path(out) / "summary.csv", summary)
    return RunResult(result.runs, summary, result.failures, result.folder, result.manifest)


def summarise(runs: pd.DataFrame, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Per scenario and outcome: mean, CI, percentiles and P(> 0) (as ``summary.csv``)."""
    return _summarise(runs, outcomes)


def trace(scenario: Scenario | str | Path, replication: int = 0, seed: int = 1) -> pd.DataFrame:
    """The event log of one replication (as ``run.py trace``)."""
    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return event_table(event_log(scenario, replication, seed), scenario)


def compare(runs: pd.DataFrame, reference: str, outcomes: Sequence[str]) -> Comparison:
    """Summary and paired comparison of a runs table (as ``run.py compare``, without files)."""
    return Comparison(_summarise(runs, outcomes), paired_differences(runs, reference, outcomes))


def run_experiment(
    experiment: ExperimentFile | str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    replications: int | None = None,
    options: RunOptions | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment into ``out``, compare its scenarios and write the
    files of ``run.py experiment``: runs.parquet, failures.csv, summary.csv,
    comparison.csv, report.md and plots/."""
    if not isinstance(experiment, ExperimentFile):
        experiment = load_experiment(experiment, replications)
    options, out = options or RunOptions(), Path(out)
    extra = {"reference": experiment.header.reference, "outcomes": list(experiment.header.outcomes),
             "title": experiment.header.description or experiment.header.name}  # fmt: skip
    result = run_batch(experiment.batch, out, _execution(workers, scheduler, options), options.command, extra)
    comparison = analyse_folder(out, result.runs, extra["reference"], extra["outcomes"], extra["title"])
    return ExperimentResult(result.runs, comparison.summary, comparison.comparison, result.failures, out, result.manifest)


def analyse_folder(out: Path, runs: pd.DataFrame, reference: str, outcomes: list[str], title: str) -> Comparison:
    """Write summary.csv, comparison.csv and report.md (with plots) for a runs table."""
    comparison = compare(runs, reference, outcomes)
    write_csv(out / "summary.csv", comparison.summary)
    write_csv(out / "comparison.csv", comparison.comparison)
    write_report(out, runs, comparison.summary, comparison.comparison, outcomes, reference, title)
    return comparison


def run_sweep(
    sweep: SweepFile | str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    replications: int | None = None,
    options: RunOptions | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``: points.csv (one row per design point with
    outcome means and CIs), plots/, and what its design type analyses (``sensitivity.csv``)."""
    if not isinstance(sweep, SweepFile):
        sweep = load_sweep(sweep, replications)
    options, out = options or RunOptions(), Path(out)
    outcomes = list(sweep.header.outcomes)
    extra = {"design": sweep.header.design, "outcomes": outcomes}
    result = run_batch(sweep.batch, out, _execution(workers, scheduler, options), options.command, extra)
    points = point_table(sweep.design, result.runs, outcomes)
    write_csv(out / "points.csv", points)
    plots = sweep_plots(out, points, [p.path for p in sweep.parameters], outcomes)
    analyse = design_type(sweep.header.design).analyse
    sensitivity = analyse(sweep.parameters, points, outcomes, sweep.header.root_seed) if analyse else None
    if sensitivity is not None:
        write_csv(out / "sensitivity.csv", sensitivity)
    return SweepResult(points, sensitivity, result.runs, result.failures, out, result.manifest, len(plots))


@dataclass(frozen=True)
class ValidationResult:
    table: pd.DataFrame  # one row per observation checked: observed, simulated, percentile, inside, score
    skipped: list[Observation]  # observations outside the scenario's horizon
    runs: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict

    @property
    def summary(self) -> str:
        return summary_line(self.table)


ATTACK_FAMILIES = {"rocket_drone": ("attack_rocket", "attack_drone"), "convoy": ("attack_convoy",)}


def validate(
    scenario_path: str | Path,
    record: str | Path,
    out: str | Path,
    replications: int = 1000,
    seed: int = 1,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    options: RunOptions | None = None,
) -> ValidationResult:
    """Score a scenario against a public-record file (``run.py validate``): every observation
    within the scenario's horizon becomes a check of each replication; writes
    ``validation.md``, ``validation.csv``, ``plots/fan_chart.png`` and the batch's files."""
    scenario_path, record, out = Path(scenario_path), Path(record), Path(out)
    options = options or RunOptions()
    scenario = _load_scenario(scenario_path, overrides)
    observations = load_record(record)
    meta = scenario.scenario
    covered = [o for o in observations if meta.start_date <= o.check.start and o.check.end <= meta.end_date]
    skipped = [o for o in observations if o not in covered]
    monthly = monthly_checks(meta.start_date, meta.end_date, ATTACK_FAMILIES)
    batch = Batch(f"validation-{meta.name}", ((meta.name, scenario),), replications, seed,
                  Source("validate", scenario_path, tuple(overrides)), (*input_files(scenario_path), record),
                  RUN_CHUNK_SIZE, tuple(o.check for o in covered) + tuple(monthly))  # fmt: skip
    extra = {"record_file": shown_path(record), "checked": [o.check.id for o in covered], "skipped": [o.check.id for o in skipped]}
    result = run_batch(batch, out, _execution(workers, None, options), options.command, extra)
    table = score_checks(covered, result.runs)
    write_csv(out / "validation.csv", table)
    fan = fan_chart(out / "plots" / "fan_chart.png", monthly_tables(result.runs, monthly),
                    observed_per_month(covered, ATTACK_FAMILIES), dated_events(scenario))  # fmt: skip
    write_validation(out, table, skipped, f"{meta.name} against {shown_path(record)}", fan)
    return ValidationResult(table, skipped, result.runs, result.failures, out, result.manifest)


@dataclass(frozen=True)
class CalibrationResult:
    fit: Fit
    counts: pd.DataFrame  # one row per observed count: observed, simulated mean, p05, p95, percentile
    dispersion: pd.DataFrame
    p_no_us_casualties: dict[str, float]  # per checked quarter
    parameters: pd.DataFrame
    runs: pd.DataFrame
    calibrated: Path


@dataclass(frozen=True)
class FitRequest:
    """What a calibration fits: the data, the quarters fitted and those held back to predict."""

    data: Path = DEFAULT_DATA
    fit_quarters: tuple[str, ...] = ("Q1", "Q2", "Q3")
    predict_quarters: tuple[str, ...] = ()
    parameters: tuple[FitParameter, ...] = DEFAULT_PARAMETERS
    settings: Settings = Settings()


def calibrate(
    scenario_path: str | Path,
    out: str | Path,
    request: FitRequest = FitRequest(),
    seed: int = 1,
    workers: int | None = None,
    calibrated_path: str | Path | None = None,
    options: RunOptions | None = None,
) -> CalibrationResult:
    """Fit ``request.parameters`` to the observed counts of the fitted quarters (see
    :mod:`sim.calibration.fit`), check the fit with ``settings.final_replications`` runs at
    the fitted values, report it in ``out`` and write the calibrated scenario file."""
    scenario_path, out, data = Path(scenario_path), Path(out), Path(request.data)
    options, settings, parameters = options or RunOptions(), request.settings, request.parameters
    check_output_folder(out)
    base = _load_scenario(scenario_path)
    observations = load_observations(data, base.scenario.calendar)
    fitted_rows = select_quarters(observations, list(request.fit_quarters), str(data))
    predicted_rows = select_quarters(observations, list(request.predict_quarters), str(data)) if request.predict_quarters else fitted_rows[:0]
    end = max(fitted_rows["end"].max(), predicted_rows["end"].max() if len(predicted_rows) else fitted_rows["end"].max())
    horizon = {"scenario.end_date": end}
    checks = observations[(observations["use"] == "check") & (observations["end"] <= end)]
    columns, observed = list(fitted_rows["column"]), fitted_rows["count"].to_numpy(float)
    with executor_for(workers) as executor:
        objective = Objective(scenario_path, horizon, parameters, columns, observed, settings, seed, executor)
        fitted = fit(objective, current_values(base, parameters), options.progress)
    overrides = {**horizon, **fitted.values}
    final = _load_scenario(scenario_path, overrides)
    source = Source("calibration", scenario_path, assignments(overrides))
    batch = Batch("calibration", (("calibrated", final),), settings.final_replications, seed, source,
                  (*input_files(scenario_path), data))  # fmt: skip
    extra = {"data_file": shown_path(data), "fit": list(request.fit_quarters), "predict": list(request.predict_quarters),
             "fitted": fitted.values, "ci95_low": fitted.low, "ci95_high": fitted.high, "evaluations": fitted.evaluations}  # fmt: skip
    runs = run_batch(batch, out, Execution(workers=workers), options.command, extra).runs
    roles = {**{c: "fit" for c in columns}, **{c: "predict" for c in predicted_rows["column"]}}
    counts = count_table(pd.concat([fitted_rows, predicted_rows, checks]), runs, roles)
    dispersion = dispersion_table(pd.concat([fitted_rows, predicted_rows]), runs)
    no_casualties = {f"{r.quarter}": float((runs[r.column] == 0).mean()) for r in checks.itertuples() if r.series == "us_casualties"}
    table = parameter_table(base, scenario_path, fitted, parameters)
    provenance = (f"data {shown_path(data)} ({','.join(request.fit_quarters)}), seed {seed}, "
                  f"{settings.replications} replications per evaluation")  # fmt: skip
    units = {p.path: unit_of(Scenario, p.path) or "-" for p in parameters}
    calibrated = Path(calibrated_path) if calibrated_path else out / "calibrated.toml"
    write_calibrated(calibrated, scenario_path, fitted, parameters, units, provenance)
    write_fit_report(out, counts, dispersion, no_casualties, table, fitted_rows, runs, fitted, provenance)
    return CalibrationResult(fitted, counts, dispersion, no_casualties, table, runs, calibrated)
