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

import dataclasses
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pandas as pd

from sim.analysis.clusters import draw_means, summarise_by_draw
from sim.analysis.compare import paired_differences
from sim.analysis.decision import decision_table, period_label, tradeoff_table
from sim.analysis.figures import save_figure
from sim.analysis.html import write_html
from sim.analysis.posterior import (
    correlations,
    effective_sample_size,
    marginal_plots,
    pair_plots,
    parameter_table,
    write_calibrated_scenario,
    write_posterior_report,
)
from sim.analysis.precision import half_widths, precision_records, precision_section
from sim.analysis.report import write_report
from sim.analysis.results import Results
from sim.analysis.results import load_results as _load_results
from sim.analysis.robustness import Robustness, analyse_robustness
from sim.analysis.side_by_side import (
    probability_table,
    scenario_stems,
    side_by_side_table,
    skill_summary,
    write_side_by_side,
)
from sim.analysis.summary import summarise as _summarise
from sim.analysis.tables import markdown_code, markdown_text
from sim.analysis.sweep import point_table, sweep_context, sweep_figures
from sim.analysis.uncertainty import parameter_uncertainty
from sim.analysis.validation import (
    dated_events,
    fan_chart,
    skill_line,
    monthly_checks,
    monthly_tables,
    observed_per_month,
    score_checks,
    summary_line,
    write_validation,
)
from sim.batch.execution import BatchResult, Execution, run_batch
from sim.batch.cells import write_csv
from sim.batch.folder import (
    ANALYSING, HeldLock, folder_of_folders, locked_folder, mark_complete, write_atomic, write_json,
)
from sim.batch.manifest import code_version, environment, utc_now
from sim.analysis.baselines import MAIN_BASELINE, FitWindow, baseline_samples, fit_window
from sim.calibration.event_record import DEFAULT_EVENTS, load_events
from sim.calibration.priors import read_sources
from sim.calibration.public_record import Observation, load_record
from sim.calibration.settings import load_calibration
from sim.config.errors import UsageError
from sim.config.limits import check_seed
from sim.config.loader import input_files
from sim.config.loader import load_scenario as _load_scenario
from sim.config.scenario import Scenario
from sim.design.batch import Batch, Source
from sim.design.experiment import ExperimentFile, load_experiment
from sim.design.posterior import check_draws_apply, posterior_draws
from sim.design.precision import Precision, precision_for
from sim.design.robustness import StatesDesign
from sim.design.sweep import SweepFile, load_sweep
from sim.design.types import design_type
from sim.project import CONFIGS, shown_path
from sim.replication.outcomes import better_direction, binary_outcomes
from sim.replication.simulate import event_log, event_table

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn; the inference imports pyabc, which only `calibrate` needs
    from matplotlib.figure import Figure

    from sim.calibration.inference import Inference

DEFAULT_CALIBRATION = CONFIGS / "calibration.toml"
RUN_CHUNK_SIZE = 25  # replications per task of a run: small enough to share a few hundred among workers

__all__ = [
    "CalibrationResult", "Comparison", "ExperimentResult", "RunOptions", "RunResult", "SweepResult", "calibrate",
    "compare", "load_experiment", "load_results", "load_scenario", "Results", "load_sweep", "run_experiment", "run_scenario", "run_sweep",
    "SideBySideResult", "ValidationResult", "summarise", "trace", "validate", "validate_many",
]  # fmt: skip


@dataclass(frozen=True)
class RunOptions:
    """How a batch is run, beyond where: progress callback (receives replications done), stop
    at the first failure, the command line recorded in the manifest, and how long a Dask
    scheduler has to answer."""

    progress: Callable[[int], None] | None = None
    fail_fast: bool = False
    command: tuple[str, ...] = ("python API",)
    scheduler_timeout_s: float = 5.0


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
    robustness: Robustness | None = None  # over states of the world: states, regret and satisficing, PRIM boxes


