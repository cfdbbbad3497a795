"""The Python API: the command line's operations for notebooks and scripts, returning tables.

>>> from sim import api
>>> baseline = api.load_scenario("configs/baseline.toml", {"cram.kill_prob": 0.8})
>>> result = api.run_scenario(baseline, replications=100, seed=1)      # .runs: one row each
>>> result = api.run_experiment("configs/experiments/policy_comparison.toml", out="results/pc")
>>> result.comparison.query("outcome == 'us_killed'")                   # paired differences
>>> api.compare(result.runs, reference="continuity", outcomes=["us_killed"]).summary
>>> api.trace(baseline, replication=0, seed=1)                          # the event log
>>> api.validate("configs/scenarios/history_2020_2021.toml", "configs/data/public_record.csv", "results/val",
...              api.ValidationOptions(replications=200), batch=api.BatchOptions(workers=2))

Each command that runs a batch takes what it runs and where, then at most two small frozen
options objects (:mod:`sim.api.options`): ``options``, what the command runs beyond its
inputs (:class:`ExperimentOptions`, :class:`ValidationOptions`, :class:`CalibrationOptions`),
and ``batch``, how the batch runs (:class:`BatchOptions`: workers, scheduler, progress,
fail-fast, the command recorded, the scheduler's timeout). Every default is the command line's.

One module per command: :mod:`sim.api.run` (load, run, summarise and trace a scenario),
:mod:`sim.api.experiment` (experiments, precision stages, comparisons), :mod:`sim.api.sweep`,
:mod:`sim.api.validation` (one scenario or several side by side), :mod:`sim.api.calibration`
and :mod:`sim.api.results` (reading a finished folder back). Importing this package loads
neither pyabc nor EMA Workbench: they load when a calibration or a robustness analysis runs.

Every batch (a run, an experiment, a sweep, a calibration's check run) goes through one
execution path (:func:`sim.batch.execution.run_batch`): the same results folder, manifest and
failure rows whatever started it. Nothing here prints.
"""

from __future__ import annotations

from sim.api.calibration import DEFAULT_CALIBRATION, CalibrationResult, calibrate, pyabc_version
from sim.api.experiment import (
    Comparison,
    ExperimentResult,
    analyse_folder,
    analyse_states,
    compare,
    outcome_period,
    run_experiment,
)
from sim.api.options import (
    RUN_CHUNK_SIZE,
    BatchOptions,
    CalibrationOptions,
    ExperimentOptions,
    RunOptions,
    ValidationOptions,
)
from sim.api.results import Results, load_results
from sim.api.run import RunResult, load_scenario, run_scenario, summarise, trace
from sim.api.sweep import SweepResult, run_sweep
from sim.api.validation import ATTACK_FAMILIES, SideBySideResult, ValidationResult, validate, validate_many
from sim.design.experiment import load_experiment
from sim.design.sweep import load_sweep

__all__ = [
    "BatchOptions",
    "CalibrationOptions",
    "CalibrationResult",
    "Comparison",
    "ExperimentOptions",
    "ExperimentResult",
    "RunOptions",
    "RunResult",
    "SweepResult",
    "calibrate",
    "compare",
    "load_experiment",
    "load_results",
    "load_scenario",
    "Results",
    "load_sweep",
    "run_experiment",
    "run_scenario",
    "run_sweep",
    "SideBySideResult",
    "ValidationOptions",
    "ValidationResult",
    "summarise",
    "trace",
    "validate",
    "validate_many",
]

# Also here, for the command line: DEFAULT_CALIBRATION, analyse_folder, analyse_states, outcome_period,
# ATTACK_FAMILIES, RUN_CHUNK_SIZE, pyabc_version.
_SUPPORTING = (
    DEFAULT_CALIBRATION,
    analyse_folder,
    analyse_states,
    outcome_period,
    ATTACK_FAMILIES,
    RUN_CHUNK_SIZE,
    pyabc_version,
)
