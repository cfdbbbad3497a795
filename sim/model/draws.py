"""Draws by inverse CDF from uniforms fixed in advance.

Every choice in the model that depends on a uniform drawn earlier (a target, a regime, a salvo
size, a casualty count) goes through these functions, so that two scenarios that see the same
uniform make the same choice wherever their weights agree (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_POISSON_MAX = 10_000


def pick_weighted(weights: Sequence[float], u: float) -> int | None:
    """The index whose share of the cumulative weight holds ``u`` in [0, 1): the first index
    whose cumulative weight exceeds ``u`` x total. An index of zero weight is never picked;
    None when no weight is positive."""
    total = 0.0
    for weight in weights:  # summed in order, as the cumulative weights below
        total += weight
    if total <= 0:
        return None
    threshold, cumulative, last = u * total, 0.0, None
    for index, weight in enumerate(weights):
        if weight > 0:
            cumulative += weight
            last = index
            if cumulative > threshold:
                return index
    return last  # u x total rounded up to the total: the last index with weight


def poisson_quantile(mean: float, u: float) -> int:
    """The smallest k with P(Poisson(mean) <= k) >= u (inverse CDF, for small means)."""
    if mean <= 0.0:
        return 0
    term = math.exp(-mean)
    cdf, k = term, 0
    while u > cdf and k < _POISSON_MAX:
        k += 1
        term *= mean / k
        cdf += term
        if term == 0.0 and k > mean:  # the tail below float precision
            break
    return k


def binomial_quantile(n: int, p: float, u: float) -> int:
    """The smallest k with P(Binomial(n, p) <= k) >= u (inverse CDF, for small n)."""
    if p <= 0.0 or n <= 0:
        return 0
    if p >= 1.0:
        return n
    term = (1.0 - p) ** n
    cdf, k, odds = term, 0, p / (1.0 - p)
    while u > cdf and k < n:
        term *= (n - k) / (k + 1) * odds
        k += 1
        cdf += term
    return k
