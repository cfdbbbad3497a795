"""Latin hypercube: each parameter's range cut into n equal strata, one point in each; its
sweeps are analysed with PAWN indices (:mod:`sim.design.pawn`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sim.design.parameters import (
    Parameter,
    SeedLike,
    as_design,
    as_generator,
    check_size,
    require,
    rng_argument,
    scale_to_bounds,
)
from sim.design.pawn import pawn_table
from sim.design.types import DesignType


def latin_hypercube(parameters: Sequence[Parameter], n: int, seed: SeedLike) -> pd.DataFrame:
    """``n`` points of a Latin hypercube (``scipy.stats.qmc.LatinHypercube``, randomly
    placed inside their cells) scaled to each parameter's [low, high]: for every parameter,
    each of the n equal-width strata of its range holds exactly one point."""
    parameters = require(parameters, "lhs", bounded=True)
    n = check_size(n, "lhs")
    from scipy.stats import qmc  # deferred: scipy.stats takes most of a second to import, and only a design needs it

    engine = qmc.LatinHypercube(len(parameters), **rng_argument(qmc.LatinHypercube, as_generator(seed)))
    return as_design(parameters, scale_to_bounds(parameters, engine.random(n)))


DESIGN = DesignType(
    "lhs", "a Latin hypercube in [low, high]", bounded=True, sized=True, sample=latin_hypercube, analyse=pawn_table
)
