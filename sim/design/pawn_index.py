"""The PAWN index for many permutations or bootstrap resamples of a design at once.

SALib's ``pawn.analyze`` cuts a parameter's values into ``S`` slices at their quantiles 0, 1/S,
..., 1 (a point belongs to slice s when q_s <= x < q_{s+1}, so the largest value belongs to
none) and takes the median over the slices of ``scipy.stats.ks_2samp(y[slice], y).statistic``.
Each of its calls also computes an exact KS p-value per slice that PAWN does not use, which
makes it far too slow to call thousands of times. This module computes the same index, to the
last bit, for a whole block of rearranged designs with array operations:

- the KS distance between a slice's empirical distribution and all points' is the largest
  gap between the two ECDFs at the end of each run of tied outcomes; from integer counts it is
  |c_slice n - c_all m| / (m n), which ``ks_2samp`` (computing exact p-values up to 10,000
  points) returns as the fraction h / lcm(m, n), so equal distances are equal floats here too
  (beyond 10,000 points, as the difference of the two ECDFs, as scipy does);
- the median over the slices is numpy's ``nanmedian`` (slices without points are left out).

A test holds it equal to SALib's on designs with tied parameter values and tied outcomes.
"""

from __future__ import annotations

import warnings

import numpy as np

EXACT_KS_POINTS = 10_000  # scipy's ks_2samp rounds its distance to a fraction up to this size (MAX_AUTO_N)
BLOCK = 250  # rearranged designs scored at a time (bounds memory to a few BLOCK x points arrays)


def slice_labels(x: np.ndarray, slices: int) -> np.ndarray:
    """SALib's slices of a parameter's values (the last axis of ``x``: one design, or one row per
    resample): the slice of each point, -1 for none (the largest value)."""
    step = 1 / slices
    quantile = (
        np.nanquantile if np.isnan(x).any() else np.quantile
    )  # the same values; nanquantile is slow along an axis
    edges = np.moveaxis(quantile(x, np.arange(0, 1 + step, step), axis=-1), 0, -1)[..., None]  # (..., S + 1, 1)
    labels = np.full(x.shape, -1)
    for s in range(slices):
        labels[(x >= edges[..., s, :]) & (x < edges[..., s + 1, :])] = s
    return labels


def median_distances(labels: np.ndarray, y: np.ndarray, slices: int, ordered: np.ndarray | None = None) -> np.ndarray:
    """The PAWN index of one parameter for each row of ``labels`` and ``y``.

    Parameters
    ----------
    labels : ndarray of int, shape (B, n)
        The slice of each point of each design (:func:`slice_labels`), -1 for none.
    y : ndarray, shape (B, n)
        The outcome of each point of each design.
    slices : int
        The number of slices.
    ordered : ndarray of int, shape (B, n), optional
        ``np.argsort(y, axis=1, kind="stable")`` when the caller has it already.

    Returns
    -------
    ndarray, shape (B,)
        The median KS distance over the slices; NaN where no slice holds a point.
    """
    n = y.shape[1]
    ordered = np.argsort(y, axis=1, kind="stable") if ordered is None else ordered
    ranked = np.take_along_axis(y, ordered, 1)
    ends = np.concatenate([ranked[:, 1:] != ranked[:, :-1], np.ones((len(y), 1), bool)], axis=1)  # last of each tie run
    sorted_labels = np.take_along_axis(labels, ordered, 1)
    below_all = np.arange(
        1, n + 1, dtype=np.int32
    )  # points at or below each run's end (n * n fits in 32 bits below EXACT_KS_POINTS)
    distances = np.full((len(y), slices), np.nan)
    for s in range(slices):
        below = np.cumsum(sorted_labels == s, axis=1, dtype=np.int32)
        members = below[:, -1]
        filled = members > 0
        if n > EXACT_KS_POINTS:
            with np.errstate(invalid="ignore", divide="ignore"):
                gap = np.where(ends, np.abs(below / members[:, None] - below_all / n), 0.0).max(axis=1)
            distances[filled, s] = gap[filled]
            continue
        gap = np.where(ends, np.abs(below * n - below_all * members[:, None]), 0).max(axis=1)
        g = np.gcd(members, n)
        distances[filled, s] = (gap[filled] // g[filled]) * 1.0 / ((members[filled] // g[filled]) * n)
    if not np.isnan(distances).any():
        return np.median(distances, axis=1)  # what nanmedian gives without NaN, faster
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": returned as NaN
        return np.nanmedian(distances, axis=1)


def pawn_index(x: np.ndarray, y: np.ndarray, slices: int) -> np.ndarray:
    """The PAWN index of each column of ``x`` (points x parameters) for outcome ``y``: SALib's
    ``pawn.analyze(...)["median"]``, bit for bit."""
    return np.array(
        [median_distances(slice_labels(x[:, j], slices)[None, :], y[None, :], slices)[0] for j in range(x.shape[1])]
    )


def resampled_indices(x: np.ndarray, y: np.ndarray, slices: int, samples: np.ndarray) -> np.ndarray:
    """The PAWN index of each column of ``x`` for outcome ``y`` on each resample of the points
    (``samples``: B x n row numbers, drawn with replacement), the slices cut anew on each:
    what ``pawn_index(x[i], y[i], slices)`` gives for every row ``i``, shape (B, parameters)."""
    out = np.empty((len(samples), x.shape[1]))
    for start in range(0, len(samples), BLOCK):
        rows = samples[start : start + BLOCK]
        for j in range(x.shape[1]):
            out[start : start + BLOCK, j] = median_distances(slice_labels(x[rows, j], slices), y[rows], slices)
    return out


def permuted_indices(x: np.ndarray, y: np.ndarray, slices: int, orders: np.ndarray) -> np.ndarray:
    """The PAWN index of each column of ``x`` when point i takes outcome ``y[orders[b, i]]``,
    for each permutation b (the slices stay those of the design), shape (B, parameters)."""
    labels = [slice_labels(x[:, j], slices) for j in range(x.shape[1])]
    out = np.empty((len(orders), x.shape[1]))
    for start in range(0, len(orders), BLOCK):
        permuted = y[orders[start : start + BLOCK]]
        ordered = np.argsort(permuted, axis=1, kind="stable")
        for j, lab in enumerate(labels):
            out[start : start + BLOCK, j] = median_distances(
                np.broadcast_to(lab, permuted.shape), permuted, slices, ordered
            )
    return out
