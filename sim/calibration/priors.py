"""Priors: a distribution over each disputed parameter, declared in a calibration file.

::

    [priors."threats.rocket.base_rate_per_day"]
    family = "loguniform"  # -; source: assumption (a rate known to a factor)
    low = 0.04  # salvos/day; source: docs/sources.md#calibration-counts (...)
    high = 0.4  # salvos/day; source: docs/sources.md#calibration-counts (...)

A family is declared once, below, as a dataclass of its arguments (each with its unit: the
parameter's own for a bound or a median, ``-`` for a shape), the scipy distribution it makes
and its quantile function in closed form (numpy, the formula of scipy's own ``_ppf``: a
candidate of the inference maps its 40 parameters at once, where scipy's scalar calls cost
milliseconds; tests check it against scipy).
The inference works on one free scale for every family: the logit of the prior's distribution
function, ``logit(F(x))``, which is standard logistic under any prior. Particles are perturbed
there, unbounded, and never leave the prior's support; reports and posterior files give
values on the parameter's own scale.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special, stats

from sim.config.errors import ConfigError
from sim.config.loader import build, check_keys, parameter_field, with_values
from sim.config.provenance import documented, unit_of
from sim.config.scenario import Scenario
from sim.config.schema import POSITIVE, Rule, param

FREE_PRIOR = ("logistic", (0.0, 1.0))
# A posterior sample against its prior (sim/analysis/posterior.py, sim/calibration/npe.py): the
# Kolmogorov distribution's 99th percentile (sqrt(n) D above it in 1% of samples of n from the
# prior) and its mean (sqrt(pi / 2) ln 2)
KS_CRITICAL_1PCT = 1.628
KS_MEAN = math.sqrt(math.pi / 2) * math.log(2)
TAIL = 1e-12  # prior probabilities are kept this far from 0 and 1 on the free scale
OF_PARAMETER = "unit of the parameter"  # a bound or a median is in the unit of the parameter it describes
PRIOR_MASS = 1e-9  # a prior's support is checked from this quantile to 1 minus it


@dataclass(frozen=True)
class Uniform:
    """Every value in [low, high] equally likely (a range and nothing more)."""

    low: float = param(OF_PARAMETER)
    high: float = param(OF_PARAMETER)

    def check(self) -> list[tuple[str, Any, str]]:
        return [("high", self.high, f"must be > low ({self.low:g})")] if self.high <= self.low else []

    def natural(self):
        return stats.uniform(self.low, self.high - self.low)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        return q * (self.high - self.low) + self.low


@dataclass(frozen=True)
class LogUniform:
    """Every order of magnitude in [low, high] equally likely (a rate known to within a factor)."""

    low: float = param(OF_PARAMETER, POSITIVE)
    high: float = param(OF_PARAMETER, POSITIVE)

    def check(self) -> list[tuple[str, Any, str]]:
        return [("high", self.high, f"must be > low ({self.low:g})")] if self.high <= self.low else []

    def natural(self):
        return stats.loguniform(self.low, self.high)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        return np.exp(np.log(self.low) + q * (np.log(self.high) - np.log(self.low)))


@dataclass(frozen=True)
class Triangular:
    """A range with a most likely value (a public "about 0.6, range 0.3-0.9")."""

    low: float = param(OF_PARAMETER)
    mode: float = param(OF_PARAMETER)
    high: float = param(OF_PARAMETER)

    def check(self) -> list[tuple[str, Any, str]]:
        if self.high <= self.low:
            return [("high", self.high, f"must be > low ({self.low:g})")]
        if not self.low <= self.mode <= self.high:
            return [("mode", self.mode, f"must be within [{self.low:g}, {self.high:g}]")]
        return []

    def natural(self):
        return stats.triang((self.mode - self.low) / (self.high - self.low), self.low, self.high - self.low)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        c = (self.mode - self.low) / (self.high - self.low)
        return np.where(q < c, np.sqrt(c * q), 1 - np.sqrt((1 - c) * (1 - q))) * (self.high - self.low) + self.low


@dataclass(frozen=True)
class LogNormal:
    """The logarithm normal: ``median``, and ``log_sd`` the spread of the logarithm."""

    median: float = param(OF_PARAMETER, POSITIVE)
    log_sd: float = param("-", POSITIVE)

    def natural(self):
        return stats.lognorm(s=self.log_sd, scale=self.median)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        return np.exp(self.log_sd * special.ndtri(q)) * self.median


FAMILIES: dict[str, type] = {
    "uniform": Uniform,
    "loguniform": LogUniform,
    "triangular": Triangular,
    "lognormal": LogNormal,
}
FAMILY_RULE = Rule(f"must be one of {', '.join(FAMILIES)}", lambda v: v in FAMILIES)


@dataclass(frozen=True)
class Prior:
    """The prior of one parameter (its dotted path) and the scale the inference works on."""

    path: str
    family: str
    arguments: Any  # an instance of FAMILIES[family]
    unit: str

    @property
    def name(self) -> str:
        """The parameter's name inside the inference library (no dots)."""
        return self.path.replace(".", "__")

    @functools.cached_property
    def _distribution(self):
        return self.arguments.natural()

    def distribution(self):
        """The frozen scipy distribution of the parameter's value."""
        return self._distribution

    def free_distribution(self) -> tuple[str, tuple[float, ...]]:
        """scipy's name and arguments of the prior on the free scale: standard logistic."""
        return FREE_PRIOR

    def to_value(self, free: np.ndarray | float) -> np.ndarray | float:
        """The value at a point of the free scale: the prior quantile at its expit (scipy's)."""
        return self._distribution.ppf(np.clip(special.expit(free), TAIL, 1 - TAIL))

    def fast_value(self, free: np.ndarray | float) -> np.ndarray | float:
        """:meth:`to_value` by the family's closed-form quantile (equal to float rounding)."""
        value = self.arguments.quantile(np.clip(special.expit(free), TAIL, 1 - TAIL))
        return value if np.ndim(value) else float(value)

    def to_free(self, value: np.ndarray | float) -> np.ndarray | float:
        """The free scale: the logit of the value's prior distribution function."""
        return special.logit(np.clip(self._distribution.cdf(value), TAIL, 1 - TAIL))

    def interval(self, mass: float = 0.9) -> tuple[float, float]:
        low, high = self.distribution().ppf([(1 - mass) / 2, (1 + mass) / 2])
        return float(low), float(high)

    def describe(self) -> str:
        """The prior as a reader would write it: ``loguniform(0.04, 0.4)``."""
        values = ", ".join(f"{getattr(self.arguments, f.name):g}" for f in dataclasses.fields(self.arguments))
        return f"{self.family}({values})"


