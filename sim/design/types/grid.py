"""Full factorial: every combination of the parameters' value lists."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.config.errors import NO_VALUE
from sim.config.limits import DESIGN_POINTS
from sim.design.parameters import DesignError, Parameter, as_design, require
from sim.design.types import DesignType


def grid(parameters: Sequence[Parameter]) -> pd.DataFrame:
    """``prod(len(values))`` points, the first parameter varying slowest (``itertools.product`` order)."""
    parameters = require(parameters, "grid", bounded=False)
    size = math.prod(len(p.values) for p in parameters)
    if size > DESIGN_POINTS.most:  # refused before a single point is made
        raise DesignError(
            "parameters",
            NO_VALUE,
            f"make a grid of {size} points, more than {DESIGN_POINTS.most:,} ({DESIGN_POINTS.reason})",
        )
    rows = list(itertools.product(*(p.values for p in parameters)))
    return as_design(parameters, [list(column) for column in zip(*rows)])


def _sample(parameters: tuple[Parameter, ...], n: int | None, rng: np.random.Generator) -> pd.DataFrame:
    return grid(parameters)


DESIGN = DesignType("grid", "every combination of explicit value lists", bounded=False, sized=False, sample=_sample)
