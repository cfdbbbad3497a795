"""Scrambled Sobol' points: a low-discrepancy sequence in [low, high] (n a power of two); its
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


def sobol(parameters: Sequence[Parameter], n: int, seed: SeedLike) -> pd.DataFrame:
    """``n = 2**m`` points of a scrambled (LMS + digital shift) Sobol' sequence
    (``scipy.stats.qmc.Sobol.random_base2``) scaled to each parameter's [low, high]."""
    parameters = require(parameters, "sobol", bounded=True)
    n = check_size(n, "sobol", power_of_two=True)
    from scipy.stats import qmc  # deferred: scipy.stats takes most of a second to import, and only a design needs it

    engine = qmc.Sobol(len(parameters), scramble=True, **rng_argument(qmc.Sobol, as_generator(seed)))
    return as_design(parameters, scale_to_bounds(parameters, engine.random_base2(n.bit_length() - 1)))


DESIGN = DesignType(
    "sobol",
    "scrambled Sobol' points in [low, high]",
    bounded=True,
    sized=True,
    power_of_two=True,
    sample=sobol,
    analyse=pawn_table,
)
