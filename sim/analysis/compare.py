"""Comparison of policy scenarios run under common random numbers.

Analysis only reads result tables: ``runs`` holds one row per (scenario, replication) with the
columns ``scenario``, ``replication``, ``seed`` and the outcomes. Replication r of every scenario
drew from the same random streams, so rows with the same replication number are paired: their
difference is due to policy alone, which is why paired intervals are narrower than unpaired ones.

Because the replications are paired, the tests of a comparison are paired too: the Wilcoxon
signed-rank test on the differences and the exact sign test on the pairs that differ. Two-sample
tests (Kolmogorov-Smirnov, Mann-Whitney) would treat the pairs as independent samples, throw away
what common random numbers bought, and could contradict the paired interval; they have no place
in a comparison of paired scenarios.

Every function here is deterministic (no random draws, no resampling).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from sim.analysis.summary import describe, outcome_values

CONFIDENCE = 0.95
KEYS = ("scenario", "replication")


def paired_differences(runs: pd.DataFrame, reference: str, outcomes: Sequence[str]) -> pd.DataFrame:
    """Each scenario against the reference, outcome by outcome, over paired replications.

    For each non-reference scenario and outcome the pairs are the replications present in both
    scenarios with a value in both; every statistic of the row is computed on those pairs.

    Parameters
    ----------
    runs : DataFrame
        One row per (scenario, replication), as for :func:`summarise_scenarios`.
    reference : str
        The scenario the others are compared with (differences are scenario - reference).
    outcomes : sequence of str
        The outcome columns to compare.

    Returns
    -------
    DataFrame
        One row per (scenario, outcome): ``scenario``, ``reference``, ``outcome``, ``n_pairs``,
        ``mean_reference``, ``mean_scenario``, ``mean_diff`` with its paired 95% t-interval
        ``diff_ci95_low``/``diff_ci95_high``, the Welch interval ``unpaired_ci95_low``/
        ``unpaired_ci95_high`` (the same values treated as independent samples),
        ``variance_reduction`` = 1 - var(diff) / (var(reference) + var(scenario)) (the share of
        variance removed by common random numbers; NaN when undefined), ``ci_width_ratio`` =
        paired width / unpaired width, the numbers of pairs in which the scenario is higher,
        tied and lower (``n_higher``/``n_tied``/``n_lower``), and the two-sided p-values of the
        paired tests of no difference, Wilcoxon's signed-rank test ``p_wilcoxon`` and the exact
        sign test ``p_sign`` (see :func:`paired_tests`), with their Holm-corrected versions
        ``p_wilcoxon_holm``/``p_sign_holm`` (corrected across the rows of the table that test
        something: a row whose pairs are all tied keeps p = 1 and does not count in m).

    Raises
    ------
    KeyError
        If a needed column is missing.
    ValueError
        If the reference scenario is absent or a (scenario, replication) appears twice.
    """
    _check_columns(runs, [*KEYS, *outcomes])
    if not (runs["scenario"] == reference).any():
        raise ValueError(
            f"reference scenario {reference!r} is not in runs (scenarios: {list(runs['scenario'].unique())})"
        )
    if runs.duplicated(list(KEYS)).any():
        raise ValueError("runs has more than one row for a (scenario, replication)")
    rows = [
        {"scenario": scenario, "reference": reference, "outcome": outcome, **compare_pair(x, y)}
        for scenario, outcome, x, y, _ in each_pair(runs, reference, outcomes)
    ]
    table = pd.DataFrame(rows, columns=_COMPARISON_COLUMNS[:-2])
    # a comparison whose pairs are all tied tests nothing: p = 1, and it does not count in Holm's m
    tied = (table["n_higher"] + table["n_lower"] == 0).to_numpy()
    for column in ("p_wilcoxon", "p_sign"):
        adjusted = holm(np.where(tied, np.nan, table[column].to_numpy(dtype=float)))
        table[f"{column}_holm"] = np.where(tied & table[column].notna().to_numpy(), 1.0, adjusted)
    return table


def paired_values(column: pd.Series, reference: str, scenario: str) -> tuple[np.ndarray, np.ndarray]:
    """Reference and scenario values of the replications present, with a value, in both.

    ``column`` is indexed by (scenario, replication); the pairs come out in replication order.
    """
    x, y, _ = paired_replications(column, reference, scenario)
    return x, y


def paired_replications(column: pd.Series, reference: str, scenario: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`paired_values` and the replication of each pair."""
    values = outcome_values(column)
    both = pd.concat(
        [values.xs(reference, level="scenario"), values.xs(scenario, level="scenario")], axis=1, join="inner"
    )
    both = both.dropna().sort_index()
    return both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy(), both.index.to_numpy(int)


def each_pair(
    runs: pd.DataFrame, reference: str, outcomes: Sequence[str]
) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]:
    """(scenario, outcome, reference values, scenario values, replications) for every scenario
    but the reference and every outcome, pairs in replication order."""
    indexed = runs.set_index(list(KEYS))
    for scenario in runs["scenario"].unique():
        if scenario == reference:
            continue
        for outcome in outcomes:
            yield (scenario, outcome, *paired_replications(indexed[outcome], reference, scenario))


