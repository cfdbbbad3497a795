"""A calibration's results folder, from the pilot runs to the posterior file.

Layout: ``manifest.json`` (written first, with the fingerprint of everything that decides the
result: the calibration file, the scenario files, the record, the rows held out, the budget,
the method, the seed and the code), ``abc.db`` (pyabc's database, one row set per finished
generation), and at the end ``posterior.parquet`` (the last generation: weights and values),
with ``generations.csv``, ``statistics.csv`` (the fitted rows and their noise scales) and
``screen.csv`` (which parameters are perturbed). Running the same command again on the folder
resumes from the last finished generation; a folder of another calibration is refused.

With ``method="npe"`` (:mod:`sim.calibration.npe`) there is no database: the prior pilot has
``npe_simulations`` replications, the flow trains on them, ``posterior.parquet`` holds
``npe_draws`` equally weighted draws, and ``generations.csv`` one row on the training. Run
again, it repeats the pilots and the training (a few minutes) and gives the same file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.cells import write_csv
from sim.batch.execution import Execution
from sim.batch.folder import check_output_folder, sha256_of, write_atomic, write_json
from sim.batch.manifest import code_version, environment, utc_now
from sim.batch.runner import default_workers, executor_for
from sim.calibration.abc import (
    DATABASE,
    PROJECT_PROCEDURE,
    ParticleModel,
    Procedure,
    Progress,
    generations,
    infer,
    posterior,
)
from sim.calibration.pilot import PilotResult, run_pilots
from sim.calibration.settings import Budget, CalibrationFile
from sim.config.errors import UsageError
from sim.config.extras import require
from sim.design.posterior import write_posterior
from sim.project import CALIBRATION_METHODS, shown_path

# pyabc's database layer, installed with it (the 'calibrate' extra); sim.calibration.abc has stopped
# with the one line that names the extra if it is missing
SQLAlchemyError = require("sqlalchemy.exc", extra="calibrate", needed_by="calibrate").SQLAlchemyError

POSTERIOR = "posterior.parquet"


@dataclass(frozen=True)
class Inference:
    """What a finished (or resumed and finished) inference left in its folder."""

    folder: Path
    calibration: CalibrationFile
    budget: Budget
    quick: bool
    pilot: PilotResult
    progress: Progress
    values: pd.DataFrame  # the posterior particles, one column per dotted path
    weights: np.ndarray
    generations: pd.DataFrame
    manifest: dict
    method: str = "abc"
    moved_floor: float = 0.0  # NPE: the flow's own error (its decoys' largest gap from their prior)

    @property
    def posterior_path(self) -> Path:
        return self.folder / POSTERIOR


def fingerprint(calibration: CalibrationFile, budget: Budget, hold_out: tuple[str, ...], method: str = "abc") -> str:
    """A hash of everything that decides the posterior, and of the code that makes it.

    The inputs count by their contents, in the order the calibration reads them (the calibration
    file, the scenario and the files it extends, the record, the event record), never by where
    they are: as an experiment's folder is known by its scenarios' hashes
    (:func:`sim.batch.manifest.fingerprint`), a calibration moved with its inputs, or run from
    another directory, is the same calibration and resumes."""
    content = {
        "inputs": [hashlib.sha256(p.read_bytes()).hexdigest() for p in calibration.inputs],
        "hold_out": list(hold_out),
        "budget": budget.__dict__,
        "root_seed": calibration.header.root_seed,
        **({} if method == "abc" else {"method": method}),  # an ABC folder of before keeps its fingerprint
        "code": {k: v for k, v in code_version().items() if k != "git_modified"},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def check_calibration_folder(out: Path) -> None:
    """Refuse, before the folder is locked (so that a refused run changes nothing), an ``out``
    that is neither new, empty, nor a calibration's folder."""
    previous = out / "manifest.json"
    if not previous.exists():
        check_output_folder(out)
        return
    try:
        kind = json.loads(previous.read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        kind = None
    if kind != "calibration":
        raise UsageError(f"output folder {out} holds results that are not a calibration's: choose another --out")


def open_folder(out: Path, manifest: dict[str, Any]) -> None:
    """Create the folder, or check that it holds this very calibration (then it resumes)."""
    previous = out / "manifest.json"
    if previous.exists():
        try:
            content = json.loads(previous.read_text())
        except (OSError, ValueError):
            content = {}
        if not isinstance(content, dict):
            raise UsageError(
                f"{previous} is damaged (not a JSON object): the folder holds no calibration this can "
                "resume; choose another --out"
            )
        found = content.get("fingerprint")
        if found != manifest["fingerprint"]:
            raise UsageError(
                f"output folder {out} holds another calibration (other inputs, budget, seed or code): "
                "resuming would mix them; choose another --out"
            )
    else:
        check_output_folder(out)
        out.mkdir(parents=True, exist_ok=True)
    write_json(previous, {**manifest, "status": "running"})


def run_inference(
    calibration: CalibrationFile,
    out: Path,
    quick: bool,
    hold_out: tuple[str, ...] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    command: tuple[str, ...] = ("python API",),
    procedure: Procedure = PROJECT_PROCEDURE,
    method: str = "abc",
) -> Inference:
    """Pilot runs, ABC-SMC (resumed where a run stopped) or neural posterior estimation
    (``method``, one of :data:`sim.project.CALIBRATION_METHODS`) and the posterior file, in ``out``. ``procedure`` is
    for benchmarks of ABC-SMC (the project's defaults otherwise; see :class:`Procedure`)."""
    if method not in CALIBRATION_METHODS:
        raise UsageError(f"calibration method {method!r} is unknown: use one of {', '.join(CALIBRATION_METHODS)}")
    budget = calibration.budget(quick)
    seed = calibration.header.root_seed
    workers = workers or default_workers()
    manifest = {
        "kind": "calibration",
        "name": calibration.header.name,
        "command": list(command),
        "calibration_file": shown_path(calibration.path),
        "record_file": shown_path(calibration.record_path),
        "fitted": [o.check.id for o in calibration.fitted],
        "held_out": list(hold_out),
        "quick": quick,
        "budget": budget.__dict__,
        "method": method,
        "root_seed": seed,
        "priors": [p.path for p in calibration.priors],
        "inputs": {shown_path(p): p.read_text(encoding="utf-8") for p in calibration.inputs},
        "workers": workers,
        "scheduler": scheduler,
        "code_version": code_version(),
        "environment": environment(),
        "fingerprint": fingerprint(calibration, budget, hold_out, method),
        "started_utc": utc_now(),
    }
    open_folder(out, manifest)
    if method == "npe":
        return _estimate_in(calibration, out, quick, workers, scheduler, progress, manifest)
    with executor_for(workers, scheduler) as executor:
        pilot = run_pilots(calibration, budget.pilot_replications, Execution(workers=workers, executor=executor))
        write_csv(out / "statistics.csv", pilot.summary.table())
        write_csv(out / "screen.csv", pilot.screen)
        model = ParticleModel(
            calibration.scenario, calibration.priors, pilot.summary.checks, seed, procedure.vectorised
        )
        try:
            state = infer(
                out, model, pilot.summary, pilot.informed, budget, seed, executor, workers, progress, procedure
            )
        except SQLAlchemyError as exc:
            raise UsageError(
                f"{out / DATABASE} cannot be read or written ({type(exc).__name__}): "
                "remove it to start the inference again"
            ) from None
    values, weights = posterior(out, calibration.priors)
    table = generations(out)
    write_csv(out / "generations.csv", table)
    _finish(out, manifest, values, weights, state, pilot)
    return Inference(out, calibration, budget, quick, pilot, state, values, weights, table, manifest)


def _estimate_in(
    calibration: CalibrationFile,
    out: Path,
    quick: bool,
    workers: int,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
    manifest: dict,
) -> Inference:
    """Neural posterior estimation in ``out``: the pilots (the prior one is the training set,
    its progress shown), the flow, its draws at the record, and the posterior file."""
    from sim.calibration import npe  # torch and sbi: the 'npe' extra, imported only for this method

    budget, seed = calibration.budget(quick), calibration.header.root_seed
    with executor_for(workers, scheduler) as executor:
        pilot = run_pilots(
            calibration,
            budget.pilot_replications,
            Execution(workers=workers, executor=executor),
            prior_replications=budget.npe_simulations,
            prior_progress=progress,
        )
    write_csv(out / "statistics.csv", pilot.summary.table())
    write_csv(out / "screen.csv", pilot.screen)
    result = npe.estimate(pilot.prior_runs, calibration.priors, calibration.fitted, budget.npe_draws, seed)
    table = npe.training_table(result)
    write_csv(out / "generations.csv", table)
    reason = (
        f"neural posterior estimation: a flow trained on {result.simulations} prior simulations "
        f"({result.epochs} epochs), {budget.npe_draws} draws at the record, worth about "
        f"{result.effective_size:.0f} independent ones"
    )
    state = Progress(0, result.simulations, True, reason)
    _finish(out, manifest, result.values, result.weights, state, pilot, method="npe", decoy_floor=result.floor)
    return Inference(
        out,
        calibration,
        budget,
        quick,
        pilot,
        state,
        result.values,
        result.weights,
        table,
        manifest,
        "npe",
        result.floor,
    )


def _finish(
    out: Path,
    manifest: dict,
    values: pd.DataFrame,
    weights: np.ndarray,
    state: Progress,
    pilot: PilotResult,
    **method: Any,
) -> None:
    """The posterior file (its metadata: the manifest's account of the inputs, how the inference
    ran, and ``method``'s own entries), then the manifest that names its hash."""
    inputs = ("calibration_file", "record_file", "fitted", "held_out", "root_seed", "quick", "fingerprint")
    metadata = {
        **{key: manifest[key] for key in inputs},
        "generations": state.generations,
        "simulations": state.simulations,
        "stopped_by": state.reason,
        **method,
    }
    write_atomic(out / POSTERIOR, lambda p: write_posterior(p, values, weights, metadata))
    manifest.update(
        {
            "generations": state.generations,
            "simulations": state.simulations,
            "stopped_by": state.reason,
            "informed": sorted(pilot.informed),
            "finished_utc": utc_now(),
            "posterior_sha256": sha256_of(out / POSTERIOR),
        }
    )
    write_json(out / "manifest.json", {**manifest, "status": "running"})
