"""Calibration of attack intensity on observed quarterly counts, by synthetic likelihood.

Method (Wood 2010, "Statistical inference for noisy nonlinear ecological dynamic systems"):
for parameters theta, run R replications of the full model under common random numbers
(replications 0 .. R-1 of one root seed, whatever theta), take the fitted quarterly counts of
each replication, stabilise them with the Anscombe transform sqrt(x + 3/8), and approximate
their joint distribution by a multivariate normal with the simulated mean and covariance. The
synthetic log-likelihood of the observed counts under that normal is maximised over theta
(Nelder-Mead in a transformed space: log for rates and multipliers, logit for fractions).
Because the random numbers are common, the objective is a deterministic function of theta,
and the same seed gives the same fit. Uncertainty comes from the curvature of the synthetic
log-likelihood at the optimum (a finite-difference Hessian, also under common random
numbers): an approximate 95% interval per parameter, or "not identified" where the data
leave the likelihood flat.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from scipy import optimize, stats

from sim.batch.execution import Execution, run_batch
from sim.batch.runner import default_workers
from sim.config.errors import UsageError
from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.design.batch import Batch, Source, assignments

Z95 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class FitParameter:
    """A parameter to calibrate: dotted path, bounds, and the transform that makes it
    unbounded for the optimiser (``log`` for positive values, ``logit`` for a bounded fraction)."""

    path: str
    low: float
    high: float
    transform: str  # "log" or "logit"
    what: str  # what the data say about it, for the report

    def to_free(self, value: float) -> float:
        value = min(max(value, self.low + 1e-9), self.high - 1e-9)
        if self.transform == "log":
            return math.log(value)
        share = (value - self.low) / (self.high - self.low)
        return math.log(share / (1 - share))

    def at_bound(self, value: float) -> bool:
        """True if a fitted value sits on a bound of its search range (then its likelihood
        is flat there, and its interval is not informative)."""
        return value <= self.low + 1e-6 * (self.high - self.low) or value >= self.high - 1e-6 * (self.high - self.low)

    def from_free(self, free: float) -> float:
        if self.transform == "log":
            return min(max(math.exp(free), self.low), self.high)
        return self.low + (self.high - self.low) / (1 + math.exp(-free))


DEFAULT_PARAMETERS = (
    FitParameter("threats.rocket.base_rate_per_day", 0.02, 0.6, "log", "level of the rocket and drone series"),
    FitParameter("threats.convoy_ied.base_rate_per_day", 0.02, 0.8, "log", "level of the convoy series"),
    FitParameter("campaign.regimes.pause.entry_weight", 0.01, 3.0, "log", "how often campaigns pause by chance (quarter-to-quarter dispersion)"),
    FitParameter("policy.us.strikes.capacity_loss", 0.0, 0.9, "logit", "response to the dated strikes of 2020"),
)


@dataclass(frozen=True)
class Settings:
    """How hard to work: replications per evaluation, optimiser budget, final check size."""

    replications: int = 200
    max_evaluations: int = 150
    final_replications: int = 2000
    hessian_step: float = 0.15

    @classmethod
    def quick(cls) -> "Settings":
        return cls(replications=40, max_evaluations=30, final_replications=300, hessian_step=0.25)


@dataclass(frozen=True)
class Fit:
    values: dict[str, float]  # fitted value per parameter path
    low: dict[str, float]  # approximate 95% interval, NaN where not identified
    high: dict[str, float]
    log_likelihood: float
    evaluations: int
    start: dict[str, float]


def synthetic_log_likelihood(simulated: np.ndarray, observed: np.ndarray) -> float:
    """Log density of ``observed`` (k counts) under a normal fitted to ``simulated``
    (R x k counts), both on the Anscombe scale; a small ridge keeps the covariance regular."""
    y, x = np.sqrt(simulated + 0.375), np.sqrt(observed + 0.375)
    mean = y.mean(axis=0)
    cov = np.atleast_2d(np.cov(y, rowvar=False)) + 0.05 * np.eye(y.shape[1])
    return float(stats.multivariate_normal.logpdf(x, mean, cov))


class Objective:
    """Synthetic log-likelihood of theta, by simulation under common random numbers."""

    def __init__(
        self, scenario_path: Path, base: dict, parameters: Sequence[FitParameter], columns: list[str],
        observed: np.ndarray, settings: Settings, seed: int, executor: Executor | None,
    ) -> None:  # fmt: skip
        self.scenario_path, self.base, self.parameters = scenario_path, base, tuple(parameters)
        self.columns, self.observed, self.settings, self.seed, self.executor = columns, observed, settings, seed, executor
        self.evaluations = 0
        self._cache: dict[tuple, float] = {}
        workers = 1 if executor is None else default_workers()
        self.chunk_size = max(1, math.ceil(settings.replications / workers))  # one chunk per worker

    def scenario(self, values: dict[str, float]) -> Scenario:
        return load_scenario(self.scenario_path, {**self.base, **values})

    def values(self, free: Sequence[float]) -> dict[str, float]:
        return {p.path: p.from_free(float(x)) for p, x in zip(self.parameters, free)}

    def __call__(self, free: Sequence[float]) -> float:
        key = tuple(round(float(x), 12) for x in free)
        if key not in self._cache:
            batch = Batch("calibration", (("fit", self.scenario(self.values(free))),), self.settings.replications, self.seed,
                          Source("calibration", self.scenario_path, assignments({**self.base, **self.values(free)})), chunk_size=self.chunk_size)  # fmt: skip
            result = run_batch(batch, execution=Execution(workers=1, executor=self.executor))
            if len(result.failures):
                failure = result.failures.iloc[0]
                raise UsageError(f"a replication failed during the fit at {self.values(free)}: {failure['error']} "
                                 f"(reproduce: {failure['reproduce']})")  # fmt: skip
            runs = result.runs
            self._cache[key] = synthetic_log_likelihood(runs[self.columns].to_numpy(float), self.observed)
            self.evaluations += 1
        return self._cache[key]


def fit(objective: Objective, start: dict[str, float], progress: Callable[[int], None] | None = None) -> Fit:
    """Maximise the synthetic log-likelihood from ``start``; then its curvature gives intervals."""
    x0 = np.array([p.to_free(start[p.path]) for p in objective.parameters])

    def negative(free: np.ndarray) -> float:
        value = -objective(free)
        if progress:
            progress(1)
        return value

    result = optimize.minimize(
        negative, x0, method="Nelder-Mead",
        options={"maxfev": objective.settings.max_evaluations, "xatol": 0.02, "fatol": 0.02,
                 "initial_simplex": x0 + np.vstack([np.zeros(len(x0)), 0.4 * np.eye(len(x0))])},
    )  # fmt: skip
    best = result.x
    low, high = intervals(objective, best)
    return Fit(objective.values(best), low, high, -float(result.fun), objective.evaluations, dict(start))


def intervals(objective: Objective, best: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Approximate 95% intervals from a finite-difference Hessian in the free space; a
    parameter whose direction the likelihood does not curve down is "not identified" (NaN)."""
    h, k = objective.settings.hessian_step, len(best)
    f0 = objective(best)
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            if i == j:
                hess[i, i] = (objective(best + ei) - 2 * f0 + objective(best - ei)) / h**2
            else:
                hess[i, j] = hess[j, i] = (
                    objective(best + ei + ej) - objective(best + ei - ej) - objective(best - ei + ej) + objective(best - ei - ej)
                ) / (4 * h * h)
    low, high = {}, {}
    sds = _free_sds(hess)
    for i, p in enumerate(objective.parameters):
        sd = sds[i]
        low[p.path] = p.from_free(best[i] - Z95 * sd) if math.isfinite(sd) else math.nan
        high[p.path] = p.from_free(best[i] + Z95 * sd) if math.isfinite(sd) else math.nan
    return low, high


def _free_sds(hess: np.ndarray) -> np.ndarray:
    """Standard deviations of the free parameters from the inverse of the negative Hessian.
    A parameter along which the likelihood is not curved downwards is "not identified"
    (infinity); it is dropped, flattest first, and the others keep their marginal intervals."""
    precision = -hess
    sds = np.full(len(precision), math.inf)
    if not np.isfinite(precision).all():
        return sds
    keep = [i for i in range(len(precision)) if precision[i, i] > 0]
    while keep:
        block = precision[np.ix_(keep, keep)]
        values, vectors = np.linalg.eigh(block)
        if values.min() > 1e-10 * values.max():
            sds[keep] = np.sqrt(np.diag(np.linalg.inv(block)))
            return sds
        keep.pop(int(np.argmax(np.abs(vectors[:, 0]))))  # the one most involved in the flattest direction
    return sds


def current_values(scenario: Scenario, parameters: Sequence[FitParameter]) -> dict[str, float]:
    """The scenario's present value of each parameter (the optimiser's starting point)."""
    values = {}
    for p in parameters:
        node = scenario
        for part in p.path.split("."):
            node = node[part] if isinstance(node, dict) or hasattr(node, "keys") else getattr(node, part)
        values[p.path] = float(node)
    return values
