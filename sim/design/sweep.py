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
random numbers and its resumable folders serve sweeps as they serve experiments. With
``parameters_from = "posterior.parquet"`` the parameters a sweep does not vary are drawn from
the posterior, replication r of every point taking the same draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from sim.config.errors import NO_VALUE, ConfigError
from sim.config.limits import DESIGN_POINTS, REPLICATIONS, SEED, check_batch
from sim.config.loader import build, check_keys, input_files, load_scenario, read_toml
from sim.config.schema import AT_LEAST_ONE, NAME, one_of, param
from sim.design.batch import DEFAULT_CHUNK_SIZE, Batch, Source
from sim.design.experiment import check_outcomes, check_same_columns
from sim.design.parameters import DesignError, Parameter, point_overrides
from sim.design.posterior import draws_for
from sim.design.types import design_type, design_types, make_design
from sim.replication.outcomes import outcome_columns


@dataclass(frozen=True)
class SweepHeader:
    """The ``[sweep]`` table."""

    name: str = param("-", NAME)
    description: str = param("-")
    base: str = param("path")
    design: str = param("-", one_of(*design_types()))
    replications: int = param("replications per point", REPLICATIONS.rule())
    root_seed: int = param("-", SEED)
    outcomes: tuple[str, ...] = param("outcome columns")
    points: int | None = param("points", DESIGN_POINTS.rule(), default=None)
    chunk_size: int = param("replications per task", AT_LEAST_ONE, default=DEFAULT_CHUNK_SIZE)
    end_date: date | None = param("date", default=None)
    parameters_from: str = param("path", default="")
    replications_per_draw: int = param("replications per draw", AT_LEAST_ONE, default=1)


@dataclass(frozen=True)
class SweepFile:
    """A parsed, validated sweep file: its design table and the batch that runs it."""

    header: SweepHeader
    parameters: tuple[Parameter, ...]
    design: pd.DataFrame
    batch: Batch
    path: Path


def load_sweep(path: str | Path, replications: int | None = None) -> SweepFile:
    """Read a sweep file, build its design and validate every design point as a scenario."""
    path = Path(path)
    origin = str(path)
    doc = read_toml(path, "sweep file")
    check_keys(doc, ("sweep", "parameters"), "", origin)
    header = build(SweepHeader, doc.get("sweep", {}), "sweep.", {}, origin)
    parameters = _parameters(doc.get("parameters"), origin)
    if header.points is None and design_type(header.design).sized:
        raise ConfigError("sweep.points", NO_VALUE, f"is missing (required by design = {header.design!r})", origin)
    try:
        design = make_design(header.design, parameters, header.points, header.root_seed)
    except DesignError as exc:
        key = "sweep.points" if exc.key.endswith(" n") else exc.key  # the design's size is the file's points
        raise ConfigError(key, exc.value, exc.rule, origin) from None
    if len(design) > DESIGN_POINTS.most:
        raise ConfigError(
            "sweep.design",
            header.design,
            f"makes {len(design)} points, more than {DESIGN_POINTS.most:,} ({DESIGN_POINTS.reason})",
            origin,
        )
    check_batch(len(design), header.replications if replications is None else replications, origin)
    extra = {"scenario.end_date": header.end_date} if header.end_date else {}
    scenarios = tuple(
        (f"point-{i:04d}", load_scenario(path.parent / header.base, {**extra, **overrides}, f"{origin} [point {i}]"))
        for i, overrides in enumerate(point_overrides(design))
    )
    check_same_columns(scenarios, lambda n: f"{n} of the design", origin)
    first = scenarios[0][1].scenario
    check_outcomes(header.outcomes, outcome_columns(first.calendar), "sweep.outcomes", origin)
    reps = header.replications if replications is None else replications
    inputs = (path, *input_files(path.parent / header.base))
    draws = draws_for(
        header.parameters_from,
        header.replications_per_draw,
        path.parent,
        reps,
        header.root_seed,
        scenarios[:1],
        origin,
        exempt={p.path for p in parameters},
    )  # the design sets what it varies
    batch = Batch(
        header.name, scenarios, reps, header.root_seed, Source("sweep", path), inputs, header.chunk_size, draws=draws
    )
    return SweepFile(header, parameters, design, batch, path)


def _parameters(table: object, origin: str) -> tuple[Parameter, ...]:
    if not isinstance(table, dict) or not table:
        raise ConfigError(
            "parameters", table if table is not None else NO_VALUE, "must be a table of dotted parameter paths", origin
        )
    parameters = []
    for path, spec in table.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"parameters.{path}", spec, "must be a table with values, or low and high", origin)
        check_keys(spec, ("values", "low", "high", "integer"), f"parameters.{path}.", origin)
        try:
            parameters.append(
                Parameter(path, spec.get("values"), spec.get("low"), spec.get("high"), spec.get("integer", False))
            )
        except DesignError as exc:
            raise ConfigError(exc.key, exc.value, exc.rule, origin) from None
    return tuple(parameters)