def free_density(x: np.ndarray) -> np.ndarray:
    """The density of the free scale's prior, standard logistic (scipy's formula, vectorised)."""
    y = -np.abs(np.asarray(x, dtype=float))
    return np.exp(y - 2.0 * np.log1p(np.exp(y)))


def family_unit(family: str, key: str, parameter_unit: str | None) -> str | None:
    """The unit a prior's argument ``key`` is written in (for the unit check of config files)."""
    if key == "family":
        return "-"
    kind = FAMILIES.get(family)
    fields = {f.name: f for f in dataclasses.fields(kind)} if kind else {}
    if key not in fields:
        return None
    unit = fields[key].metadata["unit"]
    return parameter_unit if unit == OF_PARAMETER else unit


def prior_unit(table: str, key: str, document: dict) -> str | None:
    """The unit of a line of a ``[priors."dotted.path"]`` table (for the unit check of files)."""
    path = table.split(".", 1)[1].strip().strip('"') if "." in table else ""
    entry = document.get("priors", {}).get(path, {})
    return family_unit(entry.get("family", ""), key, unit_of(Scenario, path))


def load_priors(table: Any, scenario: Scenario, unit_of: Any, origin: str) -> tuple[Prior, ...]:
    """The ``[priors]`` table of a calibration file, checked against the scenario it calibrates:
    each key names a real-valued parameter of the scenario, each family is known with its
    arguments valid, and each prior puts no mass where the parameter's rules refuse a value."""
    if not isinstance(table, dict) or not table:
        raise ConfigError("priors", table, "must be a table of priors, one per dotted parameter path", origin)
    priors = []
    for path, entry in table.items():
        key = f'priors."{path}"'
        declared = parameter_field(Scenario, path)
        if isinstance(declared, str):
            raise ConfigError(key, path, declared, origin)
        kind = typing.get_type_hints(type(_section(scenario, path)))[path.rsplit(".", 1)[1]]
        if kind is not float:
            raise ConfigError(
                key, path, f"names a parameter of type {kind}; a prior needs a real-valued parameter", origin
            )
        if not isinstance(entry, dict):
            raise ConfigError(key, entry, "must be a table with a family and its arguments", origin)
        family = entry.get("family")
        if not isinstance(family, str) or not FAMILY_RULE.check(family):
            raise ConfigError(f"{key}.family", family, FAMILY_RULE.text, origin)
        arguments = {k: v for k, v in entry.items() if k != "family"}
        check_keys(arguments, [f.name for f in dataclasses.fields(FAMILIES[family])], f"{key}.", origin)
        prior = Prior(path, family, build(FAMILIES[family], arguments, f"{key}.", {}, origin), unit_of(path))
        _check_support(prior, scenario, key, origin)
        priors.append(prior)
    return tuple(priors)


def _section(scenario: Scenario, path: str) -> Any:
    node: Any = scenario
    for part in path.split(".")[:-1]:
        node = node[part] if hasattr(node, "keys") else getattr(node, part)
    return node


def _check_support(prior: Prior, scenario: Scenario, key: str, origin: str) -> None:
    """The parameter's rules (its own and its section's) must accept the prior's whole range."""
    with np.errstate(
        all="ignore"
    ):  # a prior of absurd arguments overflows: its ends are refused below, not warned about
        ends = prior.distribution().ppf([PRIOR_MASS, 0.5, 1 - PRIOR_MASS])
    for end in ends:
        try:
            with_values(scenario, {prior.path: float(end)}, origin)
        except ConfigError as exc:
            raise ConfigError(
                key,
                prior.describe(),
                f"puts prior mass where the parameter's rule refuses it ({exc.rule} at {end:.4g})",
                origin,
            ) from None


def read_sources(path: Path) -> dict[str, str]:
    """The sources cited by each prior's lines of a calibration file (path -> text)."""
    found: dict[str, list[str]] = {}
    for _, table, _, _, source in documented(path):
        if table.startswith("priors."):
            found.setdefault(table.split(".", 1)[1].strip().strip('"'), []).append(source)
    return {p: "; ".join(dict.fromkeys(s)) for p, s in found.items()}
