"""Summary tables of outcome distributions (analysis only reads result tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.replication.outcomes import positive_reported

ID_COLUMNS = ("scenario", "replication", "seed")


def summarise_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per outcome: runs with a value, mean with a 95% t-interval, 5th/50th/95th
    percentiles, and P(outcome > 0) with a 95% Wilson interval for casualty outcomes.

    ``first_us_fatality_day`` is summarised over the runs that had a fatality (``n``)."""
    rows = []
    for col in runs.columns:
        if col in ID_COLUMNS:
            continue
        values = runs[col].dropna().to_numpy(dtype=float)
        rows.append({"outcome": col, **describe(values), **positive_share(runs[col], col in positive_reported())})
    return pd.DataFrame(rows).set_index("outcome")


def describe(values: np.ndarray) -> dict[str, float]:
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": np.nan, "ci95_low": np.nan, "ci95_high": np.nan, "p05": np.nan, "p50": np.nan, "p95": np.nan}
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    p05, p50, p95 = np.percentile(values, [5, 50, 95])
    return {"n": n, "mean": mean, "ci95_low": mean - half, "ci95_high": mean + half, "p05": p05, "p50": p50, "p95": p95}


def positive_share(column: pd.Series, wanted: bool) -> dict[str, float]:
    if not wanted:
        return {"p_positive": np.nan, "p_positive_low": np.nan, "p_positive_high": np.nan}
    k, n = int((column.fillna(0) > 0).sum()), len(column)
    low, high = wilson_interval(k, n)
    return {"p_positive": k / n if n else np.nan, "p_positive_low": low, "p_positive_high": high}


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def format_summary(summary: pd.DataFrame) -> str:
    """The summary as a fixed-width text table for the terminal."""
    shown = summary[["mean", "ci95_low", "ci95_high", "p05", "p50", "p95", "p_positive"]].copy()
    shown.columns = ["mean", "mean 95% CI lo", "hi", "p5", "p50", "p95", "P(>0)"]
    return shown.to_string(float_format=lambda v: f"{v:.2f}", na_rep="")