@dataclass(frozen=True)
class SweepResult:
    points: pd.DataFrame  # one row per design point: parameters, outcome means and CIs
    sensitivity: pd.DataFrame | None  # from the design type's analysis (Sobol' indices for saltelli)
    runs: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    plots: int
    figures: dict[str, Figure] = dataclasses.field(default_factory=dict)  # by file name in plots/


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] = ()) -> Scenario:
    """A validated scenario; ``overrides`` by dotted path, as a dict or ``"key=value"`` strings."""
    return _load_scenario(path, overrides)


def _execution(workers: int | None, scheduler: str | None, options: RunOptions) -> Execution:
    return Execution(workers=workers, scheduler=scheduler, progress=options.progress, fail_fast=options.fail_fast,
                     scheduler_timeout_s=options.scheduler_timeout_s)


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
    with HeldLock() as held:  # summary.csv is written under the run's lock
        result = run_batch(batch, Path(out) if out is not None else None, _execution(workers, scheduler, options),
                           options.command, analysed=True, held=held)  # fmt: skip
        summary, manifest = _summarise(result.runs), result.manifest
        if out is not None:
            write_csv(Path(out) / "summary.csv", summary)
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


def compare(runs: pd.DataFrame, reference: str, outcomes: Sequence[str], per_draw: int = 1) -> Comparison:
    """Summary, paired comparison and decision view of a runs table (as ``run.py compare``,
    without files). In an experiment over a posterior with ``per_draw`` > 1 replications per
    draw, every interval, test and share is computed over the draws (:mod:`sim.analysis.clusters`)."""
    units = runs if per_draw <= 1 else draw_means(runs, per_draw, outcomes)
    comparison = paired_differences(units, reference, outcomes)
    summary = summarise_by_draw(runs, per_draw, outcomes)
    return Comparison(summary, comparison, decisions=decision_table(comparison, better_direction, binary_outcomes()))


