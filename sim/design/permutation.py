"""Permutation test of the PAWN index: does an outcome depend on a parameter at all?

Permuting the outcome over the design points keeps the design and the outcome's distribution
and breaks any dependence between the two: under the null hypothesis that the outcome is
independent of the parameter, every pairing is as likely as the observed one, and

    p = (1 + #{permutations whose index >= the observed one}) / (1 + B)

is a valid p-value for B permutations drawn at random. The index (SALib's PAWN index, computed
by :mod:`sim.design.pawn_index`) takes discrete values, so permuted indices often tie with the
observed one; counting the ties makes the test conservative: at 5% it rejects a true null about
4.6% of the time with 120 points in ten slices, about 3.5% with 60 points in five (measured over
2,000 seeds, +-0.5 points).

What it sees and what it does not. The null is independence of the outcome and one parameter,
whatever the others do. A parameter that acts only jointly with another (y = (x1 - 1/2)(x2 - 1/2)
has no main effect of either) still changes the outcome's distribution within its slices (the
spread of y is small where x1 is near 1/2 and large at its ends), and the KS distance sees a
change of spread or shape as well as of level: such an interaction is found for both parameters,
though with less power than a main effect of the same size (the median over slices dilutes it:
with 200 points and little noise, about 80% of designs find it, with 400 all but 1%). An
interaction that leaves the outcome's distribution within every slice of each parameter unchanged
is invisible (y = 1 when x1 and x2 lie on the same side of 1/2 and 0 otherwise: given x1 alone,
y is still 0 or 1 with even odds). Nor does a small p say whether the effect is the parameter's
own or shared with another: it says that the outcome depends on the parameter, not how.
"""

from __future__ import annotations

import math

import numpy as np

from sim.design.pawn_index import BLOCK, pawn_index, permuted_indices


def permutation_pvalues(
    x: np.ndarray, y: np.ndarray, slices: int, permutations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Permutation p-values of the PAWN index of each column of ``x`` (points x parameters) for
    outcome ``y``, from ``permutations`` random permutations of ``y`` drawn from ``rng`` (the
    same permutations for every parameter: one parameter's index depends only on its pairing
    with the outcome, so permuting the outcome is permuting it against each parameter's values).

    Returns
    -------
    observed, p, null95 : ndarray, shape (parameters,)
        The PAWN index, its p-value ``(1 + #{permuted >= observed}) / (1 + B)`` (NaN where the
        index is), and the 95th percentile of its permutation distribution (the level an index
        without effect reaches one time in twenty).
    """
    n = len(y)
    observed = pawn_index(x, y, slices)
    blocks = [
        min(BLOCK, permutations - start) for start in range(0, permutations, BLOCK)
    ]  # drawn block by block: memory
    null = np.concatenate(
        [permuted_indices(x, y, slices, rng.permuted(np.broadcast_to(np.arange(n), (b, n)), axis=1)) for b in blocks]
    )
    p = (1 + (null >= observed).sum(axis=0)) / (1 + permutations)
    return observed, np.where(np.isnan(observed), np.nan, p), np.nanpercentile(null, 95, axis=0)


def permutations_for(tests: int, level: float, fewest: int, most: int) -> int:
    """The permutations a table of ``tests`` Holm-adjusted tests at ``level`` needs: the
    smallest p-value a permutation test can give, 1 / (1 + B), must lie well below Holm's first
    threshold level / tests, here at a tenth of it; B + 1 a multiple of 1,000, B in [fewest, most]."""
    needed = 1000 * math.ceil(10 * max(tests, 1) / level / 1000) - 1
    return int(min(most, max(fewest, needed)))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of the p-values ``p`` (NaN entries are not tests and stay
    NaN): the adjusted p of the k-th smallest of m is max over j <= k of min(1, (m - j + 1) p_(j)).
    A hypothesis is rejected at level a when its adjusted p is below a; the chance of rejecting
    any true one is at most a, whatever the dependence between the tests."""
    p = np.asarray(p, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return adjusted
