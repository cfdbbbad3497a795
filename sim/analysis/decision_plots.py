"""Plots of the decision view: a forest plot of the paired differences and the probabilities of
the yes-or-no outcomes.

The forest plot gives every outcome its own panel, in its own unit, rather than one axis of
standardised differences: several reference means are zero or close to it (no pre-emptive
strikes, no truce days under continuity), where a difference relative to the reference mean is
undefined or explodes, and an analyst reads "-0.23 U.S. killed" more readily than "-46% of the
reference". All panels share the options' order and colours, so one figure still compares them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.decision import PERCENTAGE_POINTS
from sim.analysis.figures import new_figure, save_figure, short_label, short_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANEL_COLUMNS = 3


def forest_plot(
    folder: Path,
    decisions: pd.DataFrame,
    outcomes: Sequence[str],
    better_when: Callable[[str], str],
    binary: Collection[str],
    period: str,
    name: Callable[[str], str] = str,
) -> Path:
    """:func:`forest_figure` written as ``folder/forest_differences.png``."""
    return save_figure(
        forest_figure(decisions, outcomes, better_when, binary, period, name), folder / "forest_differences.png"
    )


def forest_figure(
    decisions: pd.DataFrame,
    outcomes: Sequence[str],
    better_when: Callable[[str], str],
    binary: Collection[str],
    period: str,
    name: Callable[[str], str] = str,
) -> Figure:
    """One panel per outcome, one point and 95% interval per option, and a line at zero.

    ``decisions`` is :func:`sim.analysis.decision.decision_table`; binary outcomes are shown in
    percentage points; ``name`` gives a panel's title (an outcome's label).
    """
    options = list(dict.fromkeys(decisions["scenario"]))
    reference = str(decisions["reference"].iloc[0]) if len(decisions) else ""
    ncols = min(PANEL_COLUMNS, max(1, len(outcomes)))
    nrows = max(1, math.ceil(len(outcomes) / ncols))
    fig = new_figure((4.2 * ncols, 0.5 + (0.9 + 0.28 * len(options)) * nrows))
    colours = [f"C{i % 10}" for i in range(len(options))]
    cells = decisions.set_index(["scenario", "outcome"])
    for i, outcome in enumerate(outcomes):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        scale = PERCENTAGE_POINTS if outcome in binary else 1.0
        for y, (option, colour) in enumerate(zip(options, colours)):
            if (option, outcome) not in cells.index:
                continue
            r = cells.loc[(option, outcome)]
            mean, low, high = (scale * r[c] for c in ("mean_diff", "diff_ci95_low", "diff_ci95_high"))
            ax.errorbar([mean], [y], xerr=[[mean - low], [high - mean]], fmt="o", color=colour, capsize=3, markersize=4)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(options)), short_labels(options), fontsize="small")
        ax.set_ylim(len(options) - 0.5, -0.5)
        arrow = "better ←" if better_when(outcome) == "lower" else "better →"
        ax.set_title(name(outcome), fontsize="medium")
        ax.set_xlabel(f"{outcome_unit(outcome, binary)}; {arrow}", fontsize="small")
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Paired difference from {short_label(reference)}, mean with 95% CI, {period}")
    return fig


def probability_plot(
    folder: Path,
    summary: pd.DataFrame,
    outcomes: Sequence[str],
    binary: Collection[str],
    period: str,
    name: Callable[[str], str] = str,
) -> Path:
    """:func:`probability_figure` written as ``folder/probabilities.png``."""
    return save_figure(probability_figure(summary, outcomes, binary, period, name), folder / "probabilities.png")


def probability_figure(
    summary: pd.DataFrame,
    outcomes: Sequence[str],
    binary: Collection[str],
    period: str,
    name: Callable[[str], str] = str,
) -> Figure:
    """Bars of P(outcome) (yes-or-no outcomes) or P(outcome > 0) per scenario with their 95%
    Wilson intervals, one panel per outcome titled by ``name`` (an outcome's label)."""
    scenarios = list(dict.fromkeys(summary["scenario"]))
    cells = summary.set_index(["outcome", "scenario"])
    ncols = min(PANEL_COLUMNS, max(1, len(outcomes)))
    nrows = max(1, math.ceil(len(outcomes) / ncols))
    fig = new_figure((4.2 * ncols, 0.5 + 3.0 * nrows))
    for i, outcome in enumerate(outcomes):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        rows = [cells.loc[(outcome, s)] for s in scenarios]
        p = [r["p_positive"] for r in rows]
        # Clipped at 0: a Wilson bound can miss p = 0 or 1 by a rounding error.
        errors = [
            [max(0.0, v - r["p_positive_low"]) for v, r in zip(p, rows)],
            [max(0.0, r["p_positive_high"] - v) for v, r in zip(p, rows)],
        ]
        ax.bar(range(len(scenarios)), p, yerr=errors, capsize=3, color=[f"C{j % 10}" for j in range(len(scenarios))])
        ax.set_xticks(range(len(scenarios)), short_labels(scenarios), rotation=30, ha="right", fontsize="small")
        ax.set_ylim(0, 1)
        ax.set_title(f"P({name(outcome)})" if outcome in binary else f"P({name(outcome)} > 0)", fontsize="medium")
        ax.set_ylabel("probability (share of replications)", fontsize="small")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Probability per scenario with 95% Wilson CI, {period}")
    return fig


def outcome_unit(outcome: str, binary: Collection[str]) -> str:
    """The unit of a difference in ``outcome``: percentage points, days or a count."""
    if outcome in binary:
        return "percentage points"
    if outcome.endswith("_day") or outcome.endswith("_days"):
        return "days"
    return "count per replication"
