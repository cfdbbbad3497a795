"""Sweeps: one row per design point (parameter values, outcome means and their intervals),
and a plot of each outcome against each varied parameter."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.figures import new_figure, safe_name, save_figure
from sim.analysis.summary import outcome_values, summarise

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = "plots"


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


def sweep_plots(out_dir: Path, points: pd.DataFrame, parameters: list[str], outcomes: list[str]) -> list[Path]:
    """Plot each outcome's mean against each swept parameter, one PNG per (outcome, parameter).

    Parameters
    ----------
    out_dir : Path
        The PNGs go to ``out_dir/plots/sweep_<outcome>_vs_<parameter>.png``.
    points : DataFrame
        One row per design point: the parameter columns, the outcome means in columns named
        after the outcomes, and optionally ``<outcome>_ci95_low`` / ``<outcome>_ci95_high``
        (drawn as error bars).
    parameters, outcomes : list of str
        Columns of ``points`` to plot.

    Returns
    -------
    list of Path
        The files written, outcome by outcome, parameter by parameter.

    Raises
    ------
    KeyError
        If a parameter or outcome column is missing.
    """
    missing = [c for c in [*parameters, *outcomes] if c not in points.columns]
    if missing:
        raise KeyError(f"sweep points have no column {', '.join(map(repr, missing))}")
    folder = Path(out_dir) / PLOTS
    paths = []
    for outcome in outcomes:
        for parameter in parameters:
            fig = sweep_figure(points, parameter, outcome)
            paths.append(save_figure(fig, folder / f"sweep_{safe_name(outcome)}_vs_{safe_name(parameter)}.png"))
    return paths


def sweep_figure(points: pd.DataFrame, parameter: str, outcome: str) -> Figure:
    """Mean of ``outcome`` at each design point against ``parameter`` (numeric or categorical)."""
    ordered = points.sort_values(parameter, kind="stable")
    y = outcome_values(ordered[outcome]).to_numpy()
    low, high = f"{outcome}_ci95_low", f"{outcome}_ci95_high"
    yerr = None
    if low in ordered.columns and high in ordered.columns:
        yerr = np.vstack([y - outcome_values(ordered[low]), outcome_values(ordered[high]) - y])
    fig = new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    if pd.api.types.is_numeric_dtype(ordered[parameter]) and not pd.api.types.is_bool_dtype(ordered[parameter]):
        x = ordered[parameter].to_numpy(dtype=float)
    else:
        labels = list(dict.fromkeys(ordered[parameter].astype(str)))
        x = ordered[parameter].astype(str).map({label: i for i, label in enumerate(labels)}).to_numpy(dtype=float)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    # Several design points can share a value of this parameter (others vary): markers, no line.
    linestyle = "-" if ordered[parameter].is_unique else "none"
    ax.errorbar(x, y, yerr=yerr, marker="o", linestyle=linestyle, capsize=3)
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"{outcome} (mean{', 95% CI' if yerr is not None else ''})")
    ax.grid(alpha=0.3)
    return fig
