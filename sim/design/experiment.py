"""Experiment files: which scenarios to compare, how many replications, which outcomes.

An experiment is pure data, validated before anything runs::

    [experiment]
    name = "policy_comparison"
    base = "../baseline.toml"          # scenario that inline entries override
    reference = "continuity"           # the scenario the others are compared with
    replications = 500
    root_seed = 2020
    outcomes = ["attacks_rocket", "us_killed"]
    end_date = 2021-09-30              # optional: one horizon for every scenario
    parameters_from = "../data/posterior.parquet"   # optional: draw parameters from a posterior
    replications_per_draw = 4          # optional: replications 4k .. 4k+3 share draw k (default 1)
    states = 64                        # optional: every option in 64 states of the world
    states_design = "lhs"              # of the [uncertain."dotted.path"] tables (low, high)

    [scenarios.continuity]
    file = "../scenarios/continuity.toml"

    [scenarios.no_revenge]            # inline: the base with overrides
    set = { "policy.us.strikes.revenge_prob" = 0.0 }

Replication r of every scenario uses the same random streams (common random numbers), and,
with ``parameters_from``, the same parameters drawn from the posterior (see
:mod:`sim.design.posterior`). With ``states``, every option runs in every state of the world
of the ``[uncertain]`` parameters, optionally judged against ``[thresholds]``, its intervals
held to the half-widths of ``[precision]`` (see :mod:`sim.design.robustness`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sim.config.errors import NO_VALUE, ConfigError
from sim.config.limits import REPLICATIONS, SEED, STATES, check_batch, check_states
from sim.config.loader import build, check_keys, input_files, load_scenario, read_toml
from sim.config.scenario import Scenario
from sim.config.schema import AT_LEAST_ONE, NAME, one_of, param
from sim.design.batch import DEFAULT_CHUNK_SIZE, Batch, Source
from sim.design.posterior import Draws, draws_for, value_at
from sim.design.robustness import (
    StatesDesign,
    check_no_option_fixes,
    precision_of,
    state_scenarios,
    states_design,
    thresholds_of,
    uncertain_parameters,
)
from sim.design.types import design_types
from sim.replication.outcomes import outcome_columns


@dataclass(frozen=True)
class ExperimentHeader:
    """The ``[experiment]`` table."""

    name: str = param("-", NAME)
    description: str = param("-")
    base: str = param("path")
    reference: str = param("-", NAME)
    replications: int = param("replications per scenario", REPLICATIONS.rule())
    root_seed: int = param("-", SEED)
    outcomes: tuple[str, ...] = param("outcome columns")
    chunk_size: int = param("replications per task", AT_LEAST_ONE, default=DEFAULT_CHUNK_SIZE)
    end_date: date | None = param("date", default=None)
    parameters_from: str = param("path", default="")
    replications_per_draw: int = param("replications per draw", AT_LEAST_ONE, default=1)
    states: int | None = param("states", STATES.rule(), default=None)
    states_design: str = param("-", one_of(*design_types()), default="lhs")


@dataclass(frozen=True)
class ExperimentFile:
    """A parsed, validated experiment file and the batch it runs."""

    header: ExperimentHeader
    batch: Batch
    path: Path
    robustness: StatesDesign | None = None  # the states of the world, for a robustness experiment

    @property
    def reference(self) -> str:
        return self.header.reference

    @property
    def outcomes(self) -> tuple[str, ...]:
        return self.header.outcomes


def load_experiment(path: str | Path, replications: int | None = None) -> ExperimentFile:
    """Read and validate an experiment file and every scenario it names.

    ``replications`` overrides the file's count (e.g. for a quick look); it is part of the
    batch, so a resumed run must use the same value.
    """
    path = Path(path)
    doc = read_toml(path, "experiment file")
    origin = str(path)
    check_keys(doc, ("experiment", "scenarios", "uncertain", "thresholds", "precision"), "", origin)
    header = build(ExperimentHeader, doc.get("experiment", NO_TABLE), "experiment.", {}, origin)
    entries = doc.get("scenarios")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(
            "scenarios", entries if entries is not None else NO_VALUE, "must be a table of named scenarios", origin
        )
    if header.reference not in entries:
        raise ConfigError(
            "experiment.reference", header.reference, f"must name one of the scenarios ({', '.join(entries)})", origin
        )
    check_batch(len(entries), header.replications if replications is None else replications, origin)
    if header.states is not None:  # every option in every state: counted before a state is designed
        check_states(len(entries), header.states, header.replications if replications is None else replications, origin)
    scenarios = tuple((name, _load_entry(path, header, name, entry)) for name, entry in entries.items())
    inputs = [
        path,
        *(f for name, entry in entries.items() for f in input_files(path.parent / entry.get("file", header.base))),
    ]
    check_same_columns(scenarios, lambda n: f"scenarios.{n}", origin)
    calendar = scenarios[0][1].scenario.calendar
    check_outcomes(header.outcomes, outcome_columns(calendar), "experiment.outcomes", origin)
    robustness = _states(doc, header, path, scenarios, origin)
    reps = header.replications if replications is None else replications
    draws = draws_for(
        header.parameters_from, header.replications_per_draw, path.parent, reps, header.root_seed, scenarios, origin
    )
    if draws is not None:
        check_no_scenario_fixes(draws, header, path, scenarios, origin)
    if robustness is not None:
        scenarios = state_scenarios(scenarios, robustness.states, origin)
    source = Source("experiment", path)
    batch = Batch(
        header.name,
        scenarios,
        reps,
        header.root_seed,
        source,
        tuple(dict.fromkeys(inputs)),
        header.chunk_size,
        draws=draws,
    )
    return ExperimentFile(header, batch, path, robustness)


def _states(doc: dict, header: ExperimentHeader, path: Path, scenarios, origin: str) -> StatesDesign | None:
    """The states of the world of a robustness experiment (None for a plain experiment)."""
    if header.states is None:
        for table in ("uncertain", "thresholds", "precision"):
            if table in doc:
                raise ConfigError(
                    table, NO_VALUE, "needs experiment.states (the number of states of the world)", origin
                )
        return None
    if header.parameters_from:
        raise ConfigError(
            "experiment.parameters_from",
            header.parameters_from,
            "cannot be combined with experiment.states: give the uncertain parameters as [uncertain] tables",
            origin,
        )
    parameters = uncertain_parameters(doc.get("uncertain"), origin)
    thresholds = thresholds_of(doc.get("thresholds"), header.outcomes, origin)
    precision = precision_of(doc.get("precision"), header.outcomes, thresholds, origin)
    base = load_scenario(path.parent / header.base, {"scenario.end_date": header.end_date} if header.end_date else {})
    check_no_option_fixes(parameters, scenarios, base, header.base, origin)
    states = states_design(parameters, header.states_design, header.states, header.root_seed, origin)
    return StatesDesign(
        tuple(name for name, _ in scenarios), header.reference, parameters, states, thresholds, precision
    )


def check_no_scenario_fixes(draws: Draws, header: ExperimentHeader, path: Path, scenarios, origin: str) -> None:
    """A scenario that sets a parameter the posterior draws (a value other than the base's) is
    refused: the draws would silently replace what it compares."""
    base = load_scenario(path.parent / header.base, {"scenario.end_date": header.end_date} if header.end_date else {})
    for name, scenario in scenarios:
        for parameter in draws.paths:
            mine, theirs = value_at(scenario, parameter), value_at(base, parameter)
            if mine != theirs:
                raise ConfigError(
                    f"scenarios.{name}",
                    parameter,
                    f"sets {parameter} = {mine:g} (the base {header.base} has {theirs:g}), a parameter "
                    f"drawn from the posterior {header.parameters_from}: remove the setting or parameters_from",
                    origin,
                )


NO_TABLE: dict = {}


def _load_entry(path: Path, header: ExperimentHeader, name: str, entry: Any) -> Scenario:
    origin = f"{path} [scenarios.{name}]"
    if not NAME.check(name):
        raise ConfigError(f"scenarios.{name}", name, NAME.text, str(path))
    if not isinstance(entry, dict):
        raise ConfigError(f"scenarios.{name}", entry, "must be a table with 'file' and/or 'set'", str(path))
    check_keys(entry, ("file", "set"), f"scenarios.{name}.", str(path))
    file = entry.get("file", header.base)
    overrides = entry.get("set", {})
    if not isinstance(file, str) or not file:
        raise ConfigError(f"scenarios.{name}.file", file, "must be a path to a scenario file", str(path))
    if not isinstance(overrides, dict):
        raise ConfigError(f"scenarios.{name}.set", overrides, "must be a table of dotted parameters", str(path))
    if not (path.parent / file).is_file():
        raise ConfigError(f"scenarios.{name}.file", file, "names no scenario file", str(path))
    if header.end_date is not None:
        overrides = {"scenario.end_date": header.end_date, **overrides}
    return load_scenario(path.parent / file, overrides, override_origin=origin)


def check_outcomes(wanted: tuple[str, ...], known: list[str], key: str, origin: str) -> None:
    if not wanted:
        raise ConfigError(key, [], "must name at least one outcome column", origin)
    for name in wanted:
        if name not in known:
            raise ConfigError(key, name, "is not an outcome column (see README, Outcomes)", origin)


def check_same_columns(scenarios: tuple[tuple[str, Scenario], ...], key_of, origin: str) -> None:
    """Every scenario of a batch must span the same calendar quarters (one table of runs)."""
    first_name, first = scenarios[0]
    columns = outcome_columns(first.scenario.calendar)
    for name, scenario in scenarios[1:]:
        if outcome_columns(scenario.scenario.calendar) != columns:
            meta = scenario.scenario
            raise ConfigError(
                key_of(name),
                f"{meta.start_date} .. {meta.end_date}",
                f"spans other calendar quarters than {first_name} ({first.scenario.start_date} .. "
                f"{first.scenario.end_date}): give every scenario the same horizon",
                origin,
            )
