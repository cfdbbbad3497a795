"""Replications that share parameters, analysed at the level of their draws.

In an experiment over a posterior with M replications per draw, replications r = kM ... kM + M - 1
share the parameters of draw k: they are M futures of one world, not M independent samples. An
interval, a test or a share computed as if all n = KM replications were independent is too
narrow (the parameters' spread is counted M times over). Every statistic of such an experiment is
therefore computed on its K draws: each draw's M replications are averaged (outcome by outcome,
over those with a value) into one row, and the tools of :mod:`sim.analysis.summary`,
:mod:`sim.analysis.compare` and :mod:`sim.analysis.decision` run on those rows, which are
independent (the draws are resampled independently from the posterior). The means are the same;
the intervals are t-intervals over K draw means; the paired tests are tests of the K draws' mean
differences; the shares are shares of draws. With M = 1 each replication is its own draw and
nothing changes.

The percentiles of an outcome (p5, p50, p95) stay those of single replications: they describe
what one future may bring, not how sure a mean is. P(outcome > 0) is the share of replications;
its 95% interval is Wilson's at the effective sample size n / deff, where the design effect deff
is the variance of the share computed over the draws divided by its binomial variance (Kish
1965; Korn and Graubard 1998, Survey Methodology 24: 193-201), and n / deff is at most n and,
when the share is 0 or 1 and deff is undefined, K.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.summary import outcome_values, summarise, wilson_interval
from sim.design.posterior import DRAW

LEVEL_COLUMNS = ("n", "mean", "ci95_low", "ci95_high")  # the summary columns that are statistics of the mean


def draw_units(replications: np.ndarray, per_draw: int) -> np.ndarray:
    """The draw of each replication: replication r takes draw r // M."""
    return np.asarray(replications, dtype=int) // max(1, int(per_draw))


def draw_means(runs: pd.DataFrame, per_draw: int, outcomes: Sequence[str]) -> pd.DataFrame:
    """One row per (scenario, draw): the mean of each outcome over the draw's replications with a
    value (yes-or-no outcomes become the draw's share of yes); ``replication`` is the draw's
    number, so that draw k of every scenario is paired with draw k of the others, and ``draw``
    the posterior row it took. With M = 1, ``runs`` itself (its outcome columns as floats)."""
    frame = pd.DataFrame(
        {"scenario": runs["scenario"].to_numpy(), "replication": draw_units(runs["replication"], per_draw)}
    )
    for outcome in outcomes:
        frame[outcome] = outcome_values(runs[outcome]).to_numpy()
    means = frame.groupby(["scenario", "replication"], sort=False)[list(outcomes)].mean().reset_index()
    if DRAW in runs.columns:
        rows = pd.Series(runs[DRAW].to_numpy(), index=pd.MultiIndex.from_frame(frame[["scenario", "replication"]]))
        means[DRAW] = (
            rows[~rows.index.duplicated()]
            .reindex(pd.MultiIndex.from_frame(means[["scenario", "replication"]]))
            .to_numpy()
        )
    return means


def summarise_by_draw(runs: pd.DataFrame, per_draw: int, outcomes: Sequence[str]) -> pd.DataFrame:
    """:func:`sim.analysis.summary.summarise` of ``runs``, with the mean's ``n`` and 95% interval
    taken over the draws' means, and the interval of P(> 0) over the draws' shares (the
    percentiles and P(> 0) itself stay those of single replications: ``n_runs`` counts them,
    ``n`` counts draws)."""
    summary = summarise(runs, outcomes)
    if per_draw <= 1:
        return summary
    keys = pd.MultiIndex.from_frame(summary[["scenario", "outcome"]])
    level = summarise(draw_means(runs, per_draw, outcomes), outcomes).set_index(["scenario", "outcome"])
    for column in LEVEL_COLUMNS:
        summary[column] = level[column].reindex(keys).to_numpy()
    positive = runs[["scenario", "replication"]].copy()
    for outcome in outcomes:
        positive[outcome] = (outcome_values(runs[outcome]).fillna(0) > 0).astype(float)
    by_draw = draw_means(positive, per_draw, outcomes)
    bounds = {}
    for (scenario, outcome), share in by_draw.groupby("scenario", sort=False)[list(outcomes)].agg(list).stack().items():
        n = int((runs["scenario"] == scenario).sum())
        bounds[(scenario, outcome)] = clustered_share_interval(np.asarray(share, dtype=float), n)
    summary["p_positive_low"] = [bounds[key][0] for key in keys]
    summary["p_positive_high"] = [bounds[key][1] for key in keys]
    return summary


def clustered_share_interval(draw_shares: np.ndarray, n: int) -> tuple[float, float]:
    """The 95% interval of a share of ``n`` replications whose draws had ``draw_shares``: Wilson's
    at the effective sample size (see the module docstring)."""
    k = len(draw_shares)
    if k == 0 or n == 0:
        return (np.nan, np.nan)
    p = float(draw_shares.mean())
    binomial = p * (1 - p) / n
    clustered = float(draw_shares.var(ddof=1)) / k if k > 1 else np.nan
    effective = (
        float(k)
        if binomial == 0 or not np.isfinite(clustered)
        else min(float(n), n * binomial / clustered if clustered > 0 else float(n))
    )
    return wilson_interval(p * effective, effective)
