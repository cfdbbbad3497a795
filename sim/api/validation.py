"""Validation (``run.py validate``): a scenario scored against the public record, with naive
baselines; several scenarios side by side."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.baselines import MAIN_BASELINE, FitWindow, baseline_samples, fit_window
from sim.analysis.describe import write_description
from sim.analysis.display import Shown
from sim.analysis.html import write_html
from sim.analysis.side_by_side import (
    probability_table,
    scenario_stems,
    side_by_side_table,
    skill_summary,
    write_side_by_side,
)
from sim.analysis.tables import markdown_code
from sim.analysis.validation import (
    attack_families,
    dated_events,
    fan_chart,
    monthly_checks,
    monthly_tables,
    observed_per_month,
    score_checks,
    skill_line,
    summary_line,
    write_validation,
)
from sim.api.options import RUN_CHUNK_SIZE, BatchOptions, ValidationOptions
from sim.batch.cells import write_csv
from sim.batch.execution import BatchResult, run_batch
from sim.batch.folder import HeldLock, folder_of_folders, mark_complete, write_json
from sim.batch.manifest import code_version, environment, utc_now
from sim.calibration.event_record import DEFAULT_EVENTS, load_events
from sim.calibration.public_record import Observation, load_record
from sim.config.errors import UsageError
from sim.config.loader import input_files
from sim.config.loader import load_scenario as _load_scenario
from sim.config.scenario import Scenario
from sim.design.batch import Batch, Source
from sim.design.posterior import check_draws_apply, posterior_draws
from sim.project import shown_path


@dataclass(frozen=True, repr=False)
class ValidationResult(Shown):
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


ATTACK_FAMILIES = attack_families()  # the fan chart's families of attacks, from the threats' quarterly series


def validate(
    scenario_path: str | Path,
    record: str | Path,
    out: str | Path,
    options: ValidationOptions | None = None,
    batch: BatchOptions | None = None,
) -> ValidationResult:
    """Score a scenario against a public-record file (``run.py validate``): every observation
    within the scenario's horizon becomes a check of each replication; writes
    ``validation.md``, ``validation.html``, ``validation.csv``, ``plots/fan_chart.png`` and the batch's files.
    ``options`` (:class:`~sim.api.options.ValidationOptions`): replications, seed, overrides,
    the event record and a posterior; ``batch`` (:class:`~sim.api.options.BatchOptions`): how
    the batch runs. With ``options.parameters_from`` (a posterior file), replication r draws its
    parameters from it (a posterior predictive check). The naive baselines of
    :mod:`sim.analysis.baselines` are built from the record's fit window and the event record
    ``options.events`` (None: the project's, ``configs/data/events_2019_2020.csv``, if it is
    there; if not, no baseline is scored) and scored on every check as the model is, with the
    same number of replications."""
    scenario_path, record, out = Path(scenario_path), Path(record), Path(out)
    settings, options = options or ValidationOptions(), batch or BatchOptions()
    replications, seed, overrides, events = settings.replications, settings.seed, settings.overrides, settings.events
    scenario = _load_scenario(scenario_path, overrides)
    observations = load_record(record)
    fit, no_baseline = None, ""
    if events is None and not DEFAULT_EVENTS.exists():
        no_baseline = f"no baseline was scored: the event record {shown_path(DEFAULT_EVENTS)} is not there (--events)"
    else:
        events = Path(events) if events is not None else DEFAULT_EVENTS
        fit = fit_window(observations, load_events(events), str(record))
    draws = None
    if settings.parameters_from is not None:
        draws = posterior_draws(
            settings.parameters_from,
            replications,
            settings.replications_per_draw,
            seed,
            "--parameters-from",
            "command line",
        )
        check_draws_apply(draws, scenario, "--parameters-from", "command line")
    meta = scenario.scenario
    options = options.shown(replications)
    covered = [o for o in observations if meta.start_date <= o.check.start and o.check.end <= meta.end_date]
    skipped = [o for o in observations if o not in covered]
    monthly = monthly_checks(meta.start_date, meta.end_date, ATTACK_FAMILIES)
    spec = Batch(
        f"validation-{meta.name}",
        ((meta.name, scenario),),
        replications,
        seed,
        Source("validate", scenario_path, tuple(overrides)),
        (*input_files(scenario_path), record),
        RUN_CHUNK_SIZE,
        tuple(o.check for o in covered) + tuple(monthly),
        draws,
    )
    extra = {
        "record_file": shown_path(record),
        "checked": [o.check.id for o in covered],
        "skipped": [o.check.id for o in skipped],
        "events_file": shown_path(events) if fit is not None else None,
    }
    with HeldLock() as held:  # the batch, validation.csv, the fan chart and the report under one lock; complete last
        result = run_batch(spec, out, options.execution(), options.command, extra, analysed=True, held=held)
        return _validation_files(
            out, result, scenario, record, covered, skipped, monthly, fit, no_baseline, draws, replications, seed
        )


def _validation_files(
    out: Path,
    result: BatchResult,
    scenario: Scenario,
    record: Path,
    covered: list[Observation],
    skipped: list[Observation],
    monthly: list,
    fit: FitWindow | None,
    no_baseline: str,
    draws: Any,
    replications: int,
    seed: int,
) -> ValidationResult:
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
    fan = fan_chart(
        out / "plots" / "fan_chart.png",
        monthly_tables(result.runs, monthly),
        observed_per_month(covered, ATTACK_FAMILIES),
        dated_events(scenario),
        baseline_monthly,
        table,
    )
    over = f" over the posterior {draws.file}" if draws is not None else ""
    write_html(
        write_validation(out, table, skipped, f"{meta.name}{over} against {shown_path(record)}", fan, fit, no_baseline)
    )
    write_description(out, result.manifest, scenario)
    manifest = mark_complete(out, result.manifest)
    return ValidationResult(table, skipped, result.runs, result.failures, out, manifest, fit, no_baseline)


@dataclass(frozen=True, repr=False)
class SideBySideResult(Shown):
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
    options: ValidationOptions | None = None,
    batch: BatchOptions | None = None,
) -> SideBySideResult:
    """Validate several scenarios against one record and set them side by side (``run.py
    validate A B ...``): each as :func:`validate` does, with the same record and ``options``
    (events, seed, replications, overrides; no posterior) and ``batch``, into ``out/<file stem>/`` (a resumable validation
    folder each); then ``side_by_side.csv``, ``side_by_side.md`` and ``side_by_side.html`` in
    ``out`` (see :mod:`sim.analysis.side_by_side`). Two files of the same stem are refused, and
    every input is read before anything is written; ``out`` holds a manifest of its own, is
    locked while in use, and resumes when called again with the same arguments."""
    paths, record, out = [Path(p) for p in scenario_paths], Path(record), Path(out)
    if not paths:
        raise UsageError("validate needs at least one scenario file")
    settings, options = options or ValidationOptions(), batch or BatchOptions()
    if settings.parameters_from is not None or settings.replications_per_draw != 1:
        raise UsageError(
            "validate_many takes no posterior (parameters_from, replications_per_draw): validate one scenario with it"
        )
    replications, seed, overrides, events = settings.replications, settings.seed, settings.overrides, settings.events
    stems = scenario_stems(paths)
    for path in paths:  # bad input stops here, before any folder
        _load_scenario(path, overrides)
    observations = load_record(record)
    if events is not None or DEFAULT_EVENTS.exists():
        fit_window(observations, load_events(Path(events) if events is not None else DEFAULT_EVENTS), str(record))
    options = options.shown(replications * len(paths))  # one display for every scenario
    identity = {
        "scenarios": {stem: shown_path(path) for stem, path in zip(stems, paths)},
        "overrides": list(overrides),
        "record_file": shown_path(record),
        "events_file": shown_path(Path(events)) if events is not None else None,
        "root_seed": seed,
        "replications": replications,
    }
    manifest = {
        "kind": "side_by_side",
        "name": "side by side: " + ", ".join(stems),
        "command": list(options.command),
        **identity,
        "code_version": code_version(),
        "environment": environment(),
        "fingerprint": hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest(),
        "started_utc": utc_now(),
    }
    clock = time.perf_counter()
    with folder_of_folders(out, manifest):
        validations = {stem: validate(path, record, out / stem, settings, options) for stem, path in zip(stems, paths)}
        tables = {stem: result.table for stem, result in validations.items()}
        table, skills, probabilities = (
            side_by_side_table(observations, tables),
            skill_summary(tables),
            probability_table(observations, tables),
        )
        settings = ", ".join(markdown_code(o) for o in overrides) or "none"
        folders = ", ".join(
            f"{markdown_code(stem + '/validation.md')} ({markdown_code(shown_path(path))})"
            for stem, path in zip(stems, paths)
        )
        intro = [
            f"Each scenario validated as `run.py validate` does, with the same record ({markdown_code(shown_path(record))}), event "
            f"record, seed ({seed}), replications ({replications}) and overrides ({settings}); its own report is "
            f"in its folder: {folders}."
        ]
        skipped = {stem: [o.check.id for o in result.skipped] for stem, result in validations.items()}
        files = write_side_by_side(
            out,
            f"Side by side: {', '.join(stems)} against {shown_path(record)}",
            intro,
            table,
            skills,
            probabilities,
            skipped,
        )
        manifest = {
            **manifest,
            "status": "complete",
            "finished_utc": utc_now(),
            "elapsed_s": round(time.perf_counter() - clock, 3),
            "files": [f.name for f in files],
            "folders": {stem: f"{stem}/" for stem in stems},
        }
        write_description(out, manifest)
        write_json(out / "manifest.json", manifest)
    return SideBySideResult(validations, table, skills, probabilities, out, manifest)
