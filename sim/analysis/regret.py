"""Robustness of options over states of the world: state means, paired differences, regret,
satisficing and worst cases.

Analysis only reads the runs of a robustness experiment (:mod:`sim.design.robustness`): one row
per (option, state, replication), scenario names ``<option>-state<k>``. Replication r of every
option in every state used the same random streams, so values are compared pair by pair:

- the paired difference of an option from the reference in a state is the mean of
  ``value(option, r) - value(reference, r)`` over the replications r of that state;
- the regret of an option in replication r of a state is how much worse it did than the best
  option *of that replication* (``value - min over options`` where fewer is better, ``max -
  value`` where more is better, :mod:`sim.analysis.direction`); its regret in the state is the
  mean over replications (so it is at least the regret of the state means, and 0 only for an
  option that is best in every replication);
- an option satisfices in a state when its state means meet every threshold.

Summaries over states (mean, maximum and 90th percentile of regret; worst case and percentiles
of the state means) get Monte Carlo intervals by resampling the replications (the same
resampled replications for every option and state, which keeps the pairs), from a stream of the
root seed. The share of states where an option satisfices gets the wider of two intervals: a
Wilson interval (the states as a sample of the uncertainty box) and a bootstrap interval that
resamples the replications and the states together. The second matters when state means sit
near a threshold: every state runs the same few replications, so their noise is shared, and a
new set of replications can move many states across the threshold at once, which the states'
Wilson interval does not see.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.analysis.direction import higher_is_better
from sim.analysis.summary import describe, wilson_interval
from sim.design.robustness import STATE, StatesDesign, split_name

RESAMPLES = 400  # replication resamples for the Monte Carlo intervals of summaries over states
_STREAM = 0x726F62  # the resampling stream of a root seed, apart from the model's streams
STATE_QUANTILE = 90  # the percentile of regret over states that robustness.csv reports


def value_cube(runs: pd.DataFrame, design: StatesDesign, outcome: str) -> np.ndarray:
    """Values of ``outcome`` as an array [option, state, replication] (NaN where a replication
    failed or the value is empty); replications 0 .. max."""
    options = {name: i for i, name in enumerate(design.options)}
    where = [split_name(name) for name in runs["scenario"]]
    cube = np.full((len(design.options), len(design.states), int(runs["replication"].max()) + 1), np.nan)
    cube[[options[o] for o, _ in where], [s for _, s in where], runs["replication"].to_numpy(int)] = (
        pd.to_numeric(runs[outcome], errors="coerce").astype(float).to_numpy())  # fmt: skip
    return cube


def regret_cube(cube: np.ndarray, outcome: str) -> np.ndarray:
    """Regret of each option, replication by replication: how much worse than the best option of
    the same state and replication (NaN where any option lacks a value there)."""
    best = np.max(cube, axis=0) if higher_is_better(outcome) else np.min(cube, axis=0)
    return best[None] - cube if higher_is_better(outcome) else cube - best[None]


def _means(cube: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Means over the last axis ignoring NaN; with ``weights`` [B, R] (how often each replication
    is drawn in each resample), one mean per resample: [..., B]."""
    known = np.isfinite(cube)
    filled = np.where(known, cube, 0.0)
    if weights is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            return filled.sum(-1) / known.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (filled @ weights.T) / (known.astype(float) @ weights.T)


def resample_weights(replications: int, seed: int, resamples: int = RESAMPLES) -> np.ndarray:
    """[resamples, replications]: how often each replication is drawn in each bootstrap resample."""
    rng = np.random.default_rng([seed, _STREAM])
    draws = rng.integers(0, replications, size=(resamples, replications))
    return np.stack([np.bincount(row, minlength=replications) for row in draws]).astype(float)


def states_table(runs: pd.DataFrame, design: StatesDesign, outcomes: list[str]) -> pd.DataFrame:
    """One row per (option, state, outcome): the state's parameters, the option's mean with its
    95% CI, the reference's mean, the paired difference with its 95% CI, the state's regret
    (mean over replications) and whether a threshold on the outcome is met (empty if none)."""
    reference = design.options.index(design.reference)
    thresholds = {t.outcome: t for t in design.thresholds}
    rows = []
    for outcome in outcomes:
        cube = value_cube(runs, design, outcome)
        regret = _means(regret_cube(cube, outcome))
        for o, option in enumerate(design.options):
            for s in range(cube.shape[1]):
                own, ref = cube[o, s], cube[reference, s]
                paired = np.isfinite(own) & np.isfinite(ref)
                mine, diff = describe(own[np.isfinite(own)]), describe(own[paired] - ref[paired])
                rule = thresholds.get(outcome)
                rows.append({"option": option, STATE: s, "outcome": outcome, "n": mine["n"], "mean": mine["mean"],
                             "ci95_low": mine["ci95_low"], "ci95_high": mine["ci95_high"],
                             "mean_reference": float(np.nanmean(ref)) if np.isfinite(ref).any() else np.nan,
                             "mean_diff": diff["mean"], "diff_ci95_low": diff["ci95_low"], "diff_ci95_high": diff["ci95_high"],
                             "regret": regret[o, s], "meets_threshold": rule.met(mine["mean"]) if rule else None})  # fmt: skip
    table = pd.DataFrame(rows)
    table["meets_threshold"] = table["meets_threshold"].astype("boolean")
    return design.states.merge(table, on=STATE)[["option", STATE, *design.paths, *table.columns[2:]]]