def run_experiment(
    experiment: ExperimentFile | str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    replications: int | None = None,
    options: RunOptions | None = None,
    precision: Mapping[str, float] | None = None,
    max_replications: int | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment into ``out``, compare its scenarios and write the
    files of ``run.py experiment``: runs.parquet, failures.csv, summary.csv,
    comparison.csv, report.md, report.html (the report in one self-contained file) and plots/.

    With ``precision`` (outcome -> absolute half-width, e.g. ``{"us_killed": 0.05}``) the
    replications double from the experiment's count until the 95% interval of every paired
    difference of those outcomes has at most that half-width, or ``max_replications`` (default
    8 times the start) is reached; see :mod:`sim.design.precision`. Replications 0..n-1 are
    those of a run of n, byte for byte; the manifest's ``precision`` records n and the
    half-widths reached. A robustness experiment (with states of the world)
    writes summary.csv (per option and state), states.csv, robustness.csv, boxes.csv and
    robustness.md instead of the comparison and its report; its ``comparison`` is the states
    table (paired differences from the reference in the same state)."""
    if not isinstance(experiment, ExperimentFile):
        experiment = load_experiment(experiment, replications)
    options, out = options or RunOptions(), Path(out)
    extra = {"reference": experiment.header.reference, "outcomes": list(experiment.header.outcomes),
             "title": experiment.header.description or experiment.header.name,
             "period": outcome_period(experiment.batch.scenarios[0][1])}  # every scenario counts the same days  # fmt: skip
    if experiment.robustness is not None:
        extra["robustness"] = experiment.robustness.describe()
    with HeldLock() as held:  # one lock from the first stage to the finished manifest
        record = None
        if precision is None:
            if max_replications is not None:
                raise UsageError("max_replications applies only to a run by precision: name the outcomes' half-widths too")
            result = run_batch(experiment.batch, out, _execution(workers, scheduler, options), options.command, extra,
                               analysed=True, held=held)  # fmt: skip
        elif experiment.robustness is not None:
            raise UsageError(f"{experiment.path}: --precision applies to experiments without states of the world")
        else:
            batch = experiment.batch
            spec = precision_for(precision, max_replications, batch.replications, experiment.header.outcomes,
                                 len(batch.scenarios), str(experiment.path))  # fmt: skip
            result, record = _run_to_precision(experiment, spec, out, _execution(workers, scheduler, options), options.command,
                                               extra, held)  # fmt: skip
        if experiment.robustness is not None:
            summary, robustness = analyse_states(out, result.runs, result.manifest)
            return ExperimentResult(result.runs, summary, robustness.states, result.failures, out, mark_complete(out, result.manifest),
                                    robustness=robustness)  # fmt: skip
        comparison = analyse_folder(out, result.runs, extra["reference"], extra["outcomes"], extra["title"],
                                    result.manifest.get("parameters_from"), record, extra["period"])  # fmt: skip
        return ExperimentResult(result.runs, comparison.summary, comparison.comparison, result.failures, out,
                                mark_complete(out, result.manifest), comparison.uncertainty, comparison.decisions)  # fmt: skip


def outcome_period(scenario: Scenario) -> str:
    """The days a scenario's outcomes count, both included: ``1 Oct 2020 - 30 Sep 2021``."""
    calendar = scenario.scenario.calendar
    return period_label(calendar.count_from or calendar.start, calendar.end)


def _run_to_precision(
    experiment: ExperimentFile, spec: Precision, out: Path, execution: Execution, command: tuple[str, ...], extra: dict,
    held: HeldLock | None = None,
) -> tuple[BatchResult, dict]:
    """Grow ``out`` stage by stage (the chunks of a stage are kept by the next) until the
    half-widths are reached or the budget runs out; the folder ends as a run of that count.
    With ``held``, the folder stays locked between the stages."""
    start, elapsed, stages, resumed = experiment.batch.replications, 0.0, [], None
    progress = _StageProgress(execution.progress) if execution.progress else None
    execution = dataclasses.replace(execution, progress=progress)
    for count in spec.stages(start):
        stages.append(count)
        if progress:
            progress.next_stage()
        batch = experiment.batch if count == start else _with_replications(experiment, count)
        result = run_batch(batch, out, execution, command, extra, grow=True, analysed=True, held=held)
        elapsed += result.manifest["elapsed_s"]
        resumed = result.manifest["chunks_resumed"] if resumed is None else resumed  # later stages keep their own
        per_draw = batch.draws.per_draw if batch.draws else 1
        units = result.runs if per_draw <= 1 else draw_means(result.runs, per_draw, list(spec.half_widths))
        reached = half_widths(paired_differences(units, extra["reference"], list(spec.half_widths)), spec.half_widths)
        if reached["reached"].all():
            break
    record = {"targets": dict(spec.half_widths), "max_replications": spec.max_replications, "stages": stages,
              "replications": stages[-1], "budget_exhausted": not bool(reached["reached"].all()),
              "half_widths": precision_records(reached)}  # fmt: skip
    manifest = {**result.manifest, "precision": record, "elapsed_s": round(elapsed, 3), "chunks_resumed": resumed}
    write_json(out / "manifest.json", {**manifest, "status": ANALYSING})  # complete once the report is written
    return dataclasses.replace(result, manifest=manifest), record


def _with_replications(experiment: ExperimentFile, count: int) -> Batch:
    """The experiment's batch with ``count`` replications (its posterior draws made again)."""
    if experiment.batch.draws is None:
        return dataclasses.replace(experiment.batch, replications=count)
    return load_experiment(experiment.path, count).batch


class _StageProgress:
    """A progress callback over successive stages: each stage reports all the replications it
    holds, those kept from the stage before included; the bar moves only past what it showed."""

    def __init__(self, progress: Callable[[int], None]) -> None:
        self.progress, self.shown, self.stage = progress, 0, 0

    def __call__(self, count: int) -> None:
        self.stage += count
        if self.stage > self.shown:
            self.progress(self.stage - self.shown)
            self.shown = self.stage

    def next_stage(self) -> None:
        self.stage = 0


def analyse_folder(
    out: Path,
    runs: pd.DataFrame,
    reference: str,
    outcomes: list[str],
    title: str,
    posterior: dict | None = None,
    precision: dict | None = None,
    period: str = "",
) -> Comparison:
    """Write summary.csv, comparison.csv, decision.csv (the trade-off table), report.md (with
    plots) and report.html for a runs table; over a posterior (``posterior``: the manifest's
    description of the draws) also uncertainty.csv; for a run by precision (``precision``: the
    manifest's record of it) the report says so. ``period`` names the days the outcomes count."""
    per_draw = int(posterior["replications_per_draw"]) if posterior else 1
    comparison = compare(runs, reference, outcomes, per_draw)
    write_csv(out / "summary.csv", comparison.summary)
    write_csv(out / "comparison.csv", comparison.comparison)
    write_csv(out / "decision.csv", tradeoff_table(comparison.decisions, outcomes, binary_outcomes()))
    uncertainty = None
    if posterior:
        uncertainty = parameter_uncertainty(runs, reference, outcomes, posterior["replications_per_draw"])
        write_csv(out / "uncertainty.csv", uncertainty)
    write_html(write_report(out, runs, comparison.summary, comparison.comparison, outcomes, reference, title,
                            posterior=posterior, uncertainty=uncertainty, period=period,
                            preface=[precision_section(precision)] if precision else ()))  # fmt: skip
    return Comparison(comparison.summary, comparison.comparison, uncertainty, comparison.decisions)


def load_results(folder: str | Path) -> Results:
    """A finished results folder of any kind the project writes (``run``, ``experiment``,
    ``sweep``, ``validate``, ``side_by_side``, ``calibration``): ``.kind``, ``.manifest``,
    ``.runs``, ``.summary``, ``.comparison``, ``.uncertainty``, ``.failures`` (None where the
    kind has none) and ``.tables`` (every table by name: ``points``, ``sensitivity``,
    ``validation``, ``side_by_side``, ``posterior``, ``parameters`` ...). A damaged, unfinished
    or foreign folder raises :class:`~sim.config.errors.UsageError` with one line saying why."""
    return _load_results(folder)
def analyse_states(out: Path, runs: pd.DataFrame, manifest: dict) -> tuple[pd.DataFrame, Robustness]:
    """Write summary.csv and the robustness files of a robustness experiment's folder, from its
    runs and the states its manifest describes."""
    design = StatesDesign.from_manifest(manifest["reference"], manifest["robustness"])
    summary = _summarise(runs, manifest["outcomes"])
    write_csv(out / "summary.csv", summary)
    robustness = analyse_robustness(runs, design, manifest["outcomes"], manifest["root_seed"], out,
                                    manifest.get("title", manifest.get("name", "Robustness")))  # fmt: skip
    write_html(out / "robustness.md")
    return summary, robustness


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
    with HeldLock() as held:  # points, plots and sensitivity are written under the sweep's lock
        result = run_batch(sweep.batch, out, _execution(workers, scheduler, options), options.command, extra,
                           analysed=True, held=held)  # fmt: skip
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
    manifest = mark_complete(out, result.manifest)
    return SweepResult(points, sensitivity, result.runs, result.failures, out, manifest, len(figures), figures)


def _sweep_base(sweep: SweepFile) -> Scenario:
    """The sweep's base scenario, with its horizon: where its parameters' base values come from."""
    end = {"scenario.end_date": sweep.header.end_date} if sweep.header.end_date else {}
    return _load_scenario(sweep.path.parent / sweep.header.base, end)


@dataclass(frozen=True)
class ValidationResult:
    table: pd.DataFrame  # one row per observation checked: observed, simulated, percentile, inside, score
    skipped: list[Observation]  # observations outside the scenario's horizon
    runs: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    fit: FitWindow | None = None  # what the baselines took from the fit window; None: no baseline scored
    no_baseline: str = ""  # why no baseline was scored

    @property
    def summary(self) -> str:
        return summary_line(self.table)

    @property
    def skill(self) -> str:
        """The held-out skill against each baseline, or why none was scored, in one line."""
        return skill_line(self.table) if self.fit is not None else self.no_baseline


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
    events: str | Path | None = None,
) -> ValidationResult:
    """Score a scenario against a public-record file (``run.py validate``): every observation
    within the scenario's horizon becomes a check of each replication; writes
    ``validation.md``, ``validation.html``, ``validation.csv``, ``plots/fan_chart.png`` and the batch's files.
    With ``parameters_from`` (a posterior file), replication r draws its parameters from it
    (a posterior predictive check). The naive baselines of :mod:`sim.analysis.baselines` are
    built from the record's fit window and the event record ``events`` (None: the project's,
    ``configs/data/events_2019_2020.csv``, if it is there; if not, no baseline is scored) and
    scored on every check as the model is, with the same number of replications."""
    scenario_path, record, out = Path(scenario_path), Path(record), Path(out)
    options = options or RunOptions()
    scenario = _load_scenario(scenario_path, overrides)
    observations = load_record(record)
    fit, no_baseline = None, ""
    if events is None and not DEFAULT_EVENTS.exists():
        no_baseline = f"no baseline was scored: the event record {shown_path(DEFAULT_EVENTS)} is not there (--events)"
    else:
        events = Path(events) if events is not None else DEFAULT_EVENTS
        fit = fit_window(observations, load_events(events), str(record))
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
    extra = {"record_file": shown_path(record), "checked": [o.check.id for o in covered], "skipped": [o.check.id for o in skipped],
             "events_file": shown_path(events) if fit is not None else None}  # fmt: skip
    with HeldLock() as held:  # the batch, validation.csv, the fan chart and the report under one lock; complete last
        result = run_batch(batch, out, _execution(workers, scheduler, options), options.command, extra, analysed=True,
                           held=held)  # fmt: skip
        return _validation_files(out, result, scenario, record, covered, skipped, monthly, fit, no_baseline, draws, replications,
                                 seed)  # fmt: skip


