"""Calibration files: what to infer, from which observations, with which budget.

::

    [calibration]
    name = "calibration_2020"
    scenario = "baseline.toml"              # the world each particle simulates
    record = "data/public_record.csv"       # its rows marked use = fit are summary statistics
    events = "data/events_2019_2020.csv"    # the event record: more statistics (optional)
    distance = "projected"                  # or "euclidean" (sim/calibration/distance.py)
    replay = "scenarios/history_2020_2021.toml"   # the posterior predictive check of every row
    root_seed = 1

    [calibration.full]                      # and [calibration.quick], for --quick
    particles = 800                         # per generation of ABC-SMC
    ...

    [priors."threats.rocket.base_rate_per_day"]
    family = "loguniform"
    ...

Paths are relative to the calibration file. With ``events``, the statistics of the event-level
record of the fit window (:mod:`sim.calibration.event_statistics`) are fitted beside the record's
rows. The scenario runs from its start to the end of the
last fitted observation, which must not end after the scenario's own ``end_date`` (a row dated
centuries ahead would stretch every simulation). The file is checked whole before anything is
simulated: the budget within the bounds of :mod:`sim.config.limits`, the priors against the
scenario, the record's rows, and the replay scenario loaded and checked against the priors (the
posterior predictive check runs it only after the inference).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.calibration.event_statistics import event_observations, load_event_record
from sim.calibration.priors import Prior, load_priors
from sim.calibration.public_record import Observation, load_record
from sim.config.errors import NO_VALUE, ConfigError, UsageError
from sim.config.limits import GENERATIONS, PARTICLES, REPLICATIONS, SEED, SIMULATIONS, Bound
from sim.config.loader import build, check_keys, input_files, load_scenario, read_toml
from sim.config.provenance import unit_of
from sim.config.scenario import Scenario
from sim.config.schema import NAME, Rule, one_of, param

FRACTION = Rule("must be in (0, 1)", lambda v: 0 < v < 1)
RATE = Rule("must be in (0, 1]", lambda v: 0 < v <= 1)


def _bounded(least: int, bound: Bound) -> Rule:
    """``must be >= least`` below, ``must be in [least, most] (reason)`` above the bound."""
    text = f"must be in [{least:,}, {bound.most:,}]"
    return Rule(
        text,
        lambda v: least <= v <= bound.most,
        lambda v: f"must be >= {least}" if v < least else f"{text} ({bound.reason})",
    )


DISTANCES = ("projected", "euclidean")  # sim/calibration/distance.py


@dataclass(frozen=True)
class Budget:
    """How hard a calibration works: ABC-SMC's population and stopping rules, the sizes of
    the pilot run and of the posterior predictive check, and for neural posterior estimation
    the prior simulations that train the flow (they are also the prior pilot) and the draws
    taken from it."""

    particles: int = param("particles per generation", _bounded(2, PARTICLES))
    max_generations: int = param("generations", _bounded(1, GENERATIONS))
    max_simulations: int = param("simulations", _bounded(1, SIMULATIONS))
    min_acceptance_rate: float = param("probability", RATE)
    epsilon_quantile: float = param("probability", FRACTION)
    pilot_replications: int = param("replications", REPLICATIONS.rule(2))
    predictive_replications: int = param("replications", REPLICATIONS.rule())
    # neural posterior estimation (calibrate --method npe, sim/calibration/npe.py); optional keys
    npe_simulations: int = param("simulations", _bounded(100, SIMULATIONS), default=4000)
    npe_draws: int = param("draws", _bounded(100, PARTICLES), default=1000)

    def counted(self, method: str) -> int:
        """The simulations a calibration by ``method`` counts in its progress: ABC-SMC's budget,
        or the prior pilot that neural posterior estimation trains on."""
        return self.npe_simulations if method == "npe" else self.max_simulations

    def check(self) -> list[tuple[str, Any, str]]:
        if self.max_simulations < 3 * self.particles:
            return [
                (
                    "max_simulations",
                    self.max_simulations,
                    f"must be >= 3 x particles ({3 * self.particles}: the prior sample and a first generation)",
                )
            ]
        return []


@dataclass(frozen=True)
class CalibrationHeader:
    """The ``[calibration]`` table."""

    name: str = param("-", NAME)
    description: str = param("-")
    scenario: str = param("path")
    record: str = param("path")
    replay: str = param("path")
    root_seed: int = param("-", SEED)
    full: Budget = param("-")
    quick: Budget = param("-")
    events: str | None = param("path", default=None)
    distance: str = param("-", one_of(*DISTANCES), default="projected")


@dataclass(frozen=True)
class CalibrationFile:
    """A checked calibration file and what it names."""

    path: Path
    header: CalibrationHeader
    priors: tuple[Prior, ...]
    scenario_path: Path
    scenario: Scenario  # the scenario file, run to the end of the last fitted observation
    record_path: Path
    observations: tuple[Observation, ...]  # every row of the record
    fitted: tuple[Observation, ...]  # the rows the calibration fits, then the event record's statistics
    replay_path: Path
    events_path: Path | None = None

    @property
    def inputs(self) -> tuple[Path, ...]:
        events = (self.events_path,) if self.events_path else ()
        return (self.path, *input_files(self.scenario_path), self.record_path, *events)

    def budget(self, quick: bool) -> Budget:
        return self.header.quick if quick else self.header.full

    def read_files(self) -> tuple[Path, ...]:
        """The files an output of the calibration must not replace: its inputs and the replay
        scenario. (The files the replay extends are not among them: the project's replay extends
        ``configs/calibrated.toml``, which a calibration rewrites by design once its predictive
        check has run.)"""
        return tuple(dict.fromkeys((*self.inputs, self.replay_path)))

    def check_not_read(self, path: str | Path, key: str) -> None:
        """Refuse an output ``path`` that is (by its resolved path, or as the same file under another
        name) a file the calibration reads: writing it would destroy an input."""
        path = Path(path)
        for source in self.read_files():
            same = path.resolve() == source.resolve()
            if not same and path.exists():
                try:
                    same = os.path.samefile(path, source)
                except OSError:
                    same = False
            if same:
                raise UsageError(
                    f"{key} {path} would overwrite {source}, a file the calibration {self.path} reads: "
                    "write it elsewhere"
                )


def load_calibration(
    path: str | Path, record: str | Path | None = None, hold_out: Sequence[str] = ()
) -> CalibrationFile:
    """Read and check a calibration file. ``record`` replaces the file's record; ``hold_out``
    names fitted rows to keep out of the fit (a backtest: they are then predicted)."""
    path = Path(path)
    origin = str(path)
    doc = read_toml(path, "calibration file")
    check_keys(doc, ("calibration", "priors"), "", origin)
    header = build(CalibrationHeader, doc.get("calibration", _NO_TABLE), "calibration.", {}, origin)
    scenario_path = _existing(path.parent / header.scenario, "calibration.scenario", header.scenario, origin)
    replay_path = _existing(path.parent / header.replay, "calibration.replay", header.replay, origin)
    record_path = (
        Path(record)
        if record is not None
        else _existing(path.parent / header.record, "calibration.record", header.record, origin)
    )
    observations = tuple(load_record(record_path))
    fit_ids = [o.check.id for o in observations if o.use == "fit"]
    for check_id in hold_out:
        if check_id not in fit_ids:
            raise ConfigError(
                "--hold-out",
                check_id,
                f"must name a row of {record_path} marked fit ({', '.join(fit_ids)})",
                "command line",
            )
    fitted = tuple(o for o in observations if o.use == "fit" and o.check.id not in hold_out)
    if not fitted:
        raise ConfigError("use", NO_VALUE, "no row is left to fit: mark rows use = fit", str(record_path))
    _check_fitted_dates(observations, fitted, scenario_path, header.scenario, record_path)
    horizon = max(o.check.end for o in fitted)
    scenario = load_scenario(
        scenario_path, {"scenario.end_date": horizon}, override_origin=f"{path} (the end of the last fitted row)"
    )
    start = min(o.check.start for o in fitted)
    if start < scenario.scenario.start_date:
        raise ConfigError(
            "calibration.scenario",
            header.scenario,
            f"starts on {scenario.scenario.start_date}, after the first fitted row ({start})",
            origin,
        )
    priors = load_priors(doc.get("priors"), scenario, lambda p: unit_of(Scenario, p), origin)
    _check_replay(replay_path, doc.get("priors"), header.replay, origin)
    events_path = None
    if header.events is not None:
        events_path = _existing(path.parent / header.events, "calibration.events", header.events, origin)
        derived = event_observations(load_event_record(events_path), fitted, scenario)
        taken = {o.check.id for o in observations}
        clash = next((o.check.id for o in derived if o.check.id in taken), None)
        if clash:
            raise ConfigError(
                "check", clash, "is the name of a statistic of the event record: rename the row", str(record_path)
            )
        fitted = fitted + tuple(derived)
    return CalibrationFile(
        path, header, priors, scenario_path, scenario, record_path, observations, fitted, replay_path, events_path
    )


_NO_TABLE: dict = {}


def _check_fitted_dates(
    observations: Sequence[Observation],
    fitted: Sequence[Observation],
    scenario_path: Path,
    value: str,
    record_path: Path,
) -> None:
    """A fitted row sets the horizon of every simulation of the inference: one that ends after the
    calibration's own scenario would stretch them all (a row dated centuries ahead, a typo), so it
    is refused, naming its row."""
    end = load_scenario(scenario_path).scenario.end_date
    for line, observation in enumerate(observations, start=2):  # the record's numbering: its header is line 1
        if observation in fitted and observation.check.end > end:
            raise ConfigError(
                f"row {line}: to",
                observation.check.end.isoformat(),
                f"must be on or before the end of calibration.scenario {value} ({end}) for a fitted row: "
                "it sets the horizon of every simulation of the inference; mark the row held-out, or "
                "give the scenario a later end_date",
                str(record_path),
            )


def _check_replay(replay_path: Path, table: Any, value: str, origin: str) -> None:
    """The replay scenario of the posterior predictive check, loaded whole and checked against
    the priors (every posterior particle must be a valid value of it) before anything is
    simulated: a replay that fails after the inference would waste it."""
    replay = load_scenario(replay_path)  # a bad replay file is one line naming it
    try:
        load_priors(table, replay, lambda p: unit_of(Scenario, p), origin)
    except ConfigError as exc:
        raise ConfigError(
            "calibration.replay",
            value,
            f"does not take the priors (the posterior predictive check "
            f"runs it with posterior draws): {str(exc).removesuffix(f' ({origin})')}",
            origin,
        ) from None


def _existing(path: Path, key: str, value: str, origin: str) -> Path:
    if not path.is_file():
        raise ConfigError(key, value, "names no file", origin)
    return path
