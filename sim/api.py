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

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pandas as pd

from sim.analysis.compare import paired_differences
from sim.analysis.decision import decision_table, period_label, tradeoff_table
from sim.analysis.posterior import (
    correlations,
    effective_sample_size,
    marginal_plots,
    pair_plots,
    parameter_table,
    write_calibrated_scenario,
    write_posterior_report,
)
from sim.analysis.report import write_report
from sim.analysis.summary import summarise as _summarise
from sim.analysis.sweep import point_table, sweep_plots
from sim.analysis.uncertainty import parameter_uncertainty
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
from sim.batch.folder import write_atomic, write_csv, write_json
from sim.calibration.priors import read_sources
from sim.calibration.public_record import Observation, load_record
from sim.calibration.settings import load_calibration
from sim.config.errors import UsageError
from sim.config.loader import input_files
from sim.config.loader import load_scenario as _load_scenario
from sim.config.scenario import Scenario
from sim.design.batch import Batch, Source
from sim.design.experiment import ExperimentFile, load_experiment
from sim.design.posterior import check_draws_apply, posterior_draws
from sim.design.sweep import SweepFile, load_sweep
from sim.design.types import design_type
from sim.project import CONFIGS, shown_path
from sim.replication.outcomes import better_direction, binary_outcomes
from sim.replication.simulate import event_log, event_table

if TYPE_CHECKING:  # the inference imports pyabc, which takes seconds: only `calibrate` needs it
    from sim.calibration.inference import Inference

DEFAULT_CALIBRATION = CONFIGS / "calibration.toml"
RUN_CHUNK_SIZE = 25  # replications per task of a run: small enough to share a few hundred among workers

__all__ = [
    "CalibrationResult", "Comparison", "ExperimentResult", "RunOptions", "RunResult", "SweepResult", "calibrate",
    "compare", "load_experiment", "load_scenario", "load_sweep", "run_experiment", "run_scenario", "run_sweep",
    "ValidationResult", "summarise", "trace", "validate",
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
    uncertainty: pd.DataFrame | None = None  # over a posterior: Monte Carlo and parameter intervals
    decisions: pd.DataFrame | None = None  # per scenario and outcome: shares better/tied/worse, verdict, sentence


@dataclass(frozen=True)
class ExperimentResult:
    runs: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    uncertainty: pd.DataFrame | None = None  # over a posterior: Monte Carlo and parameter intervals side by side
    decisions: pd.DataFrame | None = None  # per scenario and outcome: shares better/tied/worse, verdict, sentence


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
    """Summary, paired comparison and decision view of a runs table (as ``run.py compare``,
    without files)."""
    comparison = paired_differences(runs, reference, outcomes)
    return Comparison(_summarise(runs, outcomes), comparison, decisions=decision_table(comparison, better_direction, binary_outcomes()))


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
             "title": experiment.header.description or experiment.header.name,
             "period": outcome_period(dict(experiment.batch.scenarios)[experiment.header.reference])}  # fmt: skip
    result = run_batch(experiment.batch, out, _execution(workers, scheduler, options), options.command, extra)
    comparison = analyse_folder(out, result.runs, extra["reference"], extra["outcomes"], extra["title"],
                                result.manifest.get("parameters_from"), extra["period"])  # fmt: skip
    return ExperimentResult(result.runs, comparison.summary, comparison.comparison, result.failures, out, result.manifest,
                            comparison.uncertainty, comparison.decisions)  # fmt: skip


def outcome_period(scenario: Scenario) -> str:
    """The days a scenario's outcomes count, both included: ``1 Oct 2020 - 30 Sep 2021``."""
    calendar = scenario.scenario.calendar
    return period_label(calendar.count_from or calendar.start, calendar.end)


