"""How sure a paired comparison is when its parameters come from a posterior.

In an experiment over a posterior (``parameters_from``), replication r of every scenario draws
parameters theta_k, k = r // M, and random streams r; the paired difference D of an outcome in
that replication varies for two reasons: the parameters (between draws) and the random events
(within a draw). With M >= 2 replications per draw the two separate, as in a one-way
random-effects analysis of variance (the input-uncertainty decomposition of the simulation
literature, e.g. Song and Nelson 2015):

- within-draw variance ``s_w^2``: the mean square of D around its draw's mean (K (M - 1)
  degrees of freedom); the Monte Carlo noise of one replication at known parameters;
- between-draw variance of the effect, ``sigma_theta^2 = max(0, s_b^2 - s_w^2 / M)``, where
  ``s_b^2`` is the variance of the K draw means: how much the expected effect E[D | theta]
  itself changes over the posterior.

The table gives, per scenario and outcome:

- *Monte Carlo only*: the 95% interval of the mean difference as if the parameters were known,
  mean +- t s_w / sqrt(n): what a fixed-parameter experiment of this size would report;
- *posterior and Monte Carlo*: the 95% interval of the mean difference over the posterior,
  from the spread of the K draw means (mean +- t s_b / sqrt(K));
- the 90% interval of the effect over the posterior: the 5th and 95th percentiles of the draw
  means after shrinking each towards the grand mean by sqrt(sigma_theta^2 / s_b^2), which
  removes their Monte Carlo noise (an estimate of where E[D | theta] lies for 90% of the
  posterior), with the share of draws whose shrunk effect is below zero.

With M = 1 the two sources cannot be told apart: only the mean over the posterior is given,
with its interval from all n replications.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.compare import each_pair
from sim.design.posterior import DRAW

COLUMNS = [
    "scenario", "reference", "outcome", "draws", "replications_per_draw", "mean_diff",
    "mc_ci95_low", "mc_ci95_high", "posterior_ci95_low", "posterior_ci95_high",
    "effect_p05", "effect_p95", "p_effect_below_zero", "parameter_share",
]  # fmt: skip


def parameter_uncertainty(runs: pd.DataFrame, reference: str, outcomes: Sequence[str], per_draw: int) -> pd.DataFrame:
    """One row per (scenario, outcome) against ``reference`` (see the module docstring)."""
    if DRAW not in runs.columns:
        raise KeyError("runs has no 'draw' column: it is not an experiment over a posterior")
    rows = [{"scenario": scenario, "reference": reference, "outcome": outcome,
             **decompose(y - x, replications // per_draw, per_draw)}
            for scenario, outcome, x, y, replications in each_pair(runs, reference, outcomes)]  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def decompose(differences: np.ndarray, groups: np.ndarray, per_draw: int) -> dict[str, float]:
    """The intervals of the module docstring for paired differences grouped by draw."""
    n = len(differences)
    out = {"draws": len(np.unique(groups)), "replications_per_draw": per_draw, "mean_diff": np.nan}
    out.update(dict.fromkeys(COLUMNS[6:], np.nan))
    if n < 2:
        return out
    mean = float(differences.mean())
    out["mean_diff"] = mean
    frame = pd.DataFrame({"d": differences, "g": groups})
    means = frame.groupby("g")["d"].mean()
    sizes = frame.groupby("g")["d"].size()
    k = len(means)
    if per_draw < 2 or k < 2 or (sizes < 2).all():
        half = float(stats.t.ppf(0.975, n - 1) * differences.std(ddof=1) / np.sqrt(n))
        out.update({"posterior_ci95_low": mean - half, "posterior_ci95_high": mean + half})
        return out
    within_df = int((sizes - 1).sum())
    within = float(((frame["d"] - frame["g"].map(means)) ** 2).sum() / within_df)
    between = float(means.var(ddof=1))
    sigma_theta2 = max(0.0, between - within / per_draw)
    mc_half = float(stats.t.ppf(0.975, within_df) * np.sqrt(within / n))
    post_half = float(stats.t.ppf(0.975, k - 1) * np.sqrt(between / k))
    shrink = np.sqrt(sigma_theta2 / between) if between > 0 else 0.0
    effects = means.mean() + shrink * (means - means.mean())
    p05, p95 = np.percentile(effects, [5, 95])
    out.update({
        "mc_ci95_low": mean - mc_half, "mc_ci95_high": mean + mc_half,
        "posterior_ci95_low": mean - post_half, "posterior_ci95_high": mean + post_half,
        "effect_p05": float(p05), "effect_p95": float(p95), "p_effect_below_zero": float((effects < 0).mean()),
        "parameter_share": sigma_theta2 / (sigma_theta2 + within) if sigma_theta2 + within > 0 else np.nan,
    })  # fmt: skip
    return out
