"""What the fitted statistics can tell about each parameter at best: a simulation study on the
prior pilot's replications (each with its parameters drawn from the priors).

For each parameter, a regression predicts its value on the normal scale of its prior (the
normal quantile of its prior distribution function, standard normal under the prior) from the
simulated statistics: each on the scale the distance compares it on, standardised, with its
square (so that a statistic that peaks in the middle of a parameter's range still counts),
ridge-penalised, the penalty chosen by 5-fold cross-validation. Its cross-validated R^2 is the
share of the parameter's prior variance that the statistics explain; under a normal,
linear-in-the-features approximation the posterior's standard deviation is then
``sqrt(1 - R^2)`` of the prior's, whatever the observed values, so this is the width ratio an
ideal calibration on these statistics could expect. A parameter whose attainable ratio is near 1
cannot be informed by the window, by any inference on these statistics; that is a property of
the record and the model, not of the sampler. (A regression can miss what only interactions
reveal, so a ratio near 1 is an upper bound on what is learnt only to that extent.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.execution import Execution, run_batch
from sim.calibration.priors import Prior
from sim.calibration.public_record import Observation
from sim.calibration.scales import stabilised
from sim.design.batch import Batch, Source
from sim.design.posterior import PARAMETER_PREFIX, Draws

if TYPE_CHECKING:
    from sim.calibration.settings import CalibrationFile

FOLDS = 5
PENALTIES = (0.1, 1.0, 10.0, 100.0, 1000.0)
ALONE_CHUNK = 25
EDGE = 1e-6  # the prior distribution function is kept inside (EDGE, 1 - EDGE) before its normal quantile


@dataclass(frozen=True)
class Features:
    """How a replication's statistics become regression features: each statistic (on the
    distance's scale) standardised, and its square standardised; a statistic that never varied
    in the study is left out, a value a replication could not measure is the study's mean."""

    ids: tuple[str, ...]
    statistics: tuple[str, ...]
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    square_mean: tuple[float, ...]
    square_sd: tuple[float, ...]

    def of(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Rows of features for arrays of statistic values (check id -> values)."""
        columns = []
        for i, name in enumerate(self.ids):
            x = np.asarray(stabilised(self.statistics[i], np.asarray(values[name], dtype=float)), dtype=float)
            z = (np.where(np.isnan(x), self.mean[i], x) - self.mean[i]) / self.sd[i]
            columns += [z, (z**2 - self.square_mean[i]) / self.square_sd[i]]
        n = len(np.atleast_1d(next(iter(values.values())))) if values else 0
        return np.column_stack(columns) if columns else np.zeros((n, 0))


def study_features(runs: pd.DataFrame, fitted: Sequence[Observation]) -> Features:
    """The standardisation of :class:`Features`, from the study's replications."""
    ids, statistics, mean, sd, square_mean, square_sd = [], [], [], [], [], []
    for obs in fitted:
        x = np.asarray(stabilised(obs.check.statistic, runs[obs.check.column].to_numpy(float)), dtype=float)
        if np.all(np.isnan(x)):
            continue
        m = float(np.nanmean(x))
        z_sd = float(np.std(np.where(np.isnan(x), m, x)))
        if z_sd <= 0:
            continue
        z = (np.where(np.isnan(x), m, x) - m) / z_sd
        ids.append(obs.check.id)
        statistics.append(obs.check.statistic)
        mean.append(m)
        sd.append(z_sd)
        square_mean.append(float(np.mean(z**2)))
        square_sd.append(max(float(np.std(z**2)), 1e-12))
    return Features(tuple(ids), tuple(statistics), tuple(mean), tuple(sd), tuple(square_mean), tuple(square_sd))


def features(runs: pd.DataFrame, fitted: Sequence[Observation]) -> np.ndarray:
    """The study's features of its own replications (see :class:`Features`)."""
    spec = study_features(runs, fitted)
    return spec.of({i: runs["check." + i].to_numpy(float) for i in spec.ids}) if spec.ids else np.zeros((len(runs), 0))


@dataclass(frozen=True)
class Regression:
    """A ridge regression of one parameter's normal score on the features, and its
    cross-validated R^2."""

    r2: float
    intercept: float
    coefficients: tuple[float, ...]


def fit_regression(X: np.ndarray, y: np.ndarray) -> Regression:
    """The penalty of ``PENALTIES`` with the best cross-validated R^2 (folds by index:
    replication r in fold r mod FOLDS, so the study is deterministic), then the fit on all."""
    n = len(y)
    fold = np.arange(n) % FOLDS
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0 or X.shape[1] == 0:
        return Regression(0.0, float(y.mean()) if n else 0.0, (0.0,) * X.shape[1])

    def solve(A: np.ndarray, b: np.ndarray, penalty: float) -> tuple[float, np.ndarray]:
        mx, my = A.mean(axis=0), b.mean()
        coef = np.linalg.solve((A - mx).T @ (A - mx) + penalty * np.eye(A.shape[1]), (A - mx).T @ (b - my))
        return my - float(mx @ coef), coef

    best, chosen = -np.inf, PENALTIES[0]
    for penalty in PENALTIES:
        squared = 0.0
        for k in range(FOLDS):
            train, test = fold != k, fold == k
            intercept, coef = solve(X[train], y[train], penalty)
            squared += float(np.sum((y[test] - intercept - X[test] @ coef) ** 2))
        if 1.0 - squared / total > best:
            best, chosen = 1.0 - squared / total, penalty
    intercept, coef = solve(X, y, chosen)
    return Regression(best, intercept, tuple(float(c) for c in coef))


def cross_validated_r2(X: np.ndarray, y: np.ndarray) -> float:
    return fit_regression(X, y).r2


def normal_scores(prior: Prior, values: np.ndarray) -> np.ndarray:
    """A parameter's values on the normal scale of its prior (standard normal under the prior)."""
    return stats.norm.ppf(np.clip(prior.distribution().cdf(values), EDGE, 1 - EDGE))


def attainable_widths(runs: pd.DataFrame, priors: Sequence[Prior], fitted: Sequence[Observation]) -> pd.DataFrame:
    """Per parameter: the cross-validated R^2 and the attainable width ratio (module docstring)."""
    X = features(runs, fitted)
    rows = []
    for prior in priors:
        r2 = cross_validated_r2(X, normal_scores(prior, runs[PARAMETER_PREFIX + prior.path].to_numpy(float)))
        rows.append(
            {
                "parameter": prior.path,
                "r2_cv": r2,
                "attainable_width_ratio": float(np.sqrt(1.0 - min(max(r2, 0.0), 1.0))),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Projection:
    """The statistics projected on what they say about the parameters (semi-automatic ABC,
    Fearnhead and Prangle 2012): for each parameter, its regression's prediction from the
    features, on the parameter's normal scale. Fitted once on the prior pilot, then fixed."""

    features: Features
    parameters: tuple[str, ...]
    regressions: tuple[Regression, ...]

    def project(self, values: Mapping[str, float]) -> np.ndarray:
        """The predicted normal score of every parameter for one set of statistics."""
        if not self.features.ids:
            return np.zeros(len(self.parameters))
        X = self.features.of({i: np.array([values[i]], dtype=float) for i in self.features.ids})[0]
        return np.array([r.intercept + float(X @ np.asarray(r.coefficients)) for r in self.regressions])


def fit_projection(runs: pd.DataFrame, priors: Sequence[Prior], fitted: Sequence[Observation]) -> Projection:
    """The projection of the point observations among ``fitted`` (closed ranges), fitted on the
    prior pilot's ``runs``."""
    spec = study_features(runs, [o for o in fitted if o.high is not None])
    X = spec.of({i: runs["check." + i].to_numpy(float) for i in spec.ids}) if spec.ids else np.zeros((len(runs), 0))
    regressions = tuple(
        fit_regression(X, normal_scores(p, runs[PARAMETER_PREFIX + p.path].to_numpy(float))) for p in priors
    )
    return Projection(spec, tuple(p.path for p in priors), regressions)


def one_at_a_time(calibration: CalibrationFile, replications: int, execution: Execution) -> pd.DataFrame:
    """The study again, with every parameter but one at its prior median: what the statistics
    could tell about each parameter if all the others were known (the most favourable case).
    A parameter that stays near 1 here cannot be informed by the window's statistics at all; one
    that drops here but not in the joint study is informed only in combination with others.
    Parameter j's value in replication r is its prior's (r + 1/2) / n quantile."""
    priors, fitted = calibration.priors, calibration.fitted
    checks = tuple(o.check for o in fitted)
    centre = {p.path: float(p.distribution().median()) for p in priors}
    paths = tuple(p.path for p in priors)
    digest = hashlib.sha256(calibration.path.read_bytes()).hexdigest()
    source = Source("calibration", calibration.path)
    tables = []
    for j, prior in enumerate(priors):
        quantiles = prior.distribution().ppf((np.arange(replications) + 0.5) / replications)
        values = tuple(
            tuple(float(quantiles[r]) if i == j else centre[p] for i, p in enumerate(paths))
            for r in range(replications)
        )
        draws = Draws(
            f"{prior.path} alone, the others at their prior medians",
            digest,
            paths,
            tuple(range(replications)),
            values,
            1,
        )
        batch = Batch(
            f"alone-{prior.name}",
            (("alone", calibration.scenario),),
            replications,
            calibration.header.root_seed,
            source,
            chunk_size=ALONE_CHUNK,
            checks=checks,
            draws=draws,
        )
        tables.append(attainable_widths(run_batch(batch, execution=execution).runs, [prior], fitted))
    return pd.concat(tables, ignore_index=True)
