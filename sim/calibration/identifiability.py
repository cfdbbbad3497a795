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
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.execution import Execution, run_batch
from sim.calibration.distance import stabilised
from sim.calibration.priors import Prior
from sim.calibration.public_record import Observation
from sim.design.batch import Batch, Source
from sim.design.posterior import PARAMETER_PREFIX, Draws

if TYPE_CHECKING:
    from sim.calibration.settings import CalibrationFile

FOLDS = 5
PENALTIES = (0.1, 1.0, 10.0, 100.0, 1000.0)
ALONE_CHUNK = 25
EDGE = 1e-6  # the prior distribution function is kept inside (EDGE, 1 - EDGE) before its normal quantile


def features(runs: pd.DataFrame, fitted: Sequence[Observation]) -> np.ndarray:
    """The statistics of each replication, standardised, and their squares (a column that never
    varies is dropped; a value the replication could not measure is the column's mean)."""
    columns = []
    for obs in fitted:
        x = np.asarray(stabilised(obs.check.statistic, runs[obs.check.column].to_numpy(float)), dtype=float)
        x = np.where(np.isnan(x), np.nanmean(x) if np.any(~np.isnan(x)) else 0.0, x)
        sd = x.std()
        if sd > 0:
            z = (x - x.mean()) / sd
            columns += [z, (z**2 - np.mean(z**2)) / max(np.std(z**2), 1e-12)]
    return np.column_stack(columns) if columns else np.zeros((len(runs), 0))


def cross_validated_r2(X: np.ndarray, y: np.ndarray) -> float:
    """The best cross-validated R^2 of a ridge regression of ``y`` on ``X`` over the penalties;
    folds by index (replication r in fold r mod FOLDS), so the study is deterministic."""
    n = len(y)
    fold = np.arange(n) % FOLDS
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0 or X.shape[1] == 0:
        return 0.0
    best = -np.inf
    for penalty in PENALTIES:
        squared = 0.0
        for k in range(FOLDS):
            train, test = fold != k, fold == k
            mx, my = X[train].mean(axis=0), y[train].mean()
            A, b = X[train] - mx, y[train] - my
            coef = np.linalg.solve(A.T @ A + penalty * np.eye(X.shape[1]), A.T @ b)
            squared += float(np.sum((y[test] - my - (X[test] - mx) @ coef) ** 2))
        best = max(best, 1.0 - squared / total)
    return best


def attainable_widths(runs: pd.DataFrame, priors: Sequence[Prior], fitted: Sequence[Observation]) -> pd.DataFrame:
    """Per parameter: the cross-validated R^2 and the attainable width ratio (module docstring)."""
    X = features(runs, fitted)
    rows = []
    for prior in priors:
        u = prior.distribution().cdf(runs[PARAMETER_PREFIX + prior.path].to_numpy(float))
        y = stats.norm.ppf(np.clip(u, EDGE, 1 - EDGE))
        r2 = cross_validated_r2(X, y)
        rows.append({"parameter": prior.path, "r2_cv": r2, "attainable_width_ratio": float(np.sqrt(1.0 - min(max(r2, 0.0), 1.0)))})
    return pd.DataFrame(rows)


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
        values = tuple(tuple(float(quantiles[r]) if i == j else centre[p] for i, p in enumerate(paths)) for r in range(replications))
        draws = Draws(f"{prior.path} alone, the others at their prior medians", digest, paths, tuple(range(replications)), values, 1)
        batch = Batch(f"alone-{prior.name}", (("alone", calibration.scenario),), replications, calibration.header.root_seed,
                      source, chunk_size=ALONE_CHUNK, checks=checks, draws=draws)  # fmt: skip
        tables.append(attainable_widths(run_batch(batch, execution=execution).runs, [prior], fitted))
    return pd.concat(tables, ignore_index=True)