def _validation_files(
    out: Path, result: BatchResult, scenario: Scenario, record: Path, covered: list[Observation], skipped: list[Observation],
    monthly: list, fit: FitWindow | None, no_baseline: str, draws: Any, replications: int, seed: int,
) -> ValidationResult:  # fmt: skip
    """Write a finished validation's validation.csv, fan chart, validation.md and .html, then
    mark its folder complete."""
    meta = scenario.scenario
    samples, baseline_monthly = {}, None
    if fit is not None:
        samples = baseline_samples(fit, [o.check for o in covered], replications, seed)
        main = baseline_samples(fit, monthly, replications, seed, (MAIN_BASELINE,))[MAIN_BASELINE]
        baseline_monthly = monthly_tables(pd.DataFrame({c.column: main[c.id] for c in monthly}), monthly)
    table = score_checks(covered, result.runs, samples)
    write_csv(out / "validation.csv", table)
    fan = fan_chart(out / "plots" / "fan_chart.png", monthly_tables(result.runs, monthly),
                    observed_per_month(covered, ATTACK_FAMILIES), dated_events(scenario), baseline_monthly, table)  # fmt: skip
    over = f" over the posterior {draws.file}" if draws is not None else ""
    write_html(write_validation(out, table, skipped, f"{meta.name}{over} against {shown_path(record)}", fan, fit, no_baseline))
    manifest = mark_complete(out, result.manifest)
    return ValidationResult(table, skipped, result.runs, result.failures, out, manifest, fit, no_baseline)