def compare_pair(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Paired and unpaired statistics of ``y - x`` for two equal-length paired samples."""
    paired = describe(y - x)
    unpaired_low, unpaired_high = welch_interval(x, y)
    p_wilcoxon, p_sign = paired_tests(y - x)
    return {
        "n_pairs": len(x),
        "mean_reference": float(x.mean()) if len(x) else np.nan,
        "mean_scenario": float(y.mean()) if len(y) else np.nan,
        "mean_diff": paired["mean"],
        "diff_ci95_low": paired["ci95_low"],
        "diff_ci95_high": paired["ci95_high"],
        "unpaired_ci95_low": unpaired_low,
        "unpaired_ci95_high": unpaired_high,
        "variance_reduction": variance_reduction(x, y),
        "ci_width_ratio": _ratio(paired["ci95_high"] - paired["ci95_low"], unpaired_high - unpaired_low),
        "n_higher": int((y > x).sum()),
        "n_tied": int((y == x).sum()),
        "n_lower": int((y < x).sum()),
        "p_wilcoxon": p_wilcoxon,
        "p_sign": p_sign,
    }


def welch_interval(x: np.ndarray, y: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Welch t-interval for mean(y) - mean(x), the samples treated as independent.

    NaN when either sample has fewer than two values; of zero width when both are constant.
    """
    if len(x) < 2 or len(y) < 2:
        return (np.nan, np.nan)
    diff = float(y.mean() - x.mean())
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se2 = vx + vy
    if se2 == 0:
        return (diff, diff)
    df = se2**2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * np.sqrt(se2))
    return (diff - half, diff + half)


def variance_reduction(x: np.ndarray, y: np.ndarray) -> float:
    """1 - var(y - x) / (var(x) + var(y)): the share of the variance of a difference of
    independent samples that pairing removes (2 cov / (var x + var y)); NaN when undefined."""
    if len(x) < 2:
        return np.nan
    total = x.var(ddof=1) + y.var(ddof=1)
    if total <= 0:
        return np.nan
    return float(round(1 - (y - x).var(ddof=1) / total, 12)) + 0.0  # no -2.22e-16 where it is 0; + 0.0: no -0


def paired_tests(diff: np.ndarray) -> tuple[float, float]:
    """Two-sided p-values of the Wilcoxon signed-rank test and of the sign test on paired
    differences (scenario - reference), both of "no difference".

    The signed-rank test uses Pratt's treatment of zero differences: they are ranked with the
    others and then dropped, so the many tied pairs of count outcomes (no one killed under
    either option) set the scale of the ranks but add no sign. Dropping the zeros before
    ranking ("wilcox") can make the test non-monotone, a larger difference giving a larger
    p-value (Pratt 1959, J. Am. Stat. Assoc. 54: 655-667); splitting their ranks between the
    signs ("zsplit") pulls the statistic towards the null in proportion to the ties, which
    would make a clear effect on a rare outcome look doubtful. With zeros or ties scipy uses the normal
    approximation; without, the exact distribution for small samples. The sign test is exact:
    ``scipy.stats.binomtest`` of the pairs where the scenario is higher among the pairs that
    differ, against 1/2.

    NaN for no pairs; 1.0 when every difference is zero (nothing to tell the options apart).
    """
    diff = np.asarray(diff, dtype=float)
    if len(diff) == 0:
        return (np.nan, np.nan)
    higher, lower = int((diff > 0).sum()), int((diff < 0).sum())
    if higher + lower == 0:
        return (1.0, 1.0)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Sample size too small for normal approximation", category=UserWarning
        )
        p_wilcoxon = stats.wilcoxon(diff, zero_method="pratt").pvalue
    p_sign = stats.binomtest(higher, higher + lower, 0.5).pvalue
    return (float(p_wilcoxon), float(p_sign))


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm step-down adjusted p-values, in the order given.

    The i-th smallest of m p-values becomes max over j <= i of min(1, (m - j + 1) p_(j)).
    NaN p-values (tests that could not be made) stay NaN and do not count in m.

    Raises
    ------
    ValueError
        If a p-value lies outside [0, 1].
    """
    p = np.asarray(pvalues, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must be in [0, 1], got {p[(p < 0) | (p > 1)].tolist()}")
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    order = present[np.argsort(p[present], kind="stable")]
    m = len(order)
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(stepped) if m else stepped
    return adjusted


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is zero or not finite."""
    if not np.isfinite(denominator) or denominator == 0:
        return np.nan
    return float(numerator / denominator)


def _check_columns(runs: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in runs.columns]
    if missing:
        raise KeyError(f"runs has no column {', '.join(map(repr, missing))}")


_COMPARISON_COLUMNS = [
    "scenario",
    "reference",
    "outcome",
    "n_pairs",
    "mean_reference",
    "mean_scenario",
    "mean_diff",
    "diff_ci95_low",
    "diff_ci95_high",
    "unpaired_ci95_low",
    "unpaired_ci95_high",
    "variance_reduction",
    "ci_width_ratio",
    "n_higher",
    "n_tied",
    "n_lower",
    "p_wilcoxon",
    "p_sign",
    "p_wilcoxon_holm",
    "p_sign_holm",
]
