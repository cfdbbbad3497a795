"""Moment-independent sensitivity of outcomes to the varied parameters of any sampled design
(PAWN: Pianosi and Wagener 2015), for sweeps whose design is not Saltelli's.

For a parameter, the design points are cut into ``S`` slices of equal count along its values;
the Kolmogorov-Smirnov distance between the outcome's distribution within a slice and over all
points says how much fixing the parameter near those values changes the outcome's whole
distribution, not only its variance. The PAWN index is the median distance over the slices
(SALib's ``pawn.analyze``, which needs no random draws). Two additions make it readable:

- a **95% interval** from a bootstrap of the design points, shifted by the bootstrap's bias
  (estimate - (bootstrap mean - 2.5th percentile), estimate + (97.5th percentile - bootstrap
  mean)): resampling with replacement puts tied points in the slices and pushes the distances
  up, so the plain percentile interval would not even contain the estimate;
- a **no-effect level**: the 95th percentile of the index when the outcomes are randomly
  permuted over the points (which breaks any dependence on the parameters while keeping the
  design and the outcome's distribution). Even a parameter without any effect has a distance
  well above zero from sampling noise alone; a parameter is marked ``influential`` when the
  lower end of its interval lies above that level.

Both are seeded from the sweep's root seed, so the same sweep gives the same table.

Slices hold at least ten points each (up to ten slices). A Latin hypercube or a Sobol' sequence of
a few dozen points ranks strong parameters; PAWN is meant for ranking and screening, not for apportioning variance (use a
Saltelli design for Sobol' indices).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.design.parameters import Parameter

SLICES = 10  # conditioning slices per parameter at most (SALib's default)
FEWEST_PER_SLICE = 10  # points per slice at least
RESAMPLES = 200  # bootstrap resamples of the design points
PERMUTATIONS = 200  # permutations of the outcomes for the no-effect level
COLUMNS = ["outcome", "parameter", "pawn_median", "pawn_low95", "pawn_high95", "no_effect_level95", "influential", "slices", "points"]
_STREAM = 0x7061776E  # the bootstrap stream of a root seed, apart from the model's streams


# SALib cuts slices at np.arange(0, 1 + 1/S, 1/S), which overshoots 1 for S = 6 or 9 (and fails)
WORKING_SLICES = (2, 3, 4, 5, 7, 8, 10)


def slices_for(points: int) -> int:
    """The most slices of at least FEWEST_PER_SLICE points (2 at least, SLICES at most)."""
    return max([s for s in WORKING_SLICES if s <= min(SLICES, points // FEWEST_PER_SLICE)], default=2)


def pawn_indices(x: np.ndarray, y: np.ndarray, slices: int) -> np.ndarray:
    """The median PAWN distance of each column of ``x`` (points x parameters) for output ``y``."""
    from SALib.analyze import pawn

    problem = {"num_vars": x.shape[1], "names": [f"x{i}" for i in range(x.shape[1])], "bounds": [[0.0, 1.0]] * x.shape[1]}
    return np.asarray(pawn.analyze(problem, x, y, S=slices)["median"], dtype=float)


def pawn_table(parameters: Sequence[Parameter], points: pd.DataFrame, outcomes: Sequence[str], seed: int) -> pd.DataFrame:
    """PAWN indices with bootstrap intervals of every outcome's point means (one row per outcome
    and parameter, see the module docstring); NaN for an outcome that never varies."""
    paths = [p.path for p in parameters]
    ordered = points.sort_values("point")
    x = ordered[paths].to_numpy(float)
    n = len(ordered)
    slices = slices_for(n)
    rows = []
    for k, outcome in enumerate(outcomes):
        y = ordered[outcome].to_numpy(float)
        nan = np.full(len(paths), np.nan)
        estimate, low, high, level = nan, nan, nan, np.nan
        if n >= 2 * FEWEST_PER_SLICE and np.isfinite(y).all() and np.ptp(y) > 0:
            rng = np.random.default_rng(np.random.SeedSequence([seed, _STREAM, k]))
            estimate = pawn_indices(x, y, slices)
            boot = np.array([pawn_indices(x[i], y[i], slices) for i in (rng.integers(0, n, n) for _ in range(RESAMPLES))])
            lower, upper = np.percentile(boot, [2.5, 97.5], axis=0)
            centre = boot.mean(axis=0)
            low, high = estimate - (centre - lower), estimate + (upper - centre)
            level = float(np.percentile([pawn_indices(x, rng.permutation(y), slices) for _ in range(PERMUTATIONS)], 95))
        for j, path in enumerate(paths):
            rows.append({"outcome": outcome, "parameter": path, "pawn_median": estimate[j], "pawn_low95": low[j],
                         "pawn_high95": high[j], "no_effect_level95": level, "influential": bool(low[j] > level),
                         "slices": slices, "points": n})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
