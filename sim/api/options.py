"""The options objects of the Python API: how a batch runs (:class:`BatchOptions`) and what
each command runs beyond its inputs (:class:`ExperimentOptions`, :class:`ValidationOptions`,
:class:`CalibrationOptions`). Every field has the default the command line has; every object is
frozen, so one can be shared between calls and changed with :func:`dataclasses.replace`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.batch.execution import Execution
from sim.batch.progress import ProgressOption, with_progress

RUN_CHUNK_SIZE = 25  # replications per task of a run: small enough to share a few hundred among workers


@dataclass(frozen=True)
class BatchOptions:
    """How a batch is run, whatever it runs (a run, an experiment, a sweep, a validation, a
    calibration's simulations). None of it changes a result: the same inputs give the same
    bytes with any workers or scheduler.

    The first four fields keep the order of the former ``RunOptions(progress, fail_fast,
    command, scheduler_timeout_s)``, which is this class under its old name.
    """

    progress: ProgressOption = True
    """A callback called with the number of replications just finished (a progress bar's ``update``); True: a
    progress bar (a widget in Jupyter, a bar on a terminal, nothing when stderr is not a terminal); False or None:
    nothing reported (see :mod:`sim.batch.progress`)."""
    fail_fast: bool = False
    """Stop at the first failed replication instead of recording it in failures.csv and going on."""
    command: tuple[str, ...] = ("python API",)
    """The command line recorded in the results folder's manifest."""
    scheduler_timeout_s: float = 5.0
    """How long a Dask scheduler (``scheduler``) has to answer before the batch stops, in seconds."""
    workers: int | None = None
    """Worker processes on this machine; None: one per core."""
    scheduler: str | None = None
    """Address of a Dask scheduler to run on (``tcp://host:8786``) instead of local processes; None: local."""

    def execution(self) -> Execution:
        """The execution of :func:`sim.batch.execution.run_batch` these options describe."""
        progress = self.progress if callable(self.progress) else None  # a display is made by :meth:`shown` first
        return Execution(
            workers=self.workers,
            scheduler=self.scheduler,
            progress=progress,
            fail_fast=self.fail_fast,
            scheduler_timeout_s=self.scheduler_timeout_s,
        )

    def shown(self, total: int | None, unit: str = "rep") -> BatchOptions:
        """These options with ``progress`` made a callback for a batch of ``total`` (a bar if True)."""
        return with_progress(self, total, unit)


RunOptions = (
    BatchOptions  # the name before the API was split: RunOptions(progress, fail_fast, command, scheduler_timeout_s)
)


@dataclass(frozen=True)
class ExperimentOptions:
    """What :func:`sim.api.run_experiment` runs beyond the experiment file."""

    replications: int | None = None
    """Replications per scenario instead of the file's (with ``precision``: the first stage); None: the file's.
    Applies when the experiment is given as a file (an :class:`~sim.design.experiment.ExperimentFile` has its count)."""
    precision: Mapping[str, float] | None = None
    """Outcome -> absolute half-width, e.g. ``{"us_killed": 0.05}``: the replications double until the 95%
    interval of every paired difference of those outcomes is at most that wide (``--precision``); None: the count as given."""
    max_replications: int | None = None
    """With ``precision``: the most replications per scenario (``--max-replications``); None: 8 times the start."""


@dataclass(frozen=True)
class ValidationOptions:
    """What :func:`sim.api.validate` and :func:`sim.api.validate_many` run beyond the scenario and the record."""

    replications: int = 1000
    """Replications of each scenario (``--replications``)."""
    seed: int = 1
    """Root random seed (``--seed``)."""
    overrides: Sequence[str] = ()
    """Parameter overrides, ``"key=value"`` by dotted path (``--set``), applied to every scenario."""
    parameters_from: str | Path | None = None
    """A posterior file: replication r draws its parameters from it (a posterior predictive check); None: the
    scenario's parameters. :func:`~sim.api.validate` only."""
    replications_per_draw: int = 1
    """With ``parameters_from``: replications per posterior draw. :func:`~sim.api.validate` only."""
    events: str | Path | None = None
    """The event record the naive baselines are built from (``--events``); None: the project's
    ``configs/data/events_2019_2020.csv`` if it is there (if not, no baseline is scored)."""


@dataclass(frozen=True)
class CalibrationOptions:
    """What :func:`sim.api.calibrate` runs and writes beyond the calibration file and the results folder."""

    quick: bool = False
    """The calibration file's quick budget (``--quick``): a first look in minutes."""
    record: str | Path | None = None
    """A public-record file instead of the calibration file's (``--record``); None: the file's."""
    hold_out: Sequence[str] = ()
    """Ids of fitted rows of the record kept out of the fit, to predict them (``--hold-out``)."""
    calibrated: str | Path | None = None
    """Where to write the scenario of posterior medians (``--calibrated``); None: ``calibrated.toml`` in the results folder."""
    install: str | Path | None = None
    """Where to copy the posterior for the project's experiments; None: not copied."""
    method: str = "abc"
    """The inference (``--method``): ``"abc"``, ABC-SMC with pyabc; ``"npe"``, neural posterior
    estimation with sbi (the ``npe`` extra; :mod:`sim.calibration.npe`)."""
