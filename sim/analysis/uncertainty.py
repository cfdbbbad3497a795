"""How sure a paired comparison is when its parameters come from a posterior.

In an experiment over a posterior (``parameters_from``), replication r of every scenario takes
draw k = r // M (M replications per draw; the draws are independent, each a posterior row
resampled in proportion to its weight) and random streams r. The paired difference D of an
outcome varies for two reasons: the parameters, and the random events at given parameters. The
law of total variance splits them, as in a one-way random-effects analysis of variance (the
input-uncertainty decomposition of the simulation literature, e.g. Song and Nelson 2015):

- within variance ``s_w^2``: the pooled variance of D among replications that ran with the
  same parameters (the same posterior row: with M >= 2 the replications of a draw, and, at any
  M, the draws that resampled the same row), on ``sum (n_j - 1)`` degrees of freedom; the Monte
  Carlo noise of one replication at known parameters;
- between variance of the effect, ``sigma_theta^2 = max(0, s_T^2 - s_w^2)``, where ``s_T^2`` is
  the variance of D over all replications: how much the expected effect E[D | theta] itself
  changes over the posterior.

The table gives, per scenario and outcome:

- *Monte Carlo only*: the 95% interval of the mean difference as if the parameters were known,
  mean +- t s_w / sqrt(n): what a fixed-parameter experiment of this size would report;
- *posterior and Monte Carlo*: the 95% interval of the mean difference over the posterior, a
  t-interval over the K draws (the draw is the independent unit; with M = 1 each replication is
  one). It is the interval of ``comparison.csv``, computed by the same rule
  (:mod:`sim.analysis.clusters`): one interval per effect;
- the 90% interval of the effect over the posterior: the 5th and 95th percentiles of the
  posterior rows' mean differences after shrinking each towards the grand mean by
  ``sqrt(sigma_theta^2 / (sigma_theta^2 + s_w^2 / n_j))`` (n_j its replications), which removes
  their Monte Carlo noise; and the share of replications whose row's shrunk effect is below zero,
  ``P(effect < 0)``, with a 95% percentile interval from a bootstrap of the draws
  (:data:`BOOTSTRAP` resamples of the K draws, from a fixed stream, so the table is the same for
  the same runs). When the effect is indistinguishable from 0 and barely varies with the
  parameters, that interval spans most of [0, 1]: the data cannot tell on which side it lies.

Within variance needs replications that share parameters: at M = 1, posterior rows drawn more
than once (a posterior whose effective sample size is below the number of draws has many). With
none, only the mean and its interval are given.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.clusters import draw_units
from sim.analysis.compare import each_pair
from sim.analysis.summary import describe
from sim.design.posterior import DRAW

BOOTSTRAP = 999  # resamples of the draws for the interval of P(effect < 0)
_BOOTSTRAP_SEED = 20_210_930  # a fixed stream: the table is a function of the runs alone

COLUMNS = [
    "scenario",
    "reference",
    "outcome",
    "draws",
    "replications_per_draw",
    "distinct_rows",
    "mean_diff",
    "mc_ci95_low",
    "mc_ci95_high",
    "posterior_ci95_low",
    "posterior_ci95_high",
    "effect_p05",
    "effect_p95",
    "p_effect_below_zero",
    "p_effect_below_zero_low",
    "p_effect_below_zero_high",
    "parameter_share",
]


def parameter_uncertainty(runs: pd.DataFrame, reference: str, outcomes: Sequence[str], per_draw: int) -> pd.DataFrame:
    """One row per (scenario, outcome) against ``reference`` (see the module docstring)."""
    if DRAW not in runs.columns:
        raise KeyError("runs has no 'draw' column: it is not an experiment over a posterior")
    row_of = runs[runs["scenario"] == reference].set_index("replication")[DRAW]
    rows = []
    for scenario, outcome, x, y, replications in each_pair(runs, reference, outcomes):
        out = decompose(y - x, draw_units(replications, per_draw), row_of.loc[replications].to_numpy(int))
        rows.append(
            {"scenario": scenario, "reference": reference, "outcome": outcome, "replications_per_draw": per_draw, **out}
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def decompose(
    differences: np.ndarray, units: np.ndarray, rows: np.ndarray, bootstrap: int = BOOTSTRAP
) -> dict[str, float]:
    """The intervals of the module docstring for paired differences, the draw (``units``) and
    the posterior row (``rows``) of each; ``bootstrap`` resamples for the interval of
    P(effect < 0) (0: none, the interval left empty)."""
    differences = np.asarray(differences, dtype=float)
    out: dict[str, float] = {"draws": len(np.unique(units)), "distinct_rows": len(np.unique(rows))}
    out.update(dict.fromkeys(COLUMNS[6:], np.nan))
    if len(differences) < 2:
        return out
    unit_index, unit_of = np.unique(units, return_inverse=True)
    _, row_of_unit = np.unique(_first_per_unit(rows, unit_of, len(unit_index)), return_inverse=True)
    counts = np.bincount(unit_of).astype(float)
    sums = np.bincount(unit_of, differences)
    squares = np.bincount(unit_of, differences**2)
    level = describe(sums / counts)  # the draws' means: the independent units
    out.update(
        {"mean_diff": level["mean"], "posterior_ci95_low": level["ci95_low"], "posterior_ci95_high": level["ci95_high"]}
    )
    one = np.ones((1, len(counts)))
    point = _effects(one, counts, sums, squares, row_of_unit)
    if not np.isfinite(point["within"][0]):
        return out
    n, within, df = len(differences), float(point["within"][0]), float(point["df"][0])
    mc_half = float(stats.t.ppf(0.975, df) * np.sqrt(within / n))
    low = high = np.nan
    if bootstrap:
        resampled = _resamples(len(counts), bootstrap)
        below = _effects(resampled, counts, sums, squares, row_of_unit)["below"]
        if np.isfinite(below).any():  # an effect identically 0 has no sign in any resample
            low, high = np.nanpercentile(below, [2.5, 97.5])
    out.update(
        {
            "mc_ci95_low": level["mean"] - mc_half,
            "mc_ci95_high": level["mean"] + mc_half,
            "effect_p05": float(point["p05"][0]),
            "effect_p95": float(point["p95"][0]),
            "p_effect_below_zero": float(point["below"][0]),
            "p_effect_below_zero_low": float(low),
            "p_effect_below_zero_high": float(high),
            "parameter_share": float(point["share"][0]),
        }
    )
    return out


@functools.lru_cache(maxsize=4)
def _resamples(draws: int, bootstrap: int) -> np.ndarray:
    """How often each of ``draws`` draws is taken in each of ``bootstrap`` resamples (the same
    for every row of a table: one fixed stream)."""
    taken = (
        np.random.default_rng(_BOOTSTRAP_SEED).multinomial(draws, np.full(draws, 1 / draws), bootstrap).astype(float)
    )
    taken.flags.writeable = False
    return taken


def _first_per_unit(rows: np.ndarray, unit_of: np.ndarray, units: int) -> np.ndarray:
    """The posterior row of each draw (all its replications share it)."""
    first = np.empty(units, dtype=np.asarray(rows).dtype)
    first[unit_of[::-1]] = np.asarray(rows)[::-1]
    return first


def _effects(
    weights: np.ndarray, counts: np.ndarray, sums: np.ndarray, squares: np.ndarray, row_of_unit: np.ndarray
) -> dict:
    """The decomposition for each row of ``weights`` (how often each draw is taken: ones for the
    data, multinomial counts for a bootstrap resample), vectorised over the rows.

    The mean and the total variance count a draw as often as it is taken; the within variance
    counts each distinct draw once (a draw taken twice is not two independent replications at
    the same parameters, and counting it so would shrink the within variance)."""
    order = np.argsort(row_of_unit, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(row_of_unit[order]) != 0])

    def by_row(values: np.ndarray) -> np.ndarray:  # per weighting, the sum over each posterior row's draws
        return np.add.reduceat(values[:, order], starts, axis=1)

    n = weights @ counts
    mean = (weights @ sums) / n
    total = (weights @ squares - n * mean**2) / (n - 1)
    present = (weights > 0).astype(float)
    n_row, s_row, q_row = by_row(present * counts), by_row(present * sums), by_row(present * squares)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.where(n_row > 0, q_row - s_row**2 / np.where(n_row > 0, n_row, 1), 0.0).sum(axis=1)
        df = np.maximum(n_row - 1, 0).sum(axis=1)
        within = np.where(df > 0, np.maximum(ss, 0.0) / np.where(df > 0, df, 1), np.nan)
        theta2 = np.maximum(0.0, total - within)
        f_row, g_row = by_row(weights * counts), by_row(weights * sums)
        row_mean = g_row / f_row
        shrink = np.sqrt(theta2[:, None] / (theta2[:, None] + within[:, None] / f_row))
        shrink = np.where(theta2[:, None] > 0, shrink, 0.0)
        effect = mean[:, None] + shrink * (row_mean - mean[:, None])
        taken = f_row > 0
        below = np.where(taken, f_row * (effect < 0), 0.0).sum(axis=1) / n
        below = np.where((total == 0) & (mean == 0), np.nan, below)  # every difference 0: no effect to sign
        share = np.where(theta2 + within > 0, theta2 / (theta2 + within), np.nan)
    p05, p95 = np.full(len(n), np.nan), np.full(len(n), np.nan)
    if len(n) == 1:  # percentiles of the data's effects only (the bootstrap needs just P(effect < 0))
        keep = taken[0]
        p05[0], p95[0] = _weighted_percentiles(effect[0, keep], f_row[0, keep], [0.05, 0.95])
    return {
        "within": within,
        "df": df,
        "below": np.where(np.isfinite(within), below, np.nan),
        "share": share,
        "p05": p05,
        "p95": p95,
    }


def _weighted_percentiles(values: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> tuple[float, ...]:
    """The smallest value whose cumulative weight share reaches each q."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    index = np.minimum(np.searchsorted(cumulative, q, side="left"), len(values) - 1)
    return tuple(float(v) for v in values[order][index])