@dataclass(frozen=True)
class SideBySideResult:
    validations: dict[str, ValidationResult]  # by scenario file stem, in the order given
    table: pd.DataFrame  # side_by_side.csv: per check of the record, each scenario's band, percentile, inside, score
    skills: pd.DataFrame  # per scenario and baseline: held-out skill, quiet-period skill, held-out checks inside
    probabilities: pd.DataFrame  # per 0/1 check: each scenario's P(event) with its 95% Wilson interval
    folder: Path
    manifest: dict


def validate_many(
    scenario_paths: Sequence[str | Path],
    record: str | Path,
    out: str | Path,
    replications: int = 1000,
    seed: int = 1,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    options: RunOptions | None = None,
    scheduler: str | None = None,
    events: str | Path | None = None,
) -> SideBySideResult:
    """Validate several scenarios against one record and set them side by side (``run.py
    validate A B ...``): each as :func:`validate` does, with the same record, events, seed,
    replications, overrides and workers, into ``out/<file stem>/`` (a resumable validation
    folder each); then ``side_by_side.csv``, ``side_by_side.md`` and ``side_by_side.html`` in
    ``out`` (see :mod:`sim.analysis.side_by_side`). Two files of the same stem are refused, and
    every input is read before anything is written; ``out`` holds a manifest of its own, is
    locked while in use, and resumes when called again with the same arguments."""
    paths, record, out = [Path(p) for p in scenario_paths], Path(record), Path(out)
    if not paths:
        raise UsageError("validate needs at least one scenario file")
    stems = scenario_stems(paths)
    options = options or RunOptions()
    for path in paths:  # bad input stops here, before any folder
        _load_scenario(path, overrides)
    observations = load_record(record)
    if events is not None or DEFAULT_EVENTS.exists():
        fit_window(observations, load_events(Path(events) if events is not None else DEFAULT_EVENTS), str(record))
    identity = {"scenarios": {stem: shown_path(path) for stem, path in zip(stems, paths)}, "overrides": list(overrides),
                "record_file": shown_path(record), "events_file": shown_path(Path(events)) if events is not None else None,
                "root_seed": seed, "replications": replications}  # fmt: skip
    manifest = {"kind": "side_by_side", "name": "side by side: " + ", ".join(stems), "command": list(options.command),
                **identity, "code_version": code_version(), "environment": environment(),
                "fingerprint": hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest(),
                "started_utc": utc_now()}  # fmt: skip
    clock = time.perf_counter()
    with folder_of_folders(out, manifest):
        validations = {
            stem: validate(path, record, out / stem, replications, seed, overrides, workers, options, scheduler=scheduler,
                           events=events)  # fmt: skip
            for stem, path in zip(stems, paths)
        }
        tables = {stem: result.table for stem, result in validations.items()}
        table, skills, probabilities = side_by_side_table(observations, tables), skill_summary(tables), probability_table(observations, tables)
        settings = ", ".join(markdown_code(o) for o in overrides) or "none"
        folders = ", ".join(f"{markdown_code(stem + '/validation.md')} ({markdown_code(shown_path(path))})" for stem, path in zip(stems, paths))
        intro = [f"Each scenario validated as `run.py validate` does, with the same record ({markdown_code(shown_path(record))}), event "
                 f"record, seed ({seed}), replications ({replications}) and overrides ({settings}); its own report is "
                 f"in its folder: {folders}."]  # fmt: skip
        skipped = {stem: [o.check.id for o in result.skipped] for stem, result in validations.items()}
        files = write_side_by_side(out, f"Side by side: {', '.join(stems)} against {shown_path(record)}", intro, table,
                                   skills, probabilities, skipped)  # fmt: skip
        manifest = {**manifest, "status": "complete", "finished_utc": utc_now(), "elapsed_s": round(time.perf_counter() - clock, 3),
                    "files": [f.name for f in files], "folders": {stem: f"{stem}/" for stem in stems}}  # fmt: skip
        write_json(out / "manifest.json", manifest)
    return SideBySideResult(validations, table, skills, probabilities, out, manifest)


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
    Writes, in ``out``: ``posterior.parquet``, ``posterior_report.md`` with its plots (and ``.html``),
    ``parameters.csv``, ``generations.csv``, ``predictive/``; and ``calibrated`` (a scenario of
    posterior medians) and, with ``install``, a copy of the posterior there. A stopped
    calibration resumes when called again with the same ``out``."""
    options = options or RunOptions()
    hold_out = tuple(hold_out)
    calibration_file = load_calibration(calibration, record, hold_out)
    for written, key in ((calibrated, "calibrated"), (install, "install")):
        if written is not None:
            calibration_file.check_not_read(written, key)  # an output must not replace an input or the replay
    if out is None:
        raise UsageError("calibrate needs a results folder (out)")
    out = Path(out)
    from sim.calibration.inference import check_calibration_folder

    check_calibration_folder(out)  # before the lock: a refused run changes nothing
    with locked_folder(out):  # one calibration at a time in a folder, from the pilot to the finished manifest
        return _calibrate_in(calibration_file, out, quick, hold_out, workers, scheduler, calibrated, install, options)


def _calibrate_in(
    calibration_file: Any, out: Path, quick: bool, hold_out: tuple[str, ...], workers: int | None, scheduler: str | None,
    calibrated: str | Path | None, install: str | Path | None, options: RunOptions,
) -> CalibrationResult:  # fmt: skip
    from sim.calibration.inference import run_inference

    inference = run_inference(calibration_file, out, quick, hold_out, workers, scheduler, options.progress, options.command)
    priors = calibration_file.priors
    screen = inference.pilot.screen.set_index("parameter")
    attainable = screen["attainable_width_ratio"].to_dict() if "attainable_width_ratio" in screen else {}
    table = parameter_table(priors, inference.values, inference.weights, inference.pilot.informed,
                            read_sources(calibration_file.path), attainable)  # fmt: skip
    write_csv(out / "parameters.csv", table)
    pairs = correlations(priors, inference.values, inference.weights)
    predictive = validate(
        calibration_file.replay_path, calibration_file.record_path, out / "predictive",
        inference.budget.predictive_replications, calibration_file.header.root_seed, workers=workers,
        options=RunOptions(None, False, options.command), parameters_from=inference.posterior_path, scheduler=scheduler,
    )  # fmt: skip
    fitted_ids, labels = {o.check.id for o in calibration_file.fitted}, {o.check.id: o.use for o in calibration_file.observations}
    predicted = predictive.table.assign(use=["fit" if c in fitted_ids else "held-out" if c in hold_out else labels.get(c, "held-out")
                                             for c in predictive.table["check"]])  # fmt: skip
    plots = {
        "marginals": marginal_plots(out / "plots" / "marginals.png", priors, inference.values, inference.weights, table),
        "pairs": pair_plots(out / "plots" / "pairs.png", priors, inference.values, inference.weights, pairs),
        "fan": out / "predictive" / "plots" / "fan_chart.png",
    }
    state = inference.progress
    informed = len(inference.pilot.informed)
    fitted_rows = [o for o in calibration_file.fitted if o.check.id in labels]
    overview = [
        f"Calibration file {markdown_code(shown_path(calibration_file.path))}: {len(priors)} parameters with priors; every other "
        f"parameter as in {markdown_code(shown_path(calibration_file.scenario_path))}.",
        f"Fitted: the {len(fitted_rows)} rows of {markdown_code(shown_path(calibration_file.record_path))} marked fit"
        + (f", less {markdown_text(', '.join(hold_out))} (held out)" if hold_out else "")
        + (f", and {len(calibration_file.fitted) - len(fitted_rows)} statistics of the event record "
           f"{markdown_code(shown_path(calibration_file.events_path))}" if calibration_file.events_path else "")
        + ", each measured on a simulation from "
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
    write_html(report)
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
