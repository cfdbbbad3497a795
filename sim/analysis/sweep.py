"""Sweeps: one row per design point (parameter values, outcome means and their intervals),
and a plot of each outcome against each varied parameter: the design points as a scatter with
their 95% intervals and a LOWESS smoother through them (design points are scattered when
several parameters vary, so a line joining them would zigzag)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.figures import new_figure, safe_name, save_figure, short_labels
from sim.analysis.summary import outcome_values, summarise
from sim.config.provenance import unit_of
from sim.config.scenario import Scenario
from sim.design.posterior import value_at
from sim.replication.outcomes import outcomes as declared_outcomes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = "plots"
LOWESS_FRACTION = 2 / 3  # share of the points each local fit uses: smooth, yet follows a bend
LOWESS_MIN_POINTS = 5  # below this, the mean at each distinct value stands in for the smoother


@dataclass(frozen=True)
class SweepContext:
    """What the plots say beyond the points: each parameter's unit and its value in the
    sweep's base scenario, and each outcome's description and counted period."""

    units: Mapping[str, str | None] = field(default_factory=dict)
    base_values: Mapping[str, float] = field(default_factory=dict)
    outcome_docs: Mapping[str, str] = field(default_factory=dict)
    periods: Mapping[str, str] = field(default_factory=dict)


def sweep_context(base: Scenario, parameters: list[str], outcomes: list[str]) -> SweepContext:
    """Units and base values of ``parameters`` in the sweep's ``base`` scenario (with the
    sweep's horizon), and what each outcome counts over which dates."""
    meta, calendar = base.scenario, base.scenario.calendar
    base_values = {}
    for path in parameters:
        value = value_at(base, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            base_values[path] = float(value)
    quarters = {f"_q{i + 1}": label for i, label in enumerate(calendar.quarter_labels())}
    periods, docs = {}, {o.column: o.doc for o in declared_outcomes()}
    for outcome in outcomes:
        quarter = next((label for suffix, label in quarters.items() if outcome.endswith(suffix)), None)
        counted = f"{meta.outcomes_from or meta.start_date} to {meta.end_date}"
        periods[outcome] = f"in {quarter}" if quarter else f"counted from {counted}"
    return SweepContext({p: unit_of(type(base), p) for p in parameters}, base_values, docs, periods)


def point_table(design: pd.DataFrame, runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """One row per design point: its parameter values and, per outcome, the mean over its
    replications with a 95% confidence interval."""
    summary = summarise(runs, outcomes)
    summary["point"] = summary["scenario"].str.removeprefix("point-").astype(int)
    wide = summary.pivot(index="point", columns="outcome", values=["mean", "ci95_low", "ci95_high", "n"])
    columns = {}
    for outcome in outcomes:
        columns[outcome] = wide[("mean", outcome)]
        columns[f"{outcome}_ci95_low"] = wide[("ci95_low", outcome)]
        columns[f"{outcome}_ci95_high"] = wide[("ci95_high", outcome)]
    table = pd.DataFrame(columns)
    table["replications"] = wide[("n", outcomes[0])].astype(int)
    return design.set_index("point").join(table).reset_index()


def sweep_plots(
    out_dir: Path, points: pd.DataFrame, parameters: list[str], outcomes: list[str], context: SweepContext | None = None
) -> list[Path]:
    """Save :func:`sweep_figures` as ``out_dir/plots/sweep_<outcome>_vs_<parameter>.png``
    and return the files written, outcome by outcome, parameter by parameter."""
    folder = Path(out_dir) / PLOTS
    return [
        save_figure(fig, folder / name) for name, fig in sweep_figures(points, parameters, outcomes, context).items()
    ]


def sweep_figures(
    points: pd.DataFrame, parameters: list[str], outcomes: list[str], context: SweepContext | None = None
) -> dict[str, Figure]:
    """A figure of each outcome's mean against each swept parameter, by PNG file name.

    Parameters
    ----------
    points : DataFrame
        One row per design point: the parameter columns, the outcome means in columns named
        after the outcomes, and optionally ``<outcome>_ci95_low`` / ``<outcome>_ci95_high``
        (drawn as error bars).
    parameters, outcomes : list of str
        Columns of ``points`` to plot.
    context : SweepContext, optional
        Units, base values, descriptions and periods for titles, labels and the base line.

    Raises
    ------
    KeyError
        If a parameter or outcome column is missing.
    """
    missing = [c for c in [*parameters, *outcomes] if c not in points.columns]
    if missing:
        raise KeyError(f"sweep points have no column {', '.join(map(repr, missing))}")
    context = context or SweepContext()
    return {
        f"sweep_{safe_name(outcome)}_vs_{safe_name(parameter)}.png": sweep_figure(points, parameter, outcome, context)
        for outcome in outcomes
        for parameter in parameters
    }


def smoother(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A LOWESS curve through (x, y), sorted by x; with few distinct x, the mean at each."""
    distinct = np.unique(x)
    if len(distinct) < LOWESS_MIN_POINTS:
        return distinct, np.array([y[x == v].mean() for v in distinct])
    from statsmodels.nonparametric.smoothers_lowess import lowess

    fitted = lowess(y, x, frac=LOWESS_FRACTION, it=1, return_sorted=True)
    return fitted[:, 0], fitted[:, 1]


def sweep_figure(points: pd.DataFrame, parameter: str, outcome: str, context: SweepContext | None = None) -> Figure:
    """Mean of ``outcome`` at each design point against ``parameter`` (numeric or
    categorical): a scatter with 95% intervals, a smoother, and the smoothed level at the
    parameter's base value as a horizontal line (where the base value lies in the design)."""
    context = context or SweepContext()
    y = outcome_values(points[outcome]).to_numpy(dtype=float)
    low, high = f"{outcome}_ci95_low", f"{outcome}_ci95_high"
    fig = new_figure((6.4, 4.4))
    ax = fig.add_subplot()
    numeric = pd.api.types.is_numeric_dtype(points[parameter]) and not pd.api.types.is_bool_dtype(points[parameter])
    if numeric:
        x = points[parameter].to_numpy(dtype=float)
    else:
        labels = sorted(dict.fromkeys(points[parameter].astype(str)))
        x = points[parameter].astype(str).map({label: i for i, label in enumerate(labels)}).to_numpy(dtype=float)
        ax.set_xticks(range(len(labels)), short_labels(labels), rotation=30, ha="right")
    keep = ~np.isnan(y)
    if low in points.columns and high in points.columns:
        yerr = np.vstack(
            [y - outcome_values(points[low]).to_numpy(float), outcome_values(points[high]).to_numpy(float) - y]
        )
        ax.errorbar(x[keep], y[keep], yerr=yerr[:, keep], fmt="none", ecolor="0.7", elinewidth=1, capsize=2, zorder=1)
    ax.scatter(x[keep], y[keep], s=22, color="C0", zorder=2, label="design points (mean, 95% CI)")
    if keep.sum() >= 2:
        sx, sy = smoother(x[keep], y[keep])
        ax.plot(
            sx,
            sy,
            color="C1",
            linewidth=2,
            zorder=3,
            label="LOWESS smoother" if len(np.unique(x[keep])) >= LOWESS_MIN_POINTS else "mean per value",
        )
        base = context.base_values.get(parameter)
        if numeric and base is not None and sx[0] <= base <= sx[-1]:
            level = float(np.interp(base, sx, sy))
            ax.axhline(
                level,
                color="C2",
                linestyle="--",
                linewidth=1,
                label=f"smoothed level at the base value {base:.3g}: {level:.3g}",
            )
            ax.axvline(base, color="C2", linestyle=":", linewidth=1)
    unit = context.units.get(parameter)
    ax.set_xlabel(f"{parameter} ({unit})" if unit else parameter)
    period = context.periods.get(outcome)
    ax.set_ylabel(f"{outcome}, mean per replication")
    doc = context.outcome_docs.get(outcome)
    doc = f"{doc[:1].upper()}{doc[1:]}" if doc else outcome
    ax.set_title(f"{doc} against {parameter.rsplit('.', 1)[-1]}" + (f"\n{period}" if period else ""), fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return fig
