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

from sim.calibration.fit import (
    DEFAULT_PARAMETERS,
    Fit,
    FitParameter,
    Objective,
    Settings,
    current_values,
    fit,
)
from sim.project import CONFIGS, shown_path
from sim.analysis.compare import paired_differences, summarise_scenarios
from sim.config.loader import load_scenario as _load_scenario
from sim.design.parameters import Parameter
from sim.batch.execution import run_batch
from sim.design.experiment import Batch, Experiment, load_experiment
from sim.analysis.fit_report import (
    count_table,
    dispersion_table,
    markdown,
    parameter_table,
    plot_fit,
    write_calibrated,
)
from sim.calibration.observations import load_observations, select_quarters
from sim.config.provenance import sources
from sim.replication.simulate import event_log, event_table
from sim.analysis.report import sweep_plots, write_report
from sim.batch.runner import executor_for, run_replications
from sim.config.scenario import Scenario
from sim.design.sensitivity import sobol_indices
from sim.batch.folder import check_output_folder, write_atomic
from sim.analysis.summary import summarise_runs
from sim.design.sweep import SALTELLI, Sweep, load_sweep, point_table

DEFAULT_DATA = CONFIGS / "data" / "attacks_2020.csv"

__all__ = [
    "CalibrationResult", "Comparison", "ExperimentResult", "calibrate", "RunOptions", "SweepResult", "compare", "load_experiment", "load_scenario",
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
            {o: _sobol_or_nan(sweep.parameters, points[o], sweep.header.root_seed) for o in outcomes}, names=["outcome"]
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


@dataclass(frozen=True)
class CalibrationResult:
    fit: Fit
    counts: pd.DataFrame  # one row per observed count: observed, simulated mean, p05, p95, percentile
    dispersion: pd.DataFrame
    p_no_us_casualties: dict[str, float]  # per checked quarter
    parameters: pd.DataFrame
    runs: pd.DataFrame
    calibrated: Path


def calibrate(
    scenario_path: str | Path,
    out: str | Path,
    data: str | Path = DEFAULT_DATA,
    fit_quarters: Sequence[str] = ("Q1", "Q2", "Q3"),
    predict_quarters: Sequence[str] = (),
    seed: int = 1,
    workers: int | None = None,
    settings: Settings = Settings(),
    calibrated_path: str | Path | None = None,
    parameters: Sequence[FitParameter] = DEFAULT_PARAMETERS,
    options: RunOptions | None = None,
) -> CalibrationResult:
    """Fit ``parameters`` to the observed counts of ``fit_quarters`` (see
    :mod:`sim.calibration`), check the fit with ``settings.final_replications`` runs at the
    fitted values, report it in ``out`` and write the calibrated scenario file."""
    scenario_path, out, data = Path(scenario_path), Path(out), Path(data)
    options = options or RunOptions()
    check_output_folder(out)
    base = _load_scenario(scenario_path)
    observations = load_observations(data, base.scenario.calendar)
    fitted_rows = select_quarters(observations, list(fit_quarters), str(data))
    predicted_rows = select_quarters(observations, list(predict_quarters), str(data)) if predict_quarters else fitted_rows[:0]
    end = max(fitted_rows["end"].max(), predicted_rows["end"].max() if len(predicted_rows) else fitted_rows["end"].max())
    horizon = {"scenario.end_date": end}
    checks = observations[(observations["use"] == "check") & (observations["end"] <= end)]
    columns, observed = list(fitted_rows["column"]), fitted_rows["count"].to_numpy(float)
    with executor_for(workers) as executor:
        objective = Objective(scenario_path, horizon, parameters, columns, observed, settings, seed, executor)
        fitted = fit(objective, current_values(base, parameters), options.progress)
    final = _load_scenario(scenario_path, {**horizon, **fitted.values})
    batch = Batch("calibration", (("calibrated", final),), settings.final_replications, seed, 100)
    manifest = {"command": options.command, "scenario_file": str(scenario_path), "data_file": str(data),
                "fit": list(fit_quarters), "predict": list(predict_quarters), "fitted": fitted.values,
                "ci95_low": fitted.low, "ci95_high": fitted.high, "evaluations": fitted.evaluations}  # fmt: skip
    runs = run_batch(batch, out, workers, manifest=manifest).runs
    roles = {**{c: "fit" for c in columns}, **{c: "predict" for c in predicted_rows["column"]}}
    rows = pd.concat([fitted_rows, predicted_rows, checks])
    counts = count_table(rows, runs, roles)
    dispersion = dispersion_table(pd.concat([fitted_rows, predicted_rows]), runs)
    no_casualties = {f"{r.quarter}": float((runs[r.column] == 0).mean()) for r in checks.itertuples() if r.series == "us_casualties"}
    table = parameter_table(base, scenario_path, fitted, parameters)
    provenance = f"data {shown_path(data)} ({','.join(fit_quarters)}), seed {seed}, {settings.replications} replications per evaluation"
    documented = sources(scenario_path)
    units = {p.path: documented.get(p.path, ("-",))[0] for p in parameters}
    calibrated = Path(calibrated_path) if calibrated_path else out / "calibrated.toml"
    write_calibrated(calibrated, scenario_path, fitted, parameters, units, provenance)
    write_fit_files(out, counts, dispersion, no_casualties, table, fitted_rows, runs, fitted, provenance)
    return CalibrationResult(fitted, counts, dispersion, no_casualties, table, runs, calibrated)


def write_fit_files(out: Path, counts, dispersion, no_casualties, table, fitted_rows, runs, fitted, provenance) -> None:
    """fit_report.csv, fit_report.md, parameters.csv and fit.png."""
    write_atomic(out / "fit_report.csv", lambda p: counts.to_csv(p, index=False, float_format="%.6g"))
    write_atomic(out / "parameters.csv", lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    plot_fit(out / "fit.png", fitted_rows, runs)
    calibrated = table[table["status"].str.startswith("calibrated")]
    sections = [
        "# Calibration fit report", provenance,
        f"Synthetic log-likelihood at the fit: {fitted.log_likelihood:.3f} ({fitted.evaluations} evaluations).",
        "## Observed and simulated counts\n\n" + markdown(counts),
        "## Quarter-to-quarter dispersion (variance / mean; Poisson = 1)\n\n" + markdown(dispersion),
        "## Qualitative check\n\n" + "\n".join(f"P(no U.S. casualties in {q}) = {p:.3f}" for q, p in no_casualties.items()),
        "## Calibrated parameters (95% intervals from the likelihood's curvature)\n\n" + markdown(calibrated),
        "## Every parameter\n\nSee parameters.csv: each is 'calibrated' or 'assumed (source)'.\n\n"
        + markdown(table[["parameter", "value", "unit", "status"]]),
        "![observed and simulated counts](fit.png)",
    ]  # fmt: skip
    write_atomic(out / "fit_report.md", lambda p: p.write_text("\n\n".join(sections) + "\n", encoding="utf-8"))


def _sobol_or_nan(parameters: Sequence[Parameter], outputs: pd.Series, seed: int) -> pd.DataFrame:
    """Sobol' indices of one outcome; NaN when the outcome never varies (nothing to apportion)."""
    if outputs.nunique(dropna=False) <= 1:
        index = pd.Index([p.path for p in parameters], name="parameter")
        return pd.DataFrame(float("nan"), index=index, columns=["S1", "S1_conf", "ST", "ST_conf"])
    return sobol_indices(parameters, outputs, seed)
