"""When a state of the world fails, on the evidence of its replications.

A robustness experiment asks, state by state, whether an option does worse than a line: than
the reference option of the same state (its paired difference), or than a threshold. A state
*fails* only when its replications say so: the two-sided 95% t interval of the state's mean
*shortfall* lies wholly above 0. The shortfall of a replication is how much worse than the line
it did, signed so that positive is worse: the paired difference from the reference (the other
way round where more is better), or the value minus a maximum (a minimum minus the value). A
state whose interval holds 0 is *undecided*: its replications can tell neither way.

So a state whose true mean sits exactly on the line fails with probability 2.5%: of 64 such
states, about 1.6 fail by chance, scattered over the space. A case with several lines (an
option's thresholds: it misses them when it misses any) fails a state when any line's interval
excludes 0 on the worse side.

With bootstrap weights (how often each replication is drawn in each resample, the same for every
state: the replications are the futures every state shares), the same rule is read on each
resample, so that scenario discovery can check how its boxes move with another set of futures.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95  # two-sided: a state fails when its interval's lower end is above 0


def shortfall_bounds(shortfall: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 95% t interval of the mean shortfall over the last axis (replications), NaN ignored.

    Parameters
    ----------
    shortfall : ndarray
        [..., replication]: how much worse than the line each replication did (positive: worse).
    weights : ndarray, optional
        [resample, replication]: how often each replication is drawn in each resample (frequency
        weights). Without it, one interval from the replications as they are.

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper ends, shaped [...] (or [..., resample] with ``weights``); NaN where fewer
        than two replications have a value.
    """
    known = np.isfinite(shortfall)
    values = np.where(known, shortfall, 0.0)
    w = np.ones((1, shortfall.shape[-1])) if weights is None else np.asarray(weights, dtype=float)
    count = known.astype(float) @ w.T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (values @ w.T) / count
        deviations = np.where(
            known[..., None], values[..., None] - mean[..., None, :], 0.0
        )  # [..., replication, resample]
        variance = np.einsum("...rb,br->...b", deviations**2, w) / (count - 1)
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, count - 1) * np.sqrt(variance / count)
    low, high = np.where(count > 1, mean - half, np.nan), np.where(count > 1, mean + half, np.nan)
    return (low[..., 0], high[..., 0]) if weights is None else (low, high)


def failing(shortfall: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Whether each state fails: [line, state, replication] -> [state] (or [state, resample]
    with ``weights``): some line's interval lies wholly above 0."""
    low, _ = shortfall_bounds(shortfall, weights)
    return np.any(low > 0, axis=0)


def cleared(shortfall: np.ndarray) -> np.ndarray:
    """Whether each state is shown to hold every line: [line, state, replication] -> [state]:
    every line's interval lies wholly below 0."""
    _, high = shortfall_bounds(shortfall)
    return np.all(high < 0, axis=0)
