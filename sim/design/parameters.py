"""The parameters a design varies, and the design table they make.

A design is pure data, made before anything runs: a :class:`pandas.DataFrame` with one row
per design point, a ``point`` column numbering the points 0..n-1 and one column per varied
parameter, named by its dotted scenario path (``threats.rocket.heavy_salvo_prob``). The
runner turns row ``i`` into ``load_scenario(path, point_overrides(design)[i])``; analysis
joins results back on ``point``. Nothing here runs a simulation or reads a result. The kinds
of design (grid, zip, lhs, sobol, saltelli) are in :mod:`sim.design.types`.

Bad input raises :class:`DesignError` (a ``ValueError``) whose ``key``, ``value`` and
``rule`` are the first three arguments of :class:`~sim.errors.ConfigError`, so that the
caller can add the file name: ``ConfigError(err.key, err.value, err.rule, "design.toml")``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sim.config.errors import NO_VALUE
from sim.config.schema import NAME

POINT = "point"
SeedLike = int | np.random.SeedSequence | np.random.Generator


class DesignError(ValueError):
    """Bad design input, as one line naming the key, the value and the rule,
    e.g. ``cram.kill_prob low = 0.9 must be < high = 0.5``."""

    def __init__(self, key: str, value: object, rule: str) -> None:
        self.key, self.value, self.rule = key, value, rule
        shown = "" if value is NO_VALUE else f" = {_show(value)}"
        super().__init__(f"{key}{shown} {rule}")


@dataclass(frozen=True)
class Parameter:
    """One varied scenario parameter.

    Parameters
    ----------
    path : dotted scenario path, e.g. ``"cram.kill_prob"`` (checked against the scenario
        schema later, by :func:`sim.config.load_scenario`).
    values : explicit values, for ``grid`` and ``zip`` designs (a list is turned into a
        tuple). Numbers, strings, booleans or dates.
    low, high : bounds, for ``lhs`` and ``sobol`` designs; ``low < high``, both finite.
    integer : values are whole numbers. With bounds, every integer in [low, high] gets an
        equal share of the unit interval (``floor(low + u * (high - low + 1))``), so the
        end points are not under-weighted as plain rounding would do.

    Raises
    ------
    DesignError : the parameter is malformed (see :func:`check_parameter`).
    """

    path: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if self.values is not None and not isinstance(self.values, (str, bytes, tuple, Mapping, set, frozenset)):
            try:
                object.__setattr__(self, "values", tuple(self.values))
            except TypeError:
                pass  # left as is: check_parameter names it
        check_parameter(self)

    @property
    def bounded(self) -> bool:
        return self.values is None


def as_generator(seed: SeedLike) -> np.random.Generator:
    """The one place a seed argument becomes a :class:`numpy.random.Generator`.

    An integer or a ``SeedSequence`` gives a fresh generator (same seed, same design); a
    ``Generator`` is used as it is (and advanced). ``None`` is refused: a design must be
    reproducible from its seed.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise DesignError("seed", seed, "must be a non-negative integer (or a numpy Generator or SeedSequence)")


# --- validation -------------------------------------------------------------------------


def check_parameter(parameter: Parameter) -> None:
    """Check one parameter's path, and its values or bounds; raise :class:`DesignError`."""
    path = parameter.path
    if not isinstance(path, str) or not all(NAME.check(part) for part in path.split(".")):
        raise DesignError("parameter path", path, "must be a dotted path of names (letters, digits, '_' or '-')")
    if not isinstance(parameter.integer, bool):
        raise DesignError(f"{path} integer", parameter.integer, "must be true or false")
    has_bounds = parameter.low is not None or parameter.high is not None
    if parameter.values is None and not has_bounds:
        raise DesignError(path, NO_VALUE, "needs either values or low and high")
    if parameter.values is not None and has_bounds:
        raise DesignError(path, NO_VALUE, "has both values and low/high bounds: give one or the other")
    if parameter.values is not None:
        _check_values(parameter)
    else:
        _check_bounds(parameter)


def _check_values(parameter: Parameter) -> None:
    path, values = parameter.path, parameter.values
    if not isinstance(values, tuple):
        raise DesignError(f"{path} values", values, "must be a list of values")
    if not values:
        raise DesignError(f"{path} values", values, "must not be empty")
    for value in values:
        if parameter.integer and not _is_whole(value):
            raise DesignError(f"{path} values", value, "must be a whole number (integer parameter)")
        if _is_number(value) and not math.isfinite(value):
            raise DesignError(f"{path} values", value, "must be finite")
        if not (_is_number(value) or isinstance(value, (bool, str, date))):
            raise DesignError(f"{path} values", value, "must be a number, a string, true/false or a date")


