"""Moment-independent sensitivity of outcomes to the varied parameters of any sampled design
(PAWN: Pianosi and Wagener 2015), for sweeps whose design is not Saltelli's.

For a parameter, the design points are cut into ``S`` slices of equal count along its values;
the Kolmogorov-Smirnov distance between the outcome's distribution within a slice and over all
points says how much fixing the parameter near those values changes the outcome's whole
distribution, not only its variance. The PAWN index is the median distance over the slices
(SALib's ``pawn.analyze``, which needs no random draws): the effect size. With it:

- a **95% interval** from a bootstrap of the design points, shifted by the bootstrap's bias
  (estimate - (bootstrap mean - 2.5th percentile), estimate + (97.5th percentile - bootstrap
  mean)): resampling with replacement puts tied points in the slices and pushes the distances
  up, so the plain percentile interval would not even contain the estimate;
- a **permutation p-value** (:mod:`sim.design.permutation`): the outcome is permuted over the
  design points B times, which breaks any dependence on the parameters while keeping the design
  and the outcome's distribution, and p = (1 + #{permuted index >= observed}) / (1 + B). The
  95th percentile of the permuted indices is reported as the **no-effect level**;
- **influential** = the p-value adjusted by Holm's method over every computed row of the table
  (all outcomes and parameters) is below :data:`LEVEL` (5%): the chance that any parameter
  without effect on an outcome is called influential somewhere in the table is at most 5%.
  Holm rather than Benjamini-Hochberg because the table's tests are dependent in ways neither
  controls nor knows the sign of (the p-values of one outcome share its permutations; outcomes
  such as rocket attacks and U.S. killed move together), and Holm's guarantee holds under any
  dependence while Benjamini-Hochberg's false discovery rate needs positive dependence; and
  because a screening table is read row by row ("capacity loss drives U.S. killed"), which is a
  claim about each row, not about the share of false rows. Its price is power, which
  :func:`sim.design.permutation.permutations_for` keeps from being lost to too few
  permutations (B + 1 at least ten times the number of tests over the level, at least 999).

The test's null hypothesis is that the outcome does not depend on the parameter at all; it
sees interactions that change the outcome's distribution within the parameter's slices (also
its spread alone), not those that leave every one-parameter slice's distribution unchanged
(see :mod:`sim.design.permutation`). The outcome is the mean over each point's replications;
on a Latin hypercube the test is exact whatever that noise (common random numbers correlate it
across points): the design pairs each parameter's values with the other columns at random, so
under the null every pairing with the outcome is as likely as the observed one. A scrambled
Sobol' design pairs them less at random, and its test is approximate. ``influential`` empty (not False)
is "not tested", and the ``note`` column says why: fewer than 2 x :data:`FEWEST_PER_SLICE`
design points, or an outcome that is missing at some point or never varies.

The bootstrap and the permutations are drawn from streams of the sweep's root seed, one per
outcome, so the same sweep gives the same table, to the byte. They compute the index with
:mod:`sim.design.pawn_index` (SALib's, bit for bit, without the KS p-values SALib computes and
PAWN discards): thousands of indices per outcome in about a second.

Slices hold at least ten points each (up to ten slices). PAWN is meant for ranking and
screening, not for apportioning variance (use a Saltelli design for Sobol' indices).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.design.parameters import Parameter
from sim.design.pawn_index import BLOCK, resampled_indices
from sim.design.permutation import holm, permutation_pvalues, permutations_for

SLICES = 10  # conditioning slices per parameter at most (SALib's default)
FEWEST_PER_SLICE = 10  # points per slice at least
RESAMPLES = 200  # bootstrap resamples of the design points
LEVEL = 0.05  # Holm-adjusted permutation p below it: influential
FEWEST_PERMUTATIONS = 999  # permutations of the outcome at least (more for a table of many tests)
MOST_PERMUTATIONS = 9_999  # and at most: a table of fewer than 500 tests can still pass Holm at 5%
COLUMNS = [
    "outcome",
    "parameter",
    "pawn_median",
    "pawn_low95",
    "pawn_high95",
    "no_effect_level95",
    "p_permutation",
    "p_holm",
    "influential",
    "slices",
    "points",
    "permutations",
    "note",
]
_STREAM = 0x7061776E  # the bootstrap and permutation streams of a root seed, apart from the model's streams


# SALib cuts slices at np.arange(0, 1 + 1/S, 1/S), which overshoots 1 for S = 6 or 9 (and fails)
WORKING_SLICES = (2, 3, 4, 5, 7, 8, 10)


def slices_for(points: int) -> int:
    """The most slices of at least FEWEST_PER_SLICE points (2 at least, SLICES at most)."""
    return max([s for s in WORKING_SLICES if s <= min(SLICES, points // FEWEST_PER_SLICE)], default=2)


def pawn_indices(x: np.ndarray, y: np.ndarray, slices: int) -> np.ndarray:
    """The median PAWN distance of each column of ``x`` (points x parameters) for output ``y``."""
    from SALib.analyze import pawn

    problem = {
        "num_vars": x.shape[1],
        "names": [f"x{i}" for i in range(x.shape[1])],
        "bounds": [[0.0, 1.0]] * x.shape[1],
    }
    return np.asarray(pawn.analyze(problem, x, y, S=slices)["median"], dtype=float)


def too_few_points(points: int) -> str:
    """Why a design of ``points`` points gets no PAWN indices, or "" when it is large enough."""
    fewest = 2 * FEWEST_PER_SLICE
    return (
        f"not computed: PAWN needs at least {fewest} design points ({FEWEST_PER_SLICE} per slice), this design has {points}"
        if points < fewest
        else ""
    )


def why_not_tested(y: np.ndarray, points: int) -> str:
    """Why an outcome with values ``y`` at the design's points gets no PAWN row, or ""."""
    if too_few_points(points):
        return too_few_points(points)
    if not np.isfinite(y).all():
        return "not computed: the outcome is missing at some design points"
    if np.ptp(y) == 0:
        return "not computed: the outcome is the same at every design point"
    return ""


