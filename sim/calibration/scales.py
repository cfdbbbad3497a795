"""The scale on which a statistic is compared with its observation.

Counts and sums are put on the Anscombe scale ``2 sqrt(x + 3/8)``, where a Poisson count has a
standard deviation of about one whatever its mean; shares, delays and ratios stay as they are.
"""

from __future__ import annotations

import numpy as np

STABILISED = ("count", "sum", "busiest_week", "attacks")  # statistics put on the Anscombe scale (counts)


def stabilised(statistic: str, value: np.ndarray | float) -> np.ndarray | float:
    """A statistic on the scale where its noise is compared."""
    return (
        2.0 * np.sqrt(np.asarray(value, dtype=float) + 0.375)
        if statistic in STABILISED
        else np.asarray(value, dtype=float)
    )
