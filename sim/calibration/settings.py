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
last fitted observation; the file is checked whole (priors against the scenario, the record's
rows) before anything is simulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from sim.calibration.event_statistics import event_observations, load_event_record
from sim.calibration.priors import Prior, load_priors
from sim.calibration.public_record import Observation, load_record
from sim.config.errors import NO_VALUE, ConfigError
from sim.config.limits import REPLICATIONS, SEED
from sim.config.loader import build, check_keys, input_files, load_scenario, read_toml
from sim.config.provenance import unit_of
from sim.config.scenario import Scenario
from sim.config.schema import AT_LEAST_ONE, NAME, Rule, one_of, param

FRACTION = Rule("must be in (0, 1)", lambda v: 0 < v < 1)
RATE = Rule("must be in (0, 1]", lambda v: 0 < v <= 1)
AT_LEAST_TWO = Rule("must be >= 2", lambda v: v >= 2)
DISTANCES = ("projected", "euclidean")  # sim/calibration/distance.py


@dataclass(frozen=True)
class Budget:
    """How hard a calibration works: ABC-SMC's population and stopping rules, and the sizes of
    the pilot run and of the posterior predictive check."""

    particles: int = param("particles per generation", AT_LEAST_TWO)
    max_generations: int = param("generations", AT_LEAST_ONE)
    max_simulations: int = param("simulations", AT_LEAST_ONE)
    min_acceptance_rate: float = param("probability", RATE)
    epsilon_quantile: float = param("probability", FRACTION)
    pilot_replications: int = param("replications", REPLICATIONS.rule(2))
    predictive_replications: int = param("replications", REPLICATIONS.rule())

    def check(self) -> list[tuple[str, Any, str]]:
        if self.max_simulations < 3 * self.particles:
            return [("max_simulations", self.max_simulations,
                     f"must be >= 3 x particles ({3 * self.particles}: the prior sample and a first generation)")]  # fmt: skip
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


def load_calibration(path: str | Path, record: str | Path | None = None, hold_out: Sequence[str] = ()) -> CalibrationFile:
    """Read and check a calibration file. ``record`` replaces the file's record; ``hold_out``
    names fitted rows to keep out of the fit (a backtest: they are then predicted)."""
    path = Path(path)
    origin = str(path)
    doc = read_toml(path, "calibration file")
    check_keys(doc, ("calibration", "priors"), "", origin)
    header = build(CalibrationHeader, doc.get("calibration", _NO_TABLE), "calibration.", {}, origin)
    scenario_path = _existing(path.parent / header.scenario, "calibration.scenario", header.scenario, origin)
    replay_path = _existing(path.parent / header.replay, "calibration.replay", header.replay, origin)
    record_path = Path(record) if record is not None else _existing(path.parent / header.record, "calibration.record", header.record, origin)
    observations = tuple(load_record(record_path))
    fit_ids = [o.check.id for o in observations if o.use == "fit"]
    for check_id in hold_out:
        if check_id not in fit_ids:
            raise ConfigError("--hold-out", check_id, f"must name a row of {record_path} marked fit ({', '.join(fit_ids)})", "command line")
    fitted = tuple(o for o in observations if o.use == "fit" and o.check.id not in hold_out)
    if not fitted:
        raise ConfigError("use", NO_VALUE, "no row is left to fit: mark rows use = fit", str(record_path))
    horizon = max(o.check.end for o in fitted)
    scenario = load_scenario(scenario_path, {"scenario.end_date": horizon}, override_origin=f"{path} (the end of the last fitted row)")
    start = min(o.check.start for o in fitted)
    if start < scenario.scenario.start_date:
        raise ConfigError("calibration.scenario", header.scenario,
                          f"starts on {scenario.scenario.start_date}, after the first fitted row ({start})", origin)  # fmt: skip
    priors = load_priors(doc.get("priors"), scenario, lambda p: unit_of(Scenario, p), origin)
    events_path = None
    if header.events is not None:
        events_path = _existing(path.parent / header.events, "calibration.events", header.events, origin)
        derived = event_observations(load_event_record(events_path), fitted, scenario)
        taken = {o.check.id for o in observations}
        clash = next((o.check.id for o in derived if o.check.id in taken), None)
        if clash:
            raise ConfigError("check", clash, "is the name of a statistic of the event record: rename the row", str(record_path))
        fitted = fitted + tuple(derived)
    return CalibrationFile(path, header, priors, scenario_path, scenario, record_path, observations, fitted, replay_path, events_path)


_NO_TABLE: dict = {}


def _existing(path: Path, key: str, value: str, origin: str) -> Path:
    if not path.is_file():
        raise ConfigError(key, value, "names no file", origin)
    return path
