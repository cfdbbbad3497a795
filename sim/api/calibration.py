"""Bayesian calibration (``run.py calibrate``): the posterior of the disputed parameters, given
the public record, with its report and its posterior predictive check.

pyabc (and SQLAlchemy, its history store) load only when a calibration runs: importing this
module, or :mod:`sim.api`, does not need them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis.describe import write_description
from sim.analysis.display import Shown
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
from sim.analysis.tables import markdown_code, markdown_text
from sim.analysis.validation import summary_line
from sim.api.options import BatchOptions, CalibrationOptions, ValidationOptions
from sim.api.validation import ValidationResult, validate
from sim.batch.cells import write_csv
from sim.batch.folder import locked_folder, write_atomic, write_json
from sim.calibration.priors import read_sources
from sim.calibration.settings import load_calibration
from sim.config.errors import UsageError
from sim.project import CALIBRATION_METHODS, DEFAULT_CALIBRATION, shown_path

if TYPE_CHECKING:  # the inference imports pyabc, which only a calibration needs
    from sim.calibration.inference import Inference


@dataclass(frozen=True, repr=False)
class CalibrationResult(Shown):
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
    options: CalibrationOptions | None = None,
    batch: BatchOptions | None = None,
) -> CalibrationResult:
    """Bayesian calibration (``run.py calibrate``, see :mod:`sim.calibration`): ABC-SMC over the
    priors of the calibration file against the record's fitted rows (``options.hold_out`` keeps
    some out, to predict them), then the posterior predictive check of every row of the record.
    Writes, in ``out``: ``posterior.parquet``, ``posterior_report.md`` with its plots (and ``.html``),
    ``parameters.csv``, ``generations.csv``, ``predictive/``; and ``options.calibrated`` (a scenario
    of posterior medians) and, with ``options.install``, a copy of the posterior there. A stopped
    calibration resumes when called again with the same ``out``. ``options``
    (:class:`~sim.api.options.CalibrationOptions`): the budget, record, held-out rows and where
    the outputs go; ``batch`` (:class:`~sim.api.options.BatchOptions`): workers, scheduler,
    progress (per simulation) and the command recorded (``fail_fast`` and the scheduler timeout
    do not apply to the inference)."""
    settings, options = options or CalibrationOptions(), batch or BatchOptions()
    hold_out = tuple(settings.hold_out)
    calibration_file = load_calibration(calibration, settings.record, hold_out)
    for written, key in ((settings.calibrated, "calibrated"), (settings.install, "install")):
        if written is not None:
            calibration_file.check_not_read(written, key)  # an output must not replace an input or the replay
    if out is None:
        raise UsageError("calibrate needs a results folder (out)")
    if settings.method not in CALIBRATION_METHODS:
        raise UsageError(
            f"calibration method {settings.method!r} is unknown: use one of {', '.join(CALIBRATION_METHODS)}"
        )
    if settings.method == "npe":
        import sim.calibration.npe  # noqa: F401  (a missing 'npe' extra stops here, before any folder or pilot)
    out = Path(out)
    from sim.calibration.inference import check_calibration_folder

    check_calibration_folder(out)  # before the lock: a refused run changes nothing
    options = options.shown(calibration_file.budget(settings.quick).counted(settings.method), "sim")
    with locked_folder(out):  # one calibration at a time in a folder, from the pilot to the finished manifest
        return _calibrate_in(calibration_file, out, settings, options)


def _calibrate_in(
    calibration_file: Any, out: Path, settings: CalibrationOptions, options: BatchOptions
) -> CalibrationResult:
    from sim.calibration.inference import run_inference

    quick, hold_out, calibrated, install = (
        settings.quick,
        tuple(settings.hold_out),
        settings.calibrated,
        settings.install,
    )
    workers, scheduler = options.workers, options.scheduler
    inference = run_inference(
        calibration_file,
        out,
        quick,
        hold_out,
        workers,
        scheduler,
        options.progress,
        options.command,
        method=settings.method,
    )
    priors = calibration_file.priors
    screen = inference.pilot.screen.set_index("parameter")
    attainable = screen["attainable_width_ratio"].to_dict() if "attainable_width_ratio" in screen else {}
    table = parameter_table(
        priors,
        inference.values,
        inference.weights,
        inference.pilot.informed,
        read_sources(calibration_file.path),
        attainable,
        floor=inference.moved_floor,
    )
    write_csv(out / "parameters.csv", table)
    pairs = correlations(priors, inference.values, inference.weights)
    predictive = validate(
        calibration_file.replay_path,
        calibration_file.record_path,
        out / "predictive",
        ValidationOptions(
            inference.budget.predictive_replications,
            calibration_file.header.root_seed,
            parameters_from=inference.posterior_path,
        ),
        BatchOptions(progress=False, command=options.command, workers=workers, scheduler=scheduler),
    )
    fitted_ids, labels = (
        {o.check.id for o in calibration_file.fitted},
        {o.check.id: o.use for o in calibration_file.observations},
    )
    predicted = predictive.table.assign(
        use=[
            "fit" if c in fitted_ids else "held-out" if c in hold_out else labels.get(c, "held-out")
            for c in predictive.table["check"]
        ]
    )
    plots = {
        "marginals": marginal_plots(
            out / "plots" / "marginals.png", priors, inference.values, inference.weights, table
        ),
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
        + (
            f", and {len(calibration_file.fitted) - len(fitted_rows)} statistics of the event record "
            f"{markdown_code(shown_path(calibration_file.events_path))}"
            if calibration_file.events_path
            else ""
        )
        + ", each measured on a simulation from "
        f"{calibration_file.scenario.scenario.start_date} to {calibration_file.scenario.scenario.end_date}.",
        *(
            _npe_overview(inference, calibration_file.header.root_seed, quick)
            if inference.method == "npe"
            else [
                f"ABC-SMC (pyabc {library_version('pyabc')}): {inference.budget.particles} particles per generation, "
                f"threshold the {inference.budget.epsilon_quantile:g} quantile of the last generation's distances; "
                f"{informed} parameters perturbed, {len(priors) - informed} drawn from their priors in every generation.",
                f"Ran {state.generations} generations and {state.simulations} simulations (root seed "
                f"{calibration_file.header.root_seed}{', --quick' if quick else ''}); stopped by {state.reason}.",
                f"Posterior: {len(inference.weights)} weighted particles, effective sample size "
                f"{effective_sample_size(inference.weights):.0f}, in `posterior.parquet`.",
            ]
        ),
    ]
    title = f"Posterior of {calibration_file.header.name}" + (" (--quick)" if quick else "")
    report = write_posterior_report(
        out,
        title,
        overview,
        table,
        inference.generations,
        inference.pilot.summary.table(),
        inference.pilot.threshold,
        pairs,
        predicted,
        summary_line(predicted),
        plots,
        inference.method,
    )
    write_html(report)
    calibrated_path = Path(calibrated) if calibrated is not None else out / "calibrated.toml"
    installed = Path(install) if install is not None else None
    if installed is not None:
        installed.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(installed, lambda p: shutil.copyfile(inference.posterior_path, p))
    provenance = (
        (
            f"neural posterior estimation on the fit rows of {shown_path(calibration_file.record_path)}, "
            f"{state.simulations} prior simulations, {len(inference.weights)} draws"
            if inference.method == "npe"
            else f"ABC-SMC on the fit rows of {shown_path(calibration_file.record_path)}, {state.generations} "
            f"generations of {inference.budget.particles} particles"
        )
        + f", seed {calibration_file.header.root_seed}"
        + (", --quick" if quick else "")
    )
    write_calibrated_scenario(
        calibrated_path,
        calibration_file.scenario_path,
        table,
        provenance,
        installed if installed is not None else inference.posterior_path,
    )
    finished = {
        **inference.manifest,
        "status": "complete",
        "calibrated": shown_path(calibrated_path),
        "installed": shown_path(installed) if installed else None,
    }
    write_description(out, finished)
    write_json(out / "manifest.json", finished)
    return CalibrationResult(inference, table, pairs, predictive, calibrated_path, installed, report)


def library_version(name: str) -> str:
    from importlib import metadata

    return metadata.version(name)


def pyabc_version() -> str:
    return library_version("pyabc")


def _npe_overview(inference: Inference, seed: int, quick: bool) -> list[str]:
    """The report's account of a neural posterior estimation."""
    from sim.calibration.npe import DECOYS

    row = inference.generations.iloc[0]
    return [
        f"Neural posterior estimation (sbi {library_version('sbi')}, a masked autoregressive flow): trained on the "
        f"{inference.progress.simulations} replications of the prior pilot, {int(row['epochs'])} epochs, best "
        f"validation loss {row['validation_loss']:.4g} (root seed {seed}{', --quick' if quick else ''}).",
        f"Posterior: {len(inference.weights)} draws from the flow at the record, in `posterior.parquet`, worth about "
        f"{row['ess']:.0f} independent draws from the exact posterior: the flow's own error, measured on {DECOYS} "
        "decoy parameters that nothing informs, is that of a sample of this size. A parameter counts as moved "
        f"only beyond the 1% critical Kolmogorov-Smirnov gap at that size, {inference.moved_floor:.3f}.",
    ]
