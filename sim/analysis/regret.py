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

Every summary over states (mean, maximum and 90th percentile of regret; worst case and
percentiles of the state means; the share of states meeting the thresholds) gets a 95% Monte
Carlo interval: how far another set of replications could move it, the states as they are.
Replication r is one future that every option and state shares, so the futures, not the states
or the (option, state) pairs, are what varies from one run to another: the bootstrap draws
replications with replacement, the same draw for every option and state, from a stream of the
root seed. With 10 replications the effective sample is 10 futures however many states there
are. A summary's interval is centred on its estimate (:func:`centred_interval`); a share's is a
percentile interval with expanded levels (:func:`expanded_percentile_interval`), because a share
is a step function of the state means that a new set of futures moves in lumps.
:mod:`sim.analysis.coverage` measures how often these intervals cover (bench/robustness_coverage.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.direction import higher_is_better
from sim.analysis.summary import describe
from sim.design.robustness import STATE, StatesDesign, Threshold, split_name

RESAMPLES = 1000  # bootstrap resamples of the replications for every interval of robustness.csv
_STREAM = 0x726F62  # the resampling stream of a root seed, apart from the model's streams
STATE_QUANTILE = 90  # the percentile of regret over states that robustness.csv reports


def value_cube(runs: pd.DataFrame, design: StatesDesign, outcome: str) -> np.ndarray:
    """Values of ``outcome`` as an array [option, state, replication] (NaN where a replication
    failed or the value is empty); replications 0 .. max."""
    options = {name: i for i, name in enumerate(design.options)}
    where = [split_name(name) for name in runs["scenario"]]
    cube = np.full((len(design.options), len(design.states), int(runs["replication"].max()) + 1), np.nan)
    cube[[options[o] for o, _ in where], [s for _, s in where], runs["replication"].to_numpy(int)] = (
        pd.to_numeric(runs[outcome], errors="coerce").astype(float).to_numpy()
    )
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
    offsets = replications * np.arange(resamples)[:, None]  # one bincount for every resample at once
    return (
        np.bincount((draws + offsets).ravel(), minlength=resamples * replications)
        .reshape(resamples, replications)
        .astype(float)
    )


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
                rows.append(
                    {
                        "option": option,
                        STATE: s,
                        "outcome": outcome,
                        "n": mine["n"],
                        "mean": mine["mean"],
                        "ci95_low": mine["ci95_low"],
                        "ci95_high": mine["ci95_high"],
                        "mean_reference": float(np.nanmean(ref)) if np.isfinite(ref).any() else np.nan,
                        "mean_diff": diff["mean"],
                        "diff_ci95_low": diff["ci95_low"],
                        "diff_ci95_high": diff["ci95_high"],
                        "regret": regret[o, s],
                        "meets_threshold": rule.met(mine["mean"]) if rule else None,
                    }
                )
    table = pd.DataFrame(rows)
    table["meets_threshold"] = table["meets_threshold"].astype("boolean")
    return design.states.merge(table, on=STATE)[["option", STATE, *design.paths, *table.columns[2:]]]


def robustness_table(runs: pd.DataFrame, design: StatesDesign, outcomes: list[str], seed: int) -> pd.DataFrame:
    """One row per (option, outcome, metric): ``value`` and its 95% interval.

    Metrics: ``regret_mean``, ``regret_max``, ``regret_p90`` (regret over states);
    ``worst`` (the worst state mean), ``state_p10``/``state_p50``/``state_p90`` (percentiles of
    the state means); ``satisficing`` (share of states where the state mean meets the outcome's
    threshold; outcome ``all thresholds`` for all of them at once). Every interval is a Monte
    Carlo interval over the replications, the states taken as they are (see :func:`metric_table`).
    """
    cubes = {
        o: value_cube(runs, design, o) for o in dict.fromkeys([*outcomes, *(t.outcome for t in design.thresholds)])
    }
    return metric_table(cubes, design.options, outcomes, design.thresholds, seed)


def metric_table(
    cubes: dict[str, np.ndarray],
    options: Sequence[str],
    outcomes: Sequence[str],
    thresholds: Sequence[Threshold],
    seed: int,
    resamples: int = RESAMPLES,
) -> pd.DataFrame:
    """The table of :func:`robustness_table` from the values themselves.

    Parameters
    ----------
    cubes : dict
        Outcome -> values [option, state, replication] (:func:`value_cube`), for ``outcomes``
        and the thresholds' outcomes; replication r of every option and state shares its
        random streams.
    options : sequence of str
        The options, in the order of the cubes' first axis.
    outcomes : sequence of str
        The outcomes whose regret and state means are summarised.
    thresholds : sequence of Threshold
        Satisficing rules (possibly none).
    seed : int
        The root seed: the bootstrap resamples come from a stream of it.
    resamples : int
        Bootstrap resamples of the replications.

    Returns
    -------
    DataFrame
        ``option``, ``outcome``, ``metric``, ``value``, ``ci95_low``, ``ci95_high``.

    Notes
    -----
    The bootstrap draws the replications with replacement, the same draw for every option and
    state (a replication is one future that every state and option shares, so the futures, not
    the states or the pairs, are the unit of resampling). Summaries over states get
    :func:`centred_interval`; shares of states, :func:`expanded_percentile_interval`. Regret
    intervals stop at 0 and shares' at 0 and 1.
    """
    replications = next(iter(cubes.values())).shape[-1]
    weights = resample_weights(replications, seed, resamples)
    rows = []
    with warnings.catch_warnings():  # a state or resample with no value gives NaN, as it should
        warnings.simplefilter("ignore", RuntimeWarning)
        for outcome in outcomes:
            rows += _summary_rows(cubes[outcome], options, outcome, weights)
        rows += _satisficing_rows(cubes, options, thresholds, weights)
    return pd.DataFrame(rows, columns=["option", "outcome", "metric", "value", "ci95_low", "ci95_high"])


def centred_interval(point: np.ndarray, resampled: np.ndarray, replications: int) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval of a summary over states (regret, state means) from its bootstrap
    resamples (last axis of ``resampled``): ``point`` plus or minus ``t(0.975, n - 1) * s *
    sqrt(n / (n - 1))``, ``s`` the standard deviation of the resampled statistic, n the replications.

    For a mean over replications this is, in expectation, Student's t interval (the bootstrap's
    variance is (n - 1) / n of the unbiased one). It is centred on the estimate, not on the
    resamples: a maximum (or upper percentile) over noisy state means sits above the truth, and
    its resamples sit above it again, so a percentile interval would carry that bias twice.
    """
    spread = np.nanstd(resampled, axis=-1, ddof=1) * np.sqrt(replications / (replications - 1))
    half = stats.t.ppf(0.975, replications - 1) * spread
    return point - half, point + half


def expanded_percentile_interval(resampled: np.ndarray, replications: int) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval of a share of states from its bootstrap resamples: the percentile
    interval, its levels expanded for n replications to ``Phi(-sqrt(n / (n - 1)) t(0.975, n - 1))``
    and its complement (Hesterberg 2015, "What teachers should know about the bootstrap").

    A share of states meeting a threshold is a step function of the state means: a new set of
    futures moves many states across the threshold at once, so its resamples are lumpy and
    skewed, and an interval symmetric about the estimate misses on one side. The percentile
    interval follows the step function (it is the image of an interval for the futures' effect);
    the expanded levels correct its narrowness at few replications (z against t, and the
    bootstrap's (n - 1) / n variance).
    """
    tail = stats.norm.cdf(-np.sqrt(replications / (replications - 1)) * stats.t.ppf(0.975, replications - 1))
    low, high = _percentile(resampled, [100 * tail, 100 * (1 - tail)], axis=-1)
    return low, high


