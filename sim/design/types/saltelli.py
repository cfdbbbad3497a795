"""Saltelli's design and the variance-based (Sobol') sensitivity of outcomes to the varied
scenario parameters.

Two steps that mirror each other, with the simulation runs in between and elsewhere:

1. :func:`sobol_sample` makes Saltelli's design (``SALib.sample.sobol``, a scrambled Sobol'
   sequence in 2D dimensions cross-sampled into ``n * (D + 2)`` points), a design table
   like those of :mod:`sim.design` (``point`` column plus one column per parameter path);
2. :func:`sobol_indices` reads one output per point (for instance the mean of
   ``us_casualties`` over each point's replications) and returns each parameter's
   first-order index S1 (its share of the output variance alone) and total index ST (its
   share including every interaction), with bootstrap confidence intervals
   (``SALib.analyze.sobol``, ``calc_second_order=False``).

SALib is part of the core install (the PAWN indices of LHS and Sobol' sweeps use it too); it is
imported only when these functions are called.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.config.errors import NO_VALUE
from sim.design.parameters import (
    DesignError,
    Parameter,
    SeedLike,
    as_design,
    as_generator,
    check_parameters,
    check_size,
    scale_to_bounds,
)
from sim.design.types import DesignType

INDEX_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")


def sobol_sample(parameters: Sequence[Parameter], n: int, seed: SeedLike) -> pd.DataFrame:
    """Saltelli's design for first-order and total Sobol' indices.

    Parameters
    ----------
    parameters : bounded parameters (low, high; integer ones are floored as in
        :func:`sim.design.scale_to_bounds`).
    n : base sample size, a power of two (the Sobol' sequence keeps its balance).
    seed : integer seed (or Generator / SeedSequence) for the scrambling.

    Returns
    -------
    DataFrame of ``n * (D + 2)`` points, D = number of parameters, in SALib's order
    (for each base point: A, then A with column j from B for j = 1..D, then B). Run every
    point; keep the order (or the ``point`` column) for :func:`sobol_indices`.
    """
    parameters = _bounded(parameters)
    n = check_size(n, "saltelli", power_of_two=True)
    sample = _salib("sample").sample(
        _problem(parameters), n, calc_second_order=False, scramble=True, seed=as_generator(seed)
    )
    return as_design(parameters, scale_to_bounds(parameters, sample))


def sobol_indices(
    parameters: Sequence[Parameter],
    outputs: Sequence[float] | np.ndarray | pd.Series,
    seed: SeedLike,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of one output, with confidence intervals.

    Parameters
    ----------
    parameters : the parameters of the :func:`sobol_sample` design, in the same order.
    outputs : one finite output per design point, in ``point`` order (a Series indexed by
        ``point`` is put in that order).
    seed : seed of the bootstrap that gives the confidence intervals (SALib would otherwise
        use numpy's global random state).
    conf_level : level of the intervals, in (0, 1).
    num_resamples : bootstrap resamples.

    Returns
    -------
    DataFrame indexed by parameter path with columns ``S1``, ``S1_conf``, ``ST``,
    ``ST_conf``; a ``*_conf`` value is the half-width of the interval (estimate +/- conf).

    Raises
    ------
    DesignError : outputs of the wrong length, not finite or all equal; a bad level.
    """
    parameters = _bounded(parameters)
    if isinstance(outputs, pd.Series):
        outputs = outputs.sort_index()
    y = np.asarray(outputs, dtype=float).ravel()
    per_base = len(parameters) + 2
    n = len(y) // per_base
    if n == 0 or len(y) % per_base or n & (n - 1):
        rule = f"must hold n * {per_base} values (n a power of two), one per point; got {len(y)}"
        raise DesignError("outputs", NO_VALUE, rule)
    if not np.isfinite(y).all():
        raise DesignError("outputs", NO_VALUE, "must all be finite numbers")
    if np.ptp(y) == 0:
        raise DesignError("outputs", NO_VALUE, "are all equal: there is no variance to apportion")
    if not 0 < conf_level < 1:
        raise DesignError("conf_level", conf_level, "must be in (0, 1)")
    if not isinstance(num_resamples, int) or num_resamples < 2:
        raise DesignError("num_resamples", num_resamples, "must be an integer >= 2")
    # A Generator as `seed` makes SALib's bootstrap draw from it (it calls default_rng(seed)).
    result = _salib("analyze").analyze(
        _problem(parameters),
        y,
        calc_second_order=False,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=as_generator(seed),
    )
    table = pd.DataFrame({column: np.asarray(result[column], dtype=float) for column in INDEX_COLUMNS})
    table.index = pd.Index([p.path for p in parameters], name="parameter")
    return table


def _bounded(parameters: Sequence[Parameter]) -> tuple[Parameter, ...]:
    parameters = check_parameters(parameters)
    for parameter in parameters:
        if not parameter.bounded:
            raise DesignError(parameter.path, NO_VALUE, "needs low and high bounds for Sobol' indices")
    return parameters


def _problem(parameters: tuple[Parameter, ...]) -> dict:
    """SALib's problem on the unit cube: scaling to the bounds is ours (integers floored)."""
    return {
        "num_vars": len(parameters),
        "names": [p.path for p in parameters],
        "bounds": [[0.0, 1.0]] * len(parameters),
    }


def _salib(step: str):
    try:
        if step == "sample":
            from SALib.sample import sobol as module
        else:
            from SALib.analyze import sobol as module
    except ImportError:
        raise ImportError("Sobol' indices need SALib, a dependency of the core install: pip install -e .") from None
    return module


def sensitivity_table(
    parameters: Sequence[Parameter], points: pd.DataFrame, outcomes: Sequence[str], seed: int
) -> pd.DataFrame:
    """Sobol' indices of every outcome's mean over the design points (one row per outcome and
    parameter); NaN for an outcome that never varies (there is nothing to apportion)."""
    tables = {}
    for outcome in outcomes:
        if points[outcome].nunique(dropna=False) <= 1:
            index = pd.Index([p.path for p in parameters], name="parameter")
            tables[outcome] = pd.DataFrame(np.nan, index=index, columns=list(INDEX_COLUMNS))
        else:
            tables[outcome] = sobol_indices(parameters, points.set_index("point")[outcome], seed)
    return pd.concat(tables, names=["outcome"]).reset_index()


def _sample(parameters: tuple[Parameter, ...], n: int | None, rng: np.random.Generator) -> pd.DataFrame:
    return sobol_sample(parameters, n, rng)


DESIGN = DesignType(
    "saltelli",
    "Saltelli's cross-sampled Sobol' points, for first-order and total Sobol' indices",
    bounded=True,
    sized=True,
    power_of_two=True,
    sample=_sample,
    analyse=sensitivity_table,
)
