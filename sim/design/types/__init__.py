"""The kinds of sweep design: one module each, declaring its :class:`DesignType` once.

A design type samples a design table from the varied parameters (``sample(parameters, n,
rng)``) and may analyse the outcome means of its points afterwards (``analyse``: Saltelli's
Sobol' indices, say). The registry finds every module of this package, so adding a design
type is one file; sweep files, the runner and the API iterate :func:`design_types`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.design.parameters import (
    DesignError,
    Parameter,
    SeedLike,
    as_generator,
    check_size,
    require,
)

Sample = Callable[[tuple[Parameter, ...], "int | None", np.random.Generator], pd.DataFrame]
Analyse = Callable[[tuple[Parameter, ...], pd.DataFrame, Sequence[str], int], pd.DataFrame]


@dataclass(frozen=True)
class DesignType:
    """One kind of design.

    name : as written in a sweep file (``design = "lhs"``).
    bounded : its parameters have ``low``/``high`` bounds (else explicit ``values``).
    sized : the file gives its number of ``points`` (else the values fix the size).
    power_of_two : that number must be a power of two (Sobol' sequences keep their balance).
    sample : ``(parameters, n, rng) -> design table``.
    analyse : optional; ``(parameters, points, outcomes, seed) -> table`` read from the point
        table of the sweep (one row per point with each outcome's mean), written as
        ``sensitivity.csv``.
    """

    name: str
    doc: str
    bounded: bool
    sized: bool
    sample: Sample
    power_of_two: bool = False
    analyse: Analyse | None = None


@functools.cache
def design_types() -> dict[str, DesignType]:
    """Every design type by name, in alphabetical order of name."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        design = getattr(importlib.import_module(f"{__name__}.{module.name}"), "DESIGN", None)
        if isinstance(design, DesignType):
            found[design.name] = design
    return dict(sorted(found.items()))


def design_type(name: str) -> DesignType:
    types = design_types()
    if name not in types:
        raise DesignError("design kind", name, f"must be one of {', '.join(types)}")
    return types[name]


def make_design(kind: str, parameters: Sequence[Parameter], n: int | None, seed: SeedLike) -> pd.DataFrame:
    """The design table of ``kind`` for ``parameters``.

    ``n`` is the number of points of a sized design (base points, for Saltelli's); for the
    others the values fix the size, and ``n`` must be None or that size. ``seed`` (an
    integer, Generator or SeedSequence) is used by the random designs.
    """
    design = design_type(kind)
    parameters = require(parameters, kind, design.bounded)
    if design.sized:
        n = check_size(n, kind, design.power_of_two)
        return design.sample(parameters, n, as_generator(seed))
    table = design.sample(parameters, None, as_generator(seed))
    if n is not None and n != len(table):
        raise DesignError(f"{kind} n", n, f"must be left out or equal the design's size ({len(table)} points)")
    return table