def _summary_rows(cube: np.ndarray, options: Sequence[str], outcome: str, weights: np.ndarray) -> list[dict]:
    rows = []
    n = cube.shape[-1]
    for name, statistic, values in (
        ("regret", _regret_statistics, regret_cube(cube, outcome)),
        ("state", _state_statistics(outcome), cube),
    ):
        point, resampled = statistic(_means(values)), statistic(_means(values, weights))
        low, high = centred_interval(point, resampled, n)
        if name == "regret":  # regret is never negative
            low = np.maximum(low, 0.0)
        for j, metric in enumerate(_metrics(name)):
            rows += [
                _row(option, outcome, metric, point[o, j], low[o, j], high[o, j]) for o, option in enumerate(options)
            ]
    return rows


def _metrics(name: str) -> tuple[str, ...]:
    if name == "regret":
        return ("regret_mean", "regret_max", f"regret_p{STATE_QUANTILE}")
    return ("worst", "state_p10", "state_p50", "state_p90")


def _percentile(means: np.ndarray, q, axis: int) -> np.ndarray:
    return np.percentile(means, q, axis=axis) if np.isfinite(means).all() else np.nanpercentile(means, q, axis=axis)


def _regret_statistics(means: np.ndarray) -> np.ndarray:
    """[option, state(, resample)] -> [option, 3(, resample)]: mean, max and 90th percentile over states."""
    stats_ = [np.nanmean(means, axis=1), np.nanmax(means, axis=1), _percentile(means, STATE_QUANTILE, axis=1)]
    return np.stack(stats_, axis=1)


