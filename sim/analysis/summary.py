"""Summaries of outcome distributions: one row per (scenario, outcome).

Analysis only reads result tables: ``runs`` holds one row per (scenario, replication) with the
columns ``scenario``, ``replication``, ``seed`` and the outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.design.posterior import DRAW, PARAMETER_PREFIX
from sim.replication.outcomes import positive_reported

ID_COLUMNS = ("scenario", "replication", "seed")


def summarise(runs: pd.DataFrame, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Distribution of each outcome in each scenario, one row per (scenario, outcome).

    Parameters
    ----------
    runs : DataFrame
        One row per (scenario, replication); outcome columns may be int, float, nullable
        ``Float64`` (empty when the event did not happen) or bool (read as 0/1).
    outcomes : the outcome columns to summarise (default: every column but the identifiers).

    Returns
    -------
    DataFrame
        Columns ``scenario``, ``outcome``, ``n_runs`` (rows of the scenario), ``n`` (rows with a
        value), ``mean`` with its 95% t-interval ``ci95_low``/``ci95_high``, ``p05``/``p50``/``p95``
        (all over the rows with a value), and ``p_positive`` = P(outcome > 0) with its 95% Wilson
        interval ``p_positive_low``/``p_positive_high``, over all rows (an empty value counts as
        not > 0). Scenarios in order of first appearance, outcomes in the given order.

    Raises
    ------
    KeyError
        If ``scenario`` or an outcome column is missing.
    """
    outcomes = outcome_names(runs) if outcomes is None else list(outcomes)
    missing = [c for c in ["scenario", *outcomes] if c not in runs.columns]
    if missing:
        raise KeyError(f"runs has no column {', '.join(map(repr, missing))}")
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        for outcome in outcomes:
            values = outcome_values(group[outcome])
            rows.append(
                {
                    "scenario": scenario,
                    "outcome": outcome,
                    "n_runs": len(values),
                    **describe(values.dropna().to_numpy()),
                    **positive_share(values),
                }
            )
    return pd.DataFrame(rows)


def outcome_names(runs: pd.DataFrame) -> list[str]:
    """The outcome columns of a runs table: every column but the identifiers and, in a batch
    over a posterior, the draw and the drawn parameters."""
    return [c for c in runs.columns if c not in ID_COLUMNS and c != DRAW and not c.startswith(PARAMETER_PREFIX)]


def outcome_values(column: pd.Series) -> pd.Series:
    """An outcome column as float64 with NaN for empty values (bools as 0/1)."""
    return pd.Series(column.to_numpy(dtype=float, na_value=np.nan), index=column.index, name=column.name)


def describe(values: np.ndarray) -> dict[str, float]:
    n = len(values)
    if n == 0:
        return {
            "n": 0,
            "mean": np.nan,
            "ci95_low": np.nan,
            "ci95_high": np.nan,
            "p05": np.nan,
            "p50": np.nan,
            "p95": np.nan,
        }
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    p05, p50, p95 = np.percentile(values, [5, 50, 95])
    return {"n": n, "mean": mean, "ci95_low": mean - half, "ci95_high": mean + half, "p05": p05, "p50": p50, "p95": p95}


def positive_share(column: pd.Series) -> dict[str, float]:
    """P(value > 0) with its 95% Wilson interval (an empty value counts as not > 0)."""
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
    # at 0 or n successes the bound is exactly 0 or 1; rounding would leave 5.55e-17
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def format_summary(summary: pd.DataFrame) -> str:
    """One scenario's summary as a fixed-width text table for the terminal: outcomes down;
    P(>0) shown for the outcomes whose declaration asks for it."""
    shown = summary.set_index("outcome")[["mean", "ci95_low", "ci95_high", "p05", "p50", "p95", "p_positive"]].copy()
    shown.loc[~shown.index.isin(positive_reported()), "p_positive"] = np.nan
    shown.columns = ["mean", "mean 95% CI lo", "hi", "p5", "p50", "p95", "P(>0)"]
    shown.index.name = None
    return shown.to_string(float_format=lambda v: f"{v:.2f}", na_rep="")