def _check_bounds(parameter: Parameter) -> None:
    path, low, high = parameter.path, parameter.low, parameter.high
    for name, value in (("low", low), ("high", high)):
        if value is None:
            other = "high" if name == "low" else "low"
            raise DesignError(f"{path} {name}", NO_VALUE, f"is missing ({other} is given)")
        if not _is_number(value) or not math.isfinite(value):
            raise DesignError(f"{path} {name}", value, "must be a finite number")
        if parameter.integer and not float(value).is_integer():
            raise DesignError(f"{path} {name}", value, "must be a whole number (integer parameter)")
    if not low < high:
        raise DesignError(f"{path} low", low, f"must be < high = {_show(high)}")


def check_parameters(parameters: Sequence[Parameter]) -> tuple[Parameter, ...]:
    """At least one :class:`Parameter`, each path once; returns them as a tuple."""
    parameters = tuple(parameters)
    if not parameters:
        raise DesignError("parameters", NO_VALUE, "must name at least one parameter")
    seen: set[str] = set()
    for parameter in parameters:
        if not isinstance(parameter, Parameter):
            raise DesignError("parameters", parameter, "must be a Parameter")
        if parameter.path in seen:
            raise DesignError(parameter.path, NO_VALUE, "is given more than once")
        seen.add(parameter.path)
    return parameters


def check_size(n: Any, kind: str, power_of_two: bool = False) -> int:
    """The number of points of a design of ``kind``: an integer >= 1, and a power of two
    where asked (scipy's Sobol' engine warns otherwise, as the sequence then loses its balance
    properties)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n < 1:
        raise DesignError(f"{kind} n", n, "must be an integer >= 1")
    n = int(n)
    if power_of_two and n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise DesignError(f"{kind} n", n, f"must be a power of two (e.g. {lower} or {2 * lower})")
    return n


def require(parameters: Sequence[Parameter], kind: str, bounded: bool) -> tuple[Parameter, ...]:
    """Checked parameters, each with bounds (``bounded``) or with explicit values, as design ``kind`` needs."""
    parameters = check_parameters(parameters)
    for parameter in parameters:
        if parameter.bounded != bounded:
            need = "low and high bounds" if bounded else "explicit values"
            raise DesignError(parameter.path, NO_VALUE, f"needs {need} in a {kind!r} design")
    return parameters


def point_overrides(design: pd.DataFrame) -> list[dict[str, Any]]:
    """Each point's ``{dotted path: value}`` overrides, in ``point`` order, with plain
    Python values (``int``, ``float``, ``bool``, ``str``): :func:`sim.config.load_scenario`
    refuses numpy scalars such as ``np.int64(3)`` for an integer parameter."""
    columns = [c for c in design.columns if c != POINT]
    ordered = design.sort_values(POINT) if POINT in design.columns else design
    return [{c: _plain(v) for c, v in zip(columns, row)} for row in ordered[columns].itertuples(index=False, name=None)]


def scale_to_bounds(parameters: Sequence[Parameter], unit: np.ndarray) -> list[np.ndarray]:
    """Points of the unit cube [0, 1)^d (one column per bounded parameter) to parameter
    values, one array per parameter. A continuous parameter is scaled to [low, high]; an
    integer one to [low, high + 1) and floored, so each integer in [low, high] has an
    equal share. Used by :mod:`sim.sensitivity` for the Saltelli design too."""
    integer = np.array([p.integer for p in parameters])
    low = np.array([float(p.low) for p in parameters])
    high = np.array([float(p.high) for p in parameters])
    from scipy.stats import qmc  # deferred: scipy.stats takes most of a second to import, and only a design needs it

    scaled = qmc.scale(unit, low, np.where(integer, high + 1.0, high))
    columns = []
    for j, parameter in enumerate(parameters):
        column = np.floor(scaled[:, j]) if parameter.integer else scaled[:, j]
        column = np.clip(column, low[j], high[j])  # guard the last ulp at the top end
        columns.append(column.astype(np.int64) if parameter.integer else column)
    return columns


def as_design(parameters: Sequence[Parameter], columns: Sequence[Sequence]) -> pd.DataFrame:
    """A design table from one sequence of values per parameter: ``point`` 0..n-1 first,
    then one column per parameter path (``int64`` for integer parameters)."""
    size = len(columns[0])
    data: dict[str, Any] = {POINT: np.arange(size, dtype=np.int64)}
    for parameter, column in zip(parameters, columns):
        if parameter.integer:
            data[parameter.path] = np.asarray([int(v) for v in column], dtype=np.int64)
        else:
            data[parameter.path] = pd.Series(column)
    return pd.DataFrame(data, index=pd.RangeIndex(size))


# --- helpers ------------------------------------------------------------------------------


def rng_argument(engine: type, rng: np.random.Generator) -> dict[str, np.random.Generator]:
    # scipy >= 1.15 names it `rng`; older versions (pyproject allows >= 1.11) `seed`.
    name = "rng" if "rng" in inspect.signature(engine).parameters else "seed"
    return {name: rng}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _show(value: object) -> str:
    value = _plain(value)
    return value.isoformat() if isinstance(value, date) else repr(value)
