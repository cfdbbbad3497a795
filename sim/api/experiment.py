"""Experiments (``run.py experiment``, ``run.py compare``): scenarios compared under common random
numbers, run to a precision in stages, or over states of the world (robustness)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.clusters import draw_means, summarise_by_draw
from sim.analysis.compare import paired_differences
from sim.analysis.decision import decision_table, period_label, tradeoff_table
from sim.analysis.describe import write_description
from sim.analysis.display import Shown
from sim.analysis.html import write_html
from sim.analysis.precision import half_widths, precision_records, precision_section
from sim.analysis.report import write_report
from sim.analysis.robustness import Robustness, analyse_robustness
from sim.analysis.summary import summarise as _summarise
from sim.analysis.tidy import TidyRuns
from sim.analysis.uncertainty import parameter_uncertainty
from sim.api.options import BatchOptions, ExperimentOptions
from sim.batch.cells import write_csv
from sim.batch.execution import BatchResult, Execution, run_batch
from sim.batch.folder import ANALYSING, HeldLock, mark_complete, write_json
from sim.config.errors import UsageError
from sim.config.scenario import Scenario
from sim.design.batch import Batch
from sim.design.experiment import ExperimentFile, load_experiment
from sim.design.precision import Precision, precision_for
from sim.design.robustness import StatesDesign
from sim.replication.outcomes import better_direction, binary_outcomes


@dataclass(frozen=True)
class Comparison:
    summary: pd.DataFrame  # per scenario and outcome: mean, CI, quantiles, P(> 0)
    comparison: pd.DataFrame  # per scenario and outcome: paired difference from the reference
    uncertainty: pd.DataFrame | None = None  # over a posterior: Monte Carlo and parameter intervals
    decisions: pd.DataFrame | None = None  # per scenario and outcome: shares better/tied/worse, verdict, sentence


@dataclass(frozen=True, repr=False)
class ExperimentResult(Shown, TidyRuns):
    runs: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    failures: pd.DataFrame
    folder: Path
    manifest: dict
    uncertainty: pd.DataFrame | None = None  # over a posterior: Monte Carlo and parameter intervals side by side
    decisions: pd.DataFrame | None = None  # per scenario and outcome: shares better/tied/worse, verdict, sentence
    robustness: Robustness | None = None  # over states of the world: states, regret and satisficing, PRIM boxes


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
    options: ExperimentOptions | None = None,
    batch: BatchOptions | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment into ``out``, compare its scenarios and write the
    files of ``run.py experiment``: runs.parquet, failures.csv, summary.csv,
    comparison.csv, report.md, report.html (the report in one self-contained file) and plots/.

    ``options`` (:class:`~sim.api.options.ExperimentOptions`) may change the replications and
    ask for a precision; ``batch`` (:class:`~sim.api.options.BatchOptions`) says how the batch
    runs. With a precision (outcome -> absolute half-width, e.g. ``{"us_killed": 0.05}``) the
    replications double from the experiment's count until the 95% interval of every paired
    difference of those outcomes has at most that half-width, or ``max_replications`` (default
    8 times the start) is reached; see :mod:`sim.design.precision`. Replications 0..n-1 are
    those of a run of n, byte for byte; the manifest's ``precision`` records n and the
    half-widths reached. A robustness experiment (with states of the world)
    writes summary.csv (per option and state), states.csv, robustness.csv, boxes.csv and
    robustness.md instead of the comparison and its report; its ``comparison`` is the states
    table (paired differences from the reference in the same state)."""
    settings, execution = options or ExperimentOptions(), batch or BatchOptions()
    precision, max_replications = settings.precision, settings.max_replications
    if not isinstance(experiment, ExperimentFile):
        experiment = load_experiment(experiment, settings.replications)
    out = Path(out)
    execution = execution.shown(
        None if precision is not None else len(experiment.batch.scenarios) * experiment.batch.replications
    )
    extra = {
        "reference": experiment.header.reference,
        "outcomes": list(experiment.header.outcomes),
        "title": experiment.header.description or experiment.header.name,
        "period": outcome_period(experiment.batch.scenarios[0][1]),
    }  # every scenario counts the same days
    if experiment.robustness is not None:
        extra["robustness"] = experiment.robustness.describe()
    with HeldLock() as held:  # one lock from the first stage to the finished manifest
        record = None
        if precision is None:
            if max_replications is not None:
                raise UsageError(
                    "max_replications applies only to a run by precision: name the outcomes' half-widths too"
                )
            result = run_batch(
                experiment.batch, out, execution.execution(), execution.command, extra, analysed=True, held=held
            )
        elif experiment.robustness is not None:
            raise UsageError(f"{experiment.path}: --precision applies to experiments without states of the world")
        else:
            spec = precision_for(
                precision,
                max_replications,
                experiment.batch.replications,
                experiment.header.outcomes,
                len(experiment.batch.scenarios),
                str(experiment.path),
            )
            result, record = _run_to_precision(
                experiment, spec, out, execution.execution(), execution.command, extra, held
            )
        if experiment.robustness is not None:
            summary, robustness = analyse_states(out, result.runs, result.manifest)
            write_description(out, result.manifest, experiment)
            return ExperimentResult(
                result.runs,
                summary,
                robustness.states,
                result.failures,
                out,
                mark_complete(out, result.manifest),
                robustness=robustness,
            )
        comparison = analyse_folder(out, result.runs, {**result.manifest, **extra, "precision": record})
        write_description(out, result.manifest, experiment)
        return ExperimentResult(
            result.runs,
            comparison.summary,
            comparison.comparison,
            result.failures,
            out,
            mark_complete(out, result.manifest),
            comparison.uncertainty,
            comparison.decisions,
        )