def analyse_folder(
    out: Path,
    runs: pd.DataFrame,
    reference: str,
    outcomes: list[str],
    title: str,
    posterior: dict | None = None,
    period: str = "",
) -> Comparison:
    """Write summary.csv, comparison.csv, decision.csv (the trade-off table) and report.md (with
    plots) for a runs table; over a posterior (``posterior``: the manifest's description of the
    draws) also uncertainty.csv. ``period`` names the days the outcomes count in the plots."""
    comparison = compare(runs, reference, outcomes)
    write_csv(out / "summary.csv", comparison.summary)
    write_csv(out / "comparison.csv", comparison.comparison)
    write_csv(out / "decision.csv", tradeoff_table(comparison.decisions, outcomes, binary_outcomes()))
    uncertainty = None
    if posterior:
        uncertainty = parameter_uncertainty(runs, reference, outcomes, posterior["replications_per_draw"])
        write_csv(out / "uncertainty.csv", uncertainty)
    write_report(out, runs, comparison.summary, comparison.comparison, outcomes, reference, title,
                 posterior=posterior, uncertainty=uncertainty, period=period)  # fmt: skip
    return Comparison(comparison.summary, comparison.comparison, uncertainty, comparison.decisions)


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
    parameters_from: str | Path | None = None,
    replications_per_draw: int = 1,
    scheduler: str | None = None,
) -> ValidationResult:
    """Score a scenario against a public-record file (``run.py validate``): every observation
    within the scenario's horizon becomes a check of each replication; writes
    ``validation.md``, ``validation.csv``, ``plots/fan_chart.png`` and the batch's files.
    With ``parameters_from`` (a posterior file), replication r draws its parameters from it
    (a posterior predictive check)."""
    scenario_path, record, out = Path(scenario_path), Path(record), Path(out)
    options = options or RunOptions()
    scenario = _load_scenario(scenario_path, overrides)
    observations = load_record(record)
    draws = None
    if parameters_from is not None:
        draws = posterior_draws(parameters_from, replications, replications_per_draw, seed, "--parameters-from", "command line")
        check_draws_apply(draws, scenario, "--parameters-from", "command line")
    meta = scenario.scenario
    covered = [o for o in observations if meta.start_date <= o.check.start and o.check.end <= meta.end_date]
    skipped = [o for o in observations if o not in covered]
    monthly = monthly_checks(meta.start_date, meta.end_date, ATTACK_FAMILIES)
    batch = Batch(f"validation-{meta.name}", ((meta.name, scenario),), replications, seed,
                  Source("validate", scenario_path, tuple(overrides)), (*input_files(scenario_path), record),
                  RUN_CHUNK_SIZE, tuple(o.check for o in covered) + tuple(monthly), draws)  # fmt: skip
    extra = {"record_file": shown_path(record), "checked": [o.check.id for o in covered], "skipped": [o.check.id for o in skipped]}
    result = run_batch(batch, out, _execution(workers, scheduler, options), options.command, extra)
    table = score_checks(covered, result.runs)
    write_csv(out / "validation.csv", table)
    fan = fan_chart(out / "plots" / "fan_chart.png", monthly_tables(result.runs, monthly),
                    observed_per_month(covered, ATTACK_FAMILIES), dated_events(scenario))  # fmt: skip
    over = f" over the posterior {draws.file}" if draws is not None else ""
    write_validation(out, table, skipped, f"{meta.name}{over} against {shown_path(record)}", fan)
    return ValidationResult(table, skipped, result.runs, result.failures, out, result.manifest)


@dataclass(frozen=True)
class CalibrationResult:
    inference: Inference  # the folder, the pilot, the posterior particles and weights, the generations
    parameters: pd.DataFrame  # per parameter: prior, posterior median and 90% interval, moved or not
    correlations: pd.DataFrame  # pairs of parameters, strongest posterior correlation first
    predictive: ValidationResult  # every row of the record over the posterior
    calibrated: Path  # the scenario file of posterior medians
    installed: Path | None  # where the posterior was copied for the project's experiments
    report: Path


