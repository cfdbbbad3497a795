"""Sweep files: vary scenario parameters by dotted path over a design.

::

    [sweep]
    name = "strike_effects"
    base = "../scenarios/tougher_love.toml"
    design = "lhs"            # grid | zip | lhs | sobol | saltelli (Sobol' indices)
    points = 16               # for lhs, sobol and saltelli (a power of two for the last two)
    replications = 40         # per design point
    root_seed = 7
    outcomes = ["attacks_rocket", "us_killed"]

    [parameters."policy.us.strikes.revenge_prob"]
    low = 0.0
    high = 1.0

Each design point is a scenario of the batch (``point-0000`` ...): the runner, its common
random numbers and its resumable folders serve sweeps as they serve experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from sim.config.loader import build, load_scenario, read_toml
from sim.design.parameters import DESIGN_KINDS, DesignError, Parameter, make_design, point_overrides
from sim.config.errors import NO_VALUE, ConfigError
from sim.design.experiment import DEFAULT_CHUNK_SIZE, Batch, check_outcomes, check_same_columns
from sim.replication.outcomes import outcome_columns
from sim.config.schema import AT_LEAST_ONE, NAME, NON_NEGATIVE, one_of, param
from sim.design.sensitivity import sobol_sample

SALTELLI = "saltelli"


@dataclass(frozen=True)
class SweepHeader:
    """The ``[sweep]`` table."""

    name: str = param("-", NAME)
    description: str = param("-")
    base: str = param("path")
    design: str = param("-", one_of(*DESIGN_KINDS, SALTELLI))
    replications: int = param("replications per point", AT_LEAST_ONE)
    root_seed: int = param("-", NON_NEGATIVE)
    outcomes: tuple[str, ...] = param("outcome columns")
    points: int | None = param("design points", AT_LEAST_ONE, default=None)
    chunk_size: int = param("replications per task", AT_LEAST_ONE, default=DEFAULT_CHUNK_SIZE)
    end_date: date | None = param("date", default=None)


@dataclass(frozen=True)
class Sweep:
    header: SweepHeader
    parameters: tuple[Parameter, ...]
    design: pd.DataFrame
    batch: Batch
    path: Path
    text: str


def load_sweep(path: str | Path, replications: int | None = None) -> Sweep:
    """Read a sweep file, build its design and validate every design point as a scenario."""
    path = Path(path)
    origin = str(path)
    doc = read_toml(path, "sweep file")
    for key in doc:
        if key not in ("sweep", "parameters"):
            raise ConfigError(key, doc[key], "is not a known key (known: sweep, parameters)", origin)
    header = build(SweepHeader, doc.get("sweep", {}), "sweep.", {}, origin)
    parameters = _parameters(doc.get("parameters"), origin)
    if header.points is None and header.design in ("lhs", "sobol", SALTELLI):
        raise ConfigError("sweep.points", NO_VALUE, f"is missing (required by design = {header.design!r})", origin)
    try:
        if header.design == SALTELLI:
            design = sobol_sample(parameters, header.points, header.root_seed)
        else:
            design = make_design(header.design, parameters, header.points, header.root_seed)
    except DesignError as exc:
        key = "sweep.points" if exc.key.endswith(" n") else exc.key  # the design's size is the file's points
        raise ConfigError(key, exc.value, exc.rule, origin) from None
    extra = {"scenario.end_date": header.end_date} if header.end_date else {}
    scenarios = tuple(
        (f"point-{i:04d}", load_scenario(path.parent / header.base, {**extra, **overrides}, f"{origin} [point {i}]"))
        for i, overrides in enumerate(point_overrides(design))
    )
    check_same_columns(scenarios, lambda n: f"{n} of the design", origin)
    first = scenarios[0][1].scenario
    check_outcomes(header.outcomes, outcome_columns(first.calendar), "sweep.outcomes", origin)
    reps = header.replications if replications is None else replications
    batch = Batch(header.name, scenarios, reps, header.root_seed, header.chunk_size)
    return Sweep(header, parameters, design, batch, path, path.read_text(encoding="utf-8"))


def _parameters(table: object, origin: str) -> tuple[Parameter, ...]:
    if not isinstance(table, dict) or not table:
        raise ConfigError("parameters", table if table is not None else NO_VALUE, "must be a table of dotted parameter paths", origin)
    parameters = []
    for path, spec in table.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"parameters.{path}", spec, "must be a table with values, or low and high", origin)
        for key in spec:
            if key not in ("values", "low", "high", "integer"):
                raise ConfigError(f"parameters.{path}.{key}", spec[key], "is not a known key (values, low, high, integer)", origin)
        try:
            parameters.append(Parameter(path, spec.get("values"), spec.get("low"), spec.get("high"), spec.get("integer", False)))
        except DesignError as exc:
            raise ConfigError(exc.key, exc.value, exc.rule, origin) from None
    return tuple(parameters)


def point_table(design: pd.DataFrame, runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """One row per design point: its parameter values and, per outcome, the mean over its
    replications with a 95% confidence interval."""
    from sim.analysis.compare import summarise_scenarios

    summary = summarise_scenarios(runs, outcomes)
    summary["point"] = summary["scenario"].str.removeprefix("point-").astype(int)
    wide = summary.pivot(index="point", columns="outcome", values=["mean", "ci95_low", "ci95_high", "n"])
    columns = {}
    for outcome in outcomes:
        columns[outcome] = wide[("mean", outcome)]
        columns[f"{outcome}_ci95_low"] = wide[("ci95_low", outcome)]
        columns[f"{outcome}_ci95_high"] = wide[("ci95_high", outcome)]
    table = pd.DataFrame(columns)
    table["replications"] = wide[("n", outcomes[0])].astype(int)
    return design.set_index("point").join(table).reset_index()