def outcome_period(scenario: Scenario) -> str:
    """The days a scenario's outcomes count, both included: ``1 Oct 2020 - 30 Sep 2021``."""
    calendar = scenario.scenario.calendar
    return period_label(calendar.count_from or calendar.start, calendar.end)


def _run_to_precision(
    experiment: ExperimentFile,
    spec: Precision,
    out: Path,
    execution: Execution,
    command: tuple[str, ...],
    extra: dict,
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
    record = {
        "targets": dict(spec.half_widths),
        "max_replications": spec.max_replications,
        "stages": stages,
        "replications": stages[-1],
        "budget_exhausted": not bool(reached["reached"].all()),
        "half_widths": precision_records(reached),
    }
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


def analyse_folder(out: Path, runs: pd.DataFrame, manifest: dict) -> Comparison:
    """Write summary.csv, comparison.csv, decision.csv (the trade-off table), report.md (with
    plots) and report.html for a runs table, as its experiment's ``manifest`` describes it:
    ``reference`` (the scenario compared against), ``outcomes``, ``title`` (else ``name``),
    ``period`` (the days the outcomes count), ``parameters_from`` (over a posterior: the draws,
    and then uncertainty.csv too) and ``precision`` (for a run by precision, the record of it,
    which the report gives). The manifest of a finished experiment holds them all."""
    posterior, precision = manifest.get("parameters_from"), manifest.get("precision")
    reference, outcomes = manifest["reference"], manifest["outcomes"]
    per_draw = int(posterior["replications_per_draw"]) if posterior else 1
    comparison = compare(runs, reference, outcomes, per_draw)
    write_csv(out / "summary.csv", comparison.summary)
    write_csv(out / "comparison.csv", comparison.comparison)
    write_csv(out / "decision.csv", tradeoff_table(comparison.decisions, outcomes, binary_outcomes()))
    uncertainty = None
    if posterior:
        uncertainty = parameter_uncertainty(runs, reference, outcomes, posterior["replications_per_draw"])
        write_csv(out / "uncertainty.csv", uncertainty)
    title = manifest.get("title", manifest.get("name", "Experiment"))
    write_html(
        write_report(
            out,
            runs,
            comparison.summary,
            comparison.comparison,
            outcomes,
            reference,
            title,
            posterior=posterior,
            uncertainty=uncertainty,
            period=manifest.get("period", ""),
            preface=[precision_section(precision)] if precision else (),
        )
    )
    return Comparison(comparison.summary, comparison.comparison, uncertainty, comparison.decisions)


def analyse_states(out: Path, runs: pd.DataFrame, manifest: dict) -> tuple[pd.DataFrame, Robustness]:
    """Write summary.csv and the robustness files of a robustness experiment's folder, from its
    runs and the states its manifest describes."""
    design = StatesDesign.from_manifest(manifest["reference"], manifest["robustness"])
    summary = _summarise(runs, manifest["outcomes"])
    write_csv(out / "summary.csv", summary)
    robustness = analyse_robustness(
        runs,
        design,
        manifest["outcomes"],
        manifest["root_seed"],
        out,
        manifest.get("title", manifest.get("name", "Robustness")),
    )
    write_html(out / "robustness.md")
    return summary, robustness
