"""Robustness experiments: every option of an experiment in every state of the world.

An experiment file becomes a robustness experiment when its ``[experiment]`` table gives
``states`` (the number of states of the world) and it declares the uncertain parameters::

    [experiment]
    states = 64
    states_design = "lhs"              # a bounded design type of sim.design.types (lhs, sobol)

    [uncertain."policy.us.strikes.revenge_prob"]
    low = 0.1
    high = 0.9

    [thresholds]                        # optional: what an option must achieve (satisficing)
    us_killed = { max = 1.0 }
    truce_days = { min = 30 }

    [precision]                         # optional: the 95% half-widths the intervals must reach
    regret_mean = { us_killed = 0.1 }   # of each option's mean regret on the outcome
    satisficing = 0.1                   # of each option's share of states meeting all the thresholds

The states are a design of the uncertain parameters made with the experiment's root seed, as a
sweep makes its points; each (option, state) pair is one scenario of the batch, named
``<option>-state<k>``, and replication r of every pair uses random streams r (common random
numbers across options *and* states). The design is pure data: nothing here runs or reads a
result. The precision asked is checked by the analysis (:mod:`sim.analysis.robustness` says
whether a run reached it), not by running more: the replications are the file's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.config.errors import NO_VALUE, ConfigError
from sim.config.loader import check_keys, with_values
from sim.config.scenario import Scenario
from sim.design.parameters import POINT, DesignError, Parameter, point_overrides
from sim.design.posterior import value_at
from sim.design.types import design_type, make_design

STATE = "state"  # the column numbering the states 0..n-1 in a states table
STATE_TAG = "-state"  # between an option's name and its state's number in a scenario name
BOUNDS = ("max", "min")  # a threshold is a maximum (at most) or a minimum (at least)
PRECISION_KEYS = ("regret_mean", "satisficing")  # the metrics whose half-widths a [precision] table may ask


@dataclass(frozen=True)
class Threshold:
    """What an option's state mean of ``outcome`` must achieve: at most (``bound = "max"``) or
    at least (``"min"``) ``value``."""

    outcome: str
    bound: str
    value: float

    def met(self, mean: float) -> bool:
        return mean <= self.value if self.bound == "max" else mean >= self.value

    def text(self) -> str:
        return f"{self.outcome} {'<=' if self.bound == 'max' else '>='} {self.value:g}"


@dataclass(frozen=True)
class Precision:
    """The 95% half-widths a robustness experiment's intervals must reach: of every option's
    mean regret on each outcome of ``regret_mean`` (outcome -> half-width, in the outcome's unit),
    and of every option's share of states meeting all the thresholds (``satisficing``, a share)."""

    regret_mean: dict[str, float]
    satisficing: float | None = None

    def describe(self) -> dict[str, Any]:
        return {"regret_mean": [[o, v] for o, v in self.regret_mean.items()], "satisficing": self.satisficing}

    @classmethod
    def from_manifest(cls, described: dict[str, Any] | None) -> Precision | None:
        if not described:
            return None
        return cls({o: float(v) for o, v in described["regret_mean"]}, described.get("satisficing"))


@dataclass(frozen=True)
class StatesDesign:
    """The states of the world of a robustness experiment and how its scenarios are named.

    options : the experiment's scenarios (policy options), in file order.
    reference : the option the others are compared with, in each state.
    parameters : the uncertain parameters (bounded).
    states : one row per state: ``state`` 0..n-1 and one column per uncertain parameter.
    thresholds : satisficing rules, possibly none.
    precision : the half-widths the intervals must reach, if asked.
    """

    options: tuple[str, ...]
    reference: str
    parameters: tuple[Parameter, ...]
    states: pd.DataFrame
    thresholds: tuple[Threshold, ...] = ()
    precision: Precision | None = None

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    def describe(self) -> dict[str, Any]:
        """JSON-ready, for the results' manifest (what ``compare`` needs to redo the analysis)."""
        return {
            "options": list(self.options),
            "uncertain": [[p.path, p.low, p.high] for p in self.parameters],  # a list: JSON may sort a table's keys
            "states": self.states[self.paths].to_numpy().tolist(),
            "thresholds": [[t.outcome, t.bound, t.value] for t in self.thresholds],
            **({"precision": self.precision.describe()} if self.precision else {}),
        }

    @classmethod
    def from_manifest(cls, reference: str, described: dict[str, Any]) -> StatesDesign:
        parameters = tuple(Parameter(path, low=low, high=high) for path, low, high in described["uncertain"])
        states = pd.DataFrame(described["states"], columns=[p.path for p in parameters])
        states.insert(0, STATE, range(len(states)))
        thresholds = tuple(Threshold(o, b, float(v)) for o, b, v in described["thresholds"])
        return cls(
            tuple(described["options"]),
            reference,
            parameters,
            states,
            thresholds,
            Precision.from_manifest(described.get("precision")),
        )


def scenario_name(option: str, state: int) -> str:
    return f"{option}{STATE_TAG}{state:03d}"


def split_name(name: str) -> tuple[str, int]:
    """``("tougher_love", 7)`` from ``"tougher_love-state007"``."""
    option, _, number = name.rpartition(STATE_TAG)
    return option, int(number)


def uncertain_parameters(table: object, origin: str) -> tuple[Parameter, ...]:
    """The ``[uncertain."dotted.path"]`` tables: each with ``low`` < ``high``."""
    if not isinstance(table, dict) or not table:
        raise ConfigError(
            "uncertain",
            table if table is not None else NO_VALUE,
            "must be a table of dotted parameter paths with low and high (experiment.states is given)",
            origin,
        )
    parameters = []
    for path, spec in table.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"uncertain.{path}", spec, "must be a table with low and high", origin)
        check_keys(spec, ("low", "high"), f"uncertain.{path}.", origin)
        for bound in ("low", "high"):
            if bound not in spec:
                raise ConfigError(f"uncertain.{path}.{bound}", NO_VALUE, "is missing", origin)
        try:
            parameters.append(Parameter(path, low=spec["low"], high=spec["high"]))
        except DesignError as exc:
            raise ConfigError(f"uncertain.{exc.key}", exc.value, exc.rule, origin) from None
    return tuple(parameters)