def calibrate(
    calibration: str | Path = DEFAULT_CALIBRATION,
    out: str | Path | None = None,
    quick: bool = False,
    record: str | Path | None = None,
    hold_out: Sequence[str] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    calibrated: str | Path | None = None,
    install: str | Path | None = None,
    options: RunOptions | None = None,
) -> CalibrationResult:
    """Bayesian calibration (``run.py calibrate``, see :mod:`sim.calibration`): ABC-SMC over the
    priors of the calibration file against the record's fitted rows (``hold_out`` keeps some
    out, to predict them), then the posterior predictive check of every row of the record.
    Writes, in ``out``: ``posterior.parquet``, ``posterior_report.md`` with its plots,
    ``parameters.csv``, ``generations.csv``, ``predictive/``; and ``calibrated`` (a scenario of
    posterior medians) and, with ``install``, a copy of the posterior there. A stopped
    calibration resumes when called again with the same ``out``."""
    options = options or RunOptions()
    hold_out = tuple(hold_out)
    calibration_file = load_calibration(calibration, record, hold_out)
    if out is None:
        raise UsageError("calibrate needs a results folder (out)")
    out = Path(out)
    from sim.calibration.inference import run_inference

    inference = run_inference(calibration_file, out, quick, hold_out, workers, scheduler, options.progress, options.command)
    priors = calibration_file.priors
    table = parameter_table(priors, inference.values, inference.weights, inference.pilot.informed,
                            read_sources(calibration_file.path))  # fmt: skip
    write_csv(out / "parameters.csv", table)
    pairs = correlations(priors, inference.values, inference.weights)
    predictive = validate(
        calibration_file.replay_path, calibration_file.record_path, out / "predictive",
        inference.budget.predictive_replications, calibration_file.header.root_seed, workers=workers,
        options=RunOptions(None, False, options.command), parameters_from=inference.posterior_path, scheduler=scheduler,
    )  # fmt: skip
    predicted = predictive.table.assign(use=["fit" if c in {o.check.id for o in calibration_file.fitted} else "held-out"
                                             for c in predictive.table["check"]])  # fmt: skip
    plots = {
        "marginals": marginal_plots(out / "plots" / "marginals.png", priors, inference.values, inference.weights, table),
        "pairs": pair_plots(out / "plots" / "pairs.png", priors, inference.values, inference.weights, pairs),
        "fan": out / "predictive" / "plots" / "fan_chart.png",
    }
    state = inference.progress
    informed = len(inference.pilot.informed)
    overview = [
        f"Calibration file `{shown_path(calibration_file.path)}`: {len(priors)} parameters with priors; every other "
        f"parameter as in `{shown_path(calibration_file.scenario_path)}`.",
        f"Fitted: the {len(calibration_file.fitted)} rows of `{shown_path(calibration_file.record_path)}` marked fit"
        + (f", less {', '.join(hold_out)} (held out)" if hold_out else "") + ", each measured on a simulation from "
        f"{calibration_file.scenario.scenario.start_date} to {calibration_file.scenario.scenario.end_date}.",
        f"ABC-SMC (pyabc {pyabc_version()}): {inference.budget.particles} particles per generation, threshold the "
        f"{inference.budget.epsilon_quantile:g} quantile of the last generation's distances; {informed} parameters "
        f"perturbed, {len(priors) - informed} drawn from their priors in every generation.",
        f"Ran {state.generations} generations and {state.simulations} simulations (root seed "
        f"{calibration_file.header.root_seed}{', --quick' if quick else ''}); stopped by {state.reason}.",
        f"Posterior: {len(inference.weights)} weighted particles, effective sample size "
        f"{effective_sample_size(inference.weights):.0f}, in `posterior.parquet`.",
    ]
    title = f"Posterior of {calibration_file.header.name}" + (" (--quick)" if quick else "")
    report = write_posterior_report(out, title, overview, table, inference.generations, inference.pilot.summary.table(),
                                    inference.pilot.threshold, pairs, predicted, summary_line(predicted), plots)  # fmt: skip
    calibrated_path = Path(calibrated) if calibrated is not None else out / "calibrated.toml"
    installed = Path(install) if install is not None else None
    if installed is not None:
        installed.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(installed, lambda p: shutil.copyfile(inference.posterior_path, p))
    provenance = (f"ABC-SMC on the fit rows of {shown_path(calibration_file.record_path)}, {state.generations} generations "
                  f"of {inference.budget.particles} particles, seed {calibration_file.header.root_seed}"
                  + (", --quick" if quick else ""))  # fmt: skip
    write_calibrated_scenario(calibrated_path, calibration_file.scenario_path, table, provenance,
                              installed if installed is not None else inference.posterior_path)  # fmt: skip
    write_json(out / "manifest.json", {**inference.manifest, "status": "complete", "calibrated": shown_path(calibrated_path),
                                       "installed": shown_path(installed) if installed else None})  # fmt: skip
    return CalibrationResult(inference, table, pairs, predictive, calibrated_path, installed, report)


def pyabc_version() -> str:
    from importlib import metadata

    return metadata.version("pyabc")
