"""Replications by precision: how many replications an experiment runs, decided by its results.

An experiment run to a precision names outcomes and an absolute half-width for each: the
95% interval of every paired difference (each option against the reference) of those
outcomes must be no wider than twice it. The replications grow in stages, from the count
the experiment asks for, doubling each time, up to a budget; the first stage that reaches
every half-width ends the run. The stages depend only on the start and the budget, and the
stopping rule only on the results, so the same seed and the same precision give the same
count whatever the workers. The half-width is absolute, not relative to the mean, so that it
works for rare outcomes whose means are near zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sim.config.errors import ConfigError
from sim.config.limits import BATCH_RUNS, REPLICATIONS

BUDGET_FACTOR = 8  # default budget: three doublings of the starting count, within the batch bounds


@dataclass(frozen=True)
class Precision:
    """Outcome -> the half-width its paired differences must reach; the most replications
    per scenario that may be run to reach it."""

    half_widths: Mapping[str, float]
    max_replications: int

    def stages(self, start: int) -> list[int]:
        """Replication counts to try in turn: ``start``, doubling, the last the budget."""
        counts = [start]
        while counts[-1] < self.max_replications:
            counts.append(min(2 * counts[-1], self.max_replications))
        return counts


def precision_for(
    half_widths: Mapping[str, float],
    max_replications: int | None,
    start: int,
    outcomes: Sequence[str],
    scenarios: int,
    origin: str,
) -> Precision:
    """Check a precision request against an experiment of ``scenarios`` scenarios that starts at
    ``start`` replications and compares ``outcomes``; ``origin`` names the experiment file.

    Raises
    ------
    ConfigError
        For an outcome the experiment does not compare, a half-width that is not a number > 0,
        a budget below the starting count or beyond the batch bounds (checked before the first
        stage: no stage runs more than the budget), or an experiment with nothing to compare.
        The default budget, eight times the start, is held within the batch bounds.
    """
    if not half_widths:
        raise ConfigError("precision", dict(half_widths), "must name at least one outcome", origin)
    for outcome, width in half_widths.items():
        if outcome not in outcomes:
            raise ConfigError(
                "precision", outcome, f"must name an outcome of the experiment ({', '.join(outcomes)})", origin
            )
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not math.isfinite(width) or width <= 0:
            raise ConfigError(f"precision.{outcome}", width, "must be a number > 0 (an absolute half-width)", origin)
    if scenarios < 2:
        raise ConfigError(
            "precision",
            dict(half_widths),
            "needs an experiment of two scenarios or more (it bounds paired differences)",
            origin,
        )
    most = min(REPLICATIONS.most, BATCH_RUNS.most // scenarios)  # the largest stage the batch bounds allow
    budget = max(start, min(BUDGET_FACTOR * start, most)) if max_replications is None else max_replications
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < start:
        raise ConfigError(
            "max_replications", budget, f"must be an integer >= the experiment's replications ({start})", origin
        )
    if budget > most:  # the last stage is the budget: held to the batch bounds before the first stage runs
        bound = REPLICATIONS if budget > REPLICATIONS.most else BATCH_RUNS
        raise ConfigError(
            "max_replications",
            budget,
            f"must be at most {most:,}: the last stage would run {scenarios} scenarios x {budget:,} replications "
            f"= {scenarios * budget:,} runs, and a batch may hold at most {REPLICATIONS.most:,} replications "
            f"per scenario and {BATCH_RUNS.most:,} runs ({bound.reason})",
            origin,
        )
    return Precision(dict(half_widths), budget)