def thresholds_of(table: object, outcomes: tuple[str, ...], origin: str) -> tuple[Threshold, ...]:
    """The ``[thresholds]`` table: ``outcome = { max = v }`` or ``{ min = v }``, for outcomes
    the experiment reports."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise ConfigError(
            "thresholds", table, "must be a table of outcome = { max = value } or { min = value }", origin
        )
    found = []
    for outcome, spec in table.items():
        key = f"thresholds.{outcome}"
        if outcome not in outcomes:
            raise ConfigError(key, outcome, f"must be one of the experiment's outcomes ({', '.join(outcomes)})", origin)
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ConfigError(key, spec, "must be { max = value } or { min = value }", origin)
        check_keys(spec, BOUNDS, f"{key}.", origin)
        ((bound, value),) = spec.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{key}.{bound}", value, "must be a finite number", origin)
        found.append(Threshold(outcome, bound, float(value)))
    return tuple(found)


def precision_of(
    table: object, outcomes: tuple[str, ...], thresholds: tuple[Threshold, ...], origin: str
) -> Precision | None:
    """The ``[precision]`` table: ``regret_mean = { outcome = half-width }`` for outcomes the
    experiment reports, and ``satisficing = half-width`` (a share, with thresholds); each
    half-width a positive finite number."""
    if table is None:
        return None
    if not isinstance(table, dict) or not table:
        raise ConfigError(
            "precision",
            table,
            "must be a table with regret_mean = { outcome = half-width } and/or satisficing = half-width",
            origin,
        )
    check_keys(table, PRECISION_KEYS, "precision.", origin)
    regret = table.get("regret_mean", {})
    if not isinstance(regret, dict):
        raise ConfigError("precision.regret_mean", regret, "must be a table of outcome = half-width", origin)
    for outcome, value in regret.items():
        if outcome not in outcomes:
            raise ConfigError(
                f"precision.regret_mean.{outcome}",
                outcome,
                f"must be one of the experiment's outcomes ({', '.join(outcomes)})",
                origin,
            )
        _check_half_width(f"precision.regret_mean.{outcome}", value, origin)
    share = table.get("satisficing")
    if share is not None:
        _check_half_width("precision.satisficing", share, origin)
        if not thresholds:
            raise ConfigError(
                "precision.satisficing", share, "needs [thresholds] (a share of states meeting them)", origin
            )
    return Precision({o: float(v) for o, v in regret.items()}, None if share is None else float(share))


def _check_half_width(key: str, value: object, origin: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(key, value, "must be a positive finite number (a 95% half-width)", origin)


def states_design(parameters: tuple[Parameter, ...], kind: str, n: int, seed: int, origin: str) -> pd.DataFrame:
    """``n`` states of the uncertain parameters by design type ``kind`` (bounded and sized:
    lhs, sobol) with the root seed; column ``state`` numbers them."""
    try:
        design = design_type(kind)
        rule = "must be a design type of bounded parameters that samples a given number of points (lhs or sobol)"
        if not (design.bounded and design.sized):
            raise DesignError("experiment.states_design", kind, rule)
        table = make_design(kind, parameters, n, seed)
        if len(table) != n:  # Saltelli's cross-sampled design makes n x (D + 2) points
            raise DesignError("experiment.states_design", kind, rule)
    except DesignError as exc:
        key = {"design kind": "experiment.states_design"}.get(exc.key, exc.key)
        key = "experiment.states" if key.endswith(" n") else key
        raise ConfigError(key, exc.value, exc.rule, origin) from None
    return table.rename(columns={POINT: STATE})


def state_scenarios(
    options: tuple[tuple[str, Scenario], ...], states: pd.DataFrame, origin: str
) -> tuple[tuple[str, Scenario], ...]:
    """Every (option, state) pair as a named scenario, option by option, state by state."""
    overrides = point_overrides(states.rename(columns={STATE: POINT}))
    return tuple(
        (scenario_name(name, k), with_values(scenario, values, f"{origin} [{name}, state {k}]"))
        for name, scenario in options
        for k, values in enumerate(overrides)
    )


def check_no_option_fixes(
    parameters: tuple[Parameter, ...],
    options: tuple[tuple[str, Scenario], ...],
    base: Scenario,
    base_file: str,
    origin: str,
) -> None:
    """An option that sets an uncertain parameter (to a value other than the base's) is refused:
    the states would silently replace what it compares."""
    for name, scenario in options:
        for parameter in parameters:
            try:
                mine, theirs = value_at(scenario, parameter.path), value_at(base, parameter.path)
            except (AttributeError, KeyError):
                raise ConfigError(
                    f"uncertain.{parameter.path}", NO_VALUE, "is not a parameter of the scenarios", origin
                ) from None
            if mine != theirs:
                raise ConfigError(
                    f"scenarios.{name}",
                    parameter.path,
                    f"sets {parameter.path} = {mine!r} (the base {base_file} has {theirs!r}), an uncertain "
                    "parameter the states vary: remove the setting or the [uncertain] entry",
                    origin,
                )
