"""Hand-picked points: the i-th point takes the i-th value of every parameter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.config.errors import NO_VALUE
from sim.design.parameters import DesignError, Parameter, as_design, require
from sim.design.types import DesignType


def zipped(parameters: Sequence[Parameter]) -> pd.DataFrame:
    """Point i takes the i-th value of every parameter; the lists must have equal length."""
    parameters = require(parameters, "zip", bounded=False)
    lengths = {p.path: len(p.values) for p in parameters}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{path} has {length}" for path, length in lengths.items())
        raise DesignError("zip", NO_VALUE, f"value lists must all have the same length: {shown}")
    return as_design(parameters, [list(p.values) for p in parameters])


def _sample(parameters: tuple[Parameter, ...], n: int | None, rng: np.random.Generator) -> pd.DataFrame:
    return zipped(parameters)


DESIGN = DesignType("zip", "the i-th value of every list", bounded=False, sized=False, sample=_sample)
