"""How often the intervals of a robustness experiment cover, measured in a bootstrap world.

A large run is taken as the population: its replications are all the futures there are, and a
metric's value over all of them (regret over states, a share of states meeting thresholds) is
the truth. A small experiment draws ``replications`` of those futures with replacement, the same
draw for every option and state (a run's replications are shared by all of them), and computes
its table and intervals as a robustness experiment does (:func:`sim.analysis.regret.metric_table`).
Each interval covers the truth or misses it; over many small experiments the share that cover
is the interval's coverage, given with a 95% Wilson interval for its Monte Carlo error.

The population is finite, so its truth is the truth of the bootstrap world, not of the model:
the check says whether the method's intervals are as wide as the noise of ``replications``
shared futures makes them need to be, in a world whose futures look like the model's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.regret import RESAMPLES, metric_table
from sim.analysis.summary import wilson_interval
from sim.design.robustness import Threshold

_STREAM = 0x636F76  # the stream of the small experiments' draws, apart from the model's and the bootstrap's

KEYS = ["option", "outcome", "metric"]


def coverage(
    population: dict[str, np.ndarray],
    options: Sequence[str],
    outcomes: Sequence[str],
    thresholds: Sequence[Threshold],
    replications: int,
    experiments: int,
    seed: int,
    resamples: int = RESAMPLES,
) -> pd.DataFrame:
    """The coverage of every interval of :func:`~sim.analysis.regret.metric_table` at
    ``replications`` shared replications, over ``experiments`` small experiments.

    Parameters
    ----------
    population : dict
        Outcome -> values [option, state, replication] of a large run (the futures to draw from).
    options, outcomes, thresholds :
        As for :func:`~sim.analysis.regret.metric_table`.
    replications : int
        Replications of each small experiment (drawn with replacement from the population's).
    experiments : int
        Small experiments.
    seed : int
        Seeds the draws of the small experiments and, through ``seed + i``, experiment i's
        bootstrap.
    resamples : int
        Bootstrap resamples of each small experiment.

    Returns
    -------
    DataFrame
        Per option, outcome and metric: ``truth`` (the population's value), ``covered`` (how many
        intervals held it), ``experiments``, ``coverage`` with ``coverage_low``/``coverage_high``
        (95% Wilson), ``half_width`` (the intervals' mean half-width) and ``exact`` (true when every
        interval had width 0 and covered: a metric without noise, whose coverage says nothing of
        the method).
    """
    truth = metric_table(population, options, outcomes, thresholds, seed, resamples=2)[[*KEYS, "value"]]
    futures = next(iter(population.values())).shape[-1]
    rng = np.random.default_rng([seed, _STREAM])
    covered = np.zeros(len(truth), dtype=int)
    width = np.zeros(len(truth))
    zero_width = np.ones(len(truth), dtype=bool)
    for i in range(experiments):
        drawn = rng.integers(0, futures, replications)
        table = metric_table(
            {k: v[..., drawn] for k, v in population.items()}, options, outcomes, thresholds, seed + i, resamples
        )
        low, high, value = table["ci95_low"].to_numpy(), table["ci95_high"].to_numpy(), truth["value"].to_numpy()
        covered += (low <= value) & (value <= high)
        width += (high - low) / 2
        zero_width &= high == low
    result = truth.rename(columns={"value": "truth"}).assign(covered=covered, experiments=experiments)
    result["coverage"] = covered / experiments
    bounds = [wilson_interval(int(k), experiments) for k in covered]
    result["coverage_low"], result["coverage_high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    result["half_width"] = width / experiments
    result["exact"] = zero_width & (covered == experiments)
    return result