def _state_statistics(outcome: str):
    def statistics(means: np.ndarray) -> np.ndarray:
        worst = np.nanmin(means, axis=1) if higher_is_better(outcome) else np.nanmax(means, axis=1)
        return np.stack([worst, *_percentile(means, [10, 50, 90], axis=1)], axis=1)

    return statistics


def _row(option: str, outcome: str, metric: str, value: float, low: float, high: float) -> dict:
    return {
        "option": option,
        "outcome": outcome,
        "metric": metric,
        "value": float(value),
        "ci95_low": float(low),
        "ci95_high": float(high),
    }


def _met(rule: Threshold, means: np.ndarray) -> np.ndarray:
    return means <= rule.value if rule.bound == "max" else means >= rule.value


def satisficing(runs: pd.DataFrame, design: StatesDesign) -> np.ndarray:
    """[threshold, option, state]: whether the option's state mean meets the threshold."""
    met = [_met(rule, _means(value_cube(runs, design, rule.outcome))) for rule in design.thresholds]
    return np.array(met, dtype=bool).reshape(len(design.thresholds), len(design.options), len(design.states))


def _satisficing_rows(
    cubes: dict[str, np.ndarray], options: Sequence[str], thresholds: Sequence[Threshold], weights: np.ndarray
) -> list[dict]:
    """The share of states meeting each threshold and all of them, per option, with
    :func:`interval` over the replications (the states as they are), within [0, 1]."""
    if not thresholds:
        return []
    met = np.array([_met(rule, _means(cubes[rule.outcome])) for rule in thresholds])  # [threshold, option, state]
    resampled = np.array([_met(rule, _means(cubes[rule.outcome], weights)) for rule in thresholds])  # [..., resample]
    n = weights.shape[1]
    rows = []
    for label, table, tables in [
        *((rule.outcome, met[i], resampled[i]) for i, rule in enumerate(thresholds)),
        ("all thresholds", met.all(axis=0), resampled.all(axis=0)),
    ]:
        share, shares = table.mean(axis=1), tables.mean(axis=1)  # [option], [option, resample]
        low, high = expanded_percentile_interval(shares, n)
        rows += [
            _row(option, label, "satisficing", share[o], max(low[o], 0.0), min(high[o], 1.0))
            for o, option in enumerate(options)
        ]
    return rows