def robustness_table(runs: pd.DataFrame, design: StatesDesign, outcomes: list[str], seed: int) -> pd.DataFrame:
    """One row per (option, outcome, metric): ``value`` and its 95% interval.

    Metrics: ``regret_mean``, ``regret_max``, ``regret_p90`` (regret over states, Monte Carlo
    intervals); ``worst`` (the worst state mean), ``state_p10``/``state_p50``/``state_p90``
    (percentiles of the state means, Monte Carlo intervals); ``satisficing`` (share of states
    where the state mean meets the outcome's threshold; outcome ``all thresholds`` for all of
    them at once; the wider of the Wilson interval over states and the bootstrap interval over
    replications and states).
    """
    weights = resample_weights(int(runs["replication"].max()) + 1, seed)
    rows = []
    with warnings.catch_warnings():  # a state or resample with no value gives NaN, as it should
        warnings.simplefilter("ignore", RuntimeWarning)
        for outcome in outcomes:
            rows += _summary_rows(runs, design, outcome, weights)
    rows += _satisficing_rows(runs, design, weights, seed)
    return pd.DataFrame(rows, columns=["option", "outcome", "metric", "value", "ci95_low", "ci95_high"])


def _summary_rows(runs: pd.DataFrame, design: StatesDesign, outcome: str, weights: np.ndarray) -> list[dict]:
    rows = []
    cube = value_cube(runs, design, outcome)
    for name, statistic, values in (("regret", _regret_statistics, regret_cube(cube, outcome)),
                                    ("state", _state_statistics(outcome), cube)):  # fmt: skip
        point, resampled = statistic(_means(values)), statistic(_means(values, weights))
        low, high = np.nanpercentile(resampled, [2.5, 97.5], axis=-1)
        for j, metric in enumerate(_metrics(name)):
            rows += [_row(option, outcome, metric, point[o, j], low[o, j], high[o, j]) for o, option in enumerate(design.options)]
    return rows


def _metrics(name: str) -> tuple[str, ...]:
    if name == "regret":
        return ("regret_mean", "regret_max", f"regret_p{STATE_QUANTILE}")
    return ("worst", "state_p10", "state_p50", "state_p90")


def _regret_statistics(means: np.ndarray) -> np.ndarray:
    """[option, state(, resample)] -> [option, 3(, resample)]: mean, max and 90th percentile over states."""
    stats = [np.nanmean(means, axis=1), np.nanmax(means, axis=1), np.nanpercentile(means, STATE_QUANTILE, axis=1)]
    return np.moveaxis(np.stack(stats), 0, 1) if means.ndim == 2 else np.stack(stats, axis=1)


def _state_statistics(outcome: str):
    def statistics(means: np.ndarray) -> np.ndarray:
        worst = np.nanmin(means, axis=1) if higher_is_better(outcome) else np.nanmax(means, axis=1)
        stats = [worst, *np.nanpercentile(means, [10, 50, 90], axis=1)]
        return np.moveaxis(np.stack(stats), 0, 1) if means.ndim == 2 else np.stack(stats, axis=1)

    return statistics


def _row(option: str, outcome: str, metric: str, value: float, low: float, high: float) -> dict:
    return {"option": option, "outcome": outcome, "metric": metric, "value": float(value), "ci95_low": float(low), "ci95_high": float(high)}


def satisficing(runs: pd.DataFrame, design: StatesDesign) -> np.ndarray:
    """[threshold, option, state]: whether the option's state mean meets the threshold."""
    met = [np.vectorize(rule.met)(_means(value_cube(runs, design, rule.outcome))) for rule in design.thresholds]
    return np.array(met, dtype=bool).reshape(len(design.thresholds), len(design.options), len(design.states))


def _satisficing_rows(runs: pd.DataFrame, design: StatesDesign, weights: np.ndarray, seed: int) -> list[dict]:
    if not design.thresholds:
        return []
    met = satisficing(runs, design)
    resampled = np.array([np.vectorize(rule.met)(_means(value_cube(runs, design, rule.outcome), weights))
                          for rule in design.thresholds], dtype=bool)  # [threshold, option, state, resample]  # fmt: skip
    states, resamples = met.shape[2], weights.shape[0]
    drawn = np.random.default_rng([seed, _STREAM, 1]).integers(0, states, size=(resamples, states))  # states resampled too
    rows = []
    cases = [*((rule.outcome, met[i], resampled[i]) for i, rule in enumerate(design.thresholds)),
             ("all thresholds", met.all(axis=0), resampled.all(axis=0))]  # fmt: skip
    for label, table, tables in cases:
        for o, option in enumerate(design.options):
            k, n = int(table[o].sum()), table.shape[1]
            shares = tables[o][drawn, np.arange(resamples)[:, None]].mean(axis=1)
            wilson_low, wilson_high = wilson_interval(k, n)
            boot_low, boot_high = np.percentile(shares, [2.5, 97.5])
            rows.append(_row(option, label, "satisficing", k / n, min(wilson_low, boot_low), max(wilson_high, boot_high)))
    return rows