def pawn_table(
    parameters: Sequence[Parameter], points: pd.DataFrame, outcomes: Sequence[str], seed: int
) -> pd.DataFrame:
    """PAWN indices with bootstrap intervals, permutation p-values and Holm's decision for every
    outcome's point means (one row per outcome and parameter, see the module docstring).

    Parameters
    ----------
    parameters : sequence of Parameter
        The varied parameters (columns of ``points`` named by their paths).
    points : DataFrame
        One row per design point: ``point``, the parameter values and each outcome's mean.
    outcomes : sequence of str
        The outcome columns to analyse.
    seed : int
        The sweep's root seed; the table depends on it and on nothing else random.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`. Rows not computed (see ``note``) have empty indices, p-values,
        ``influential`` and ``slices``. ``influential`` is a nullable boolean.
    """
    paths = [p.path for p in parameters]
    ordered = points.sort_values("point")
    x = ordered[paths].to_numpy(float)
    n = len(ordered)
    slices = slices_for(n)
    values = {outcome: ordered[outcome].to_numpy(float) for outcome in outcomes}
    notes = {outcome: why_not_tested(y, n) for outcome, y in values.items()}
    permutations = permutations_for(
        len(paths) * sum(not note for note in notes.values()), LEVEL, FEWEST_PERMUTATIONS, MOST_PERMUTATIONS
    )
    rows = []
    for k, outcome in enumerate(outcomes):
        y, nan = values[outcome], np.full(len(paths), np.nan)
        estimate, low, high, p, level = nan, nan, nan, nan, nan
        if not notes[outcome]:
            boot_stream, permutation_stream = np.random.SeedSequence([seed, _STREAM, k]).spawn(2)
            estimate = pawn_indices(x, y, slices)
            _, p, level = permutation_pvalues(x, y, slices, permutations, np.random.default_rng(permutation_stream))
            low, high = _bootstrap_interval(x, y, slices, estimate, np.random.default_rng(boot_stream))
        for j, path in enumerate(paths):
            rows.append(
                {
                    "outcome": outcome,
                    "parameter": path,
                    "pawn_median": estimate[j],
                    "pawn_low95": low[j],
                    "pawn_high95": high[j],
                    "no_effect_level95": level[j],
                    "p_permutation": p[j],
                    "slices": np.nan if notes[outcome] else slices,
                    "points": n,
                    "permutations": np.nan if notes[outcome] else permutations,
                    "note": notes[outcome],
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["p_holm"] = holm(table["p_permutation"].to_numpy(float))
    decided = table["p_holm"].notna()
    table["influential"] = pd.array(
        [bool(v < LEVEL) if d else pd.NA for v, d in zip(table["p_holm"], decided)], dtype="boolean"
    )
    for column in ("slices", "permutations"):
        table[column] = table[column].astype("Int64")
    return table


def _bootstrap_interval(
    x: np.ndarray, y: np.ndarray, slices: int, estimate: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The bias-shifted 95% bootstrap interval of the PAWN indices (see the module docstring)."""
    n = len(y)
    blocks = [min(BLOCK, RESAMPLES - start) for start in range(0, RESAMPLES, BLOCK)]
    boot = np.concatenate([resampled_indices(x, y, slices, rng.integers(0, n, (b, n))) for b in blocks])
    lower, upper = np.percentile(boot, [2.5, 97.5], axis=0)
    centre = boot.mean(axis=0)
    return estimate - (centre - lower), estimate + (upper - centre)
