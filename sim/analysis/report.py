"""A Markdown report with plots comparing policy scenarios, and plots of parameter sweeps.

Analysis only reads result tables (the runs, :func:`sim.compare.summarise_scenarios` and
:func:`sim.compare.paired_differences`). Every file is written under a temporary name in its
folder and then renamed, so a reader never sees half a file. matplotlib is imported only when a
plot is drawn, and each figure is drawn on its own Agg canvas: nothing happens at import time and
the global pyplot backend (someone's notebook) is left alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.compare import outcome_values
from sim.batch.folder import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIGNIFICANT_DIGITS = 3
PLOTS = "plots"
EMPTY = "–"


def write_report(
    out_dir: Path,
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    outcomes: Sequence[str],
    reference: str,
    title: str,
    plot_outcomes: Sequence[str] | None = None,
) -> Path:
    """Write ``out_dir/report.md`` and its plots in ``out_dir/plots/``.

    Parameters
    ----------
    out_dir : Path
        Folder of the report (created if needed).
    runs : DataFrame
        One row per (scenario, replication), the table the other two were computed from.
    summary : DataFrame
        :func:`sim.compare.summarise_scenarios` of ``runs``.
    comparison : DataFrame
        :func:`sim.compare.paired_differences` of ``runs`` against ``reference``.
    outcomes : sequence of str
        Outcomes shown in the tables.
    reference : str
        The reference scenario of ``comparison``.
    title : str
        First heading of the report.
    plot_outcomes : sequence of str, optional
        Outcomes plotted (an ECDF each, and together in one box plot); default ``outcomes``.

    Returns
    -------
    Path
        The path of ``report.md``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_outcomes = list(outcomes if plot_outcomes is None else plot_outcomes)
    scenarios = list(runs["scenario"].unique())
    plots = [ecdf_plot(out_dir / PLOTS, runs, outcome, scenarios) for outcome in plot_outcomes]
    if plot_outcomes:
        plots.append(box_plot(out_dir / PLOTS, runs, plot_outcomes, scenarios))
    sections = [
        f"# {title}",
        scenario_section(runs, reference),
        "## Means with 95% confidence intervals\n\n" + means_table(summary, outcomes, scenarios),
        differences_section(comparison, outcomes, reference),
        "## Plots\n\n" + "\n".join(f"![{p.stem}]({p.relative_to(out_dir).as_posix()})" for p in plots),
    ]
    path = out_dir / "report.md"
    write_atomic(path, lambda p: p.write_text("\n\n".join(sections) + "\n", encoding="utf-8"))
    return path


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


def scenario_section(runs: pd.DataFrame, reference: str) -> str:
    """The scenarios with their numbers of replications and replication ranges."""
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        name = f"{scenario} (reference)" if scenario == reference else str(scenario)
        reps = group["replication"]
        rows.append([name, str(len(group)), f"{reps.min()}–{reps.max()}"])
    note = "Replication r of every scenario used the same random streams (common random numbers)."
    return (
        "## Scenarios and replications\n\n"
        + markdown_table(["scenario", "replications", "replication numbers"], rows)
        + "\n\n"
        + note
    )


def means_table(summary: pd.DataFrame, outcomes: Sequence[str], scenarios: Sequence[str]) -> str:
    """Outcomes down, scenarios across: mean [95% CI low, high]."""
    cells = summary.set_index(["outcome", "scenario"])
    rows = []
    for outcome in outcomes:
        row = [outcome]
        for scenario in scenarios:
            if (outcome, scenario) in cells.index:
                s = cells.loc[(outcome, scenario)]
                row.append(f"{fmt(s['mean'])} [{fmt(s['ci95_low'])}, {fmt(s['ci95_high'])}]")
            else:
                row.append(EMPTY)
        rows.append(row)
    return markdown_table(["outcome", *map(str, scenarios)], rows)


def differences_section(comparison: pd.DataFrame, outcomes: Sequence[str], reference: str) -> str:
    """Paired differences (scenario - reference) with their intervals and Holm-corrected p-values."""
    header = [
        "scenario", "outcome", "pairs", "mean diff [95% CI]", "unpaired 95% CI",
        "variance reduction", "CI width ratio", "KS p (Holm)", "MWU p (Holm)",
    ]  # fmt: skip
    shown = comparison[comparison["outcome"].isin(list(outcomes))]
    rows = [difference_cells(r) for _, r in shown.iterrows()]
    intro = (
        f"Differences are scenario - {reference} over replications with a value in both. Variance reduction is "
        "1 - var(diff) / (var(scenario) + var(reference)), the share of variance common random numbers removed; "
        "the CI width ratio is paired width / unpaired (Welch) width. p-values are Holm-corrected across the "
        "whole comparison table."
    )
    return f"## Paired differences against {reference}\n\n{intro}\n\n" + markdown_table(header, rows)


def difference_cells(r: pd.Series) -> list[str]:
    """One row of :func:`sim.compare.paired_differences` as the cells of the differences table."""
    return [
        str(r["scenario"]),
        str(r["outcome"]),
        str(int(r["n_pairs"])),
        f"{fmt(r['mean_diff'])} [{fmt(r['diff_ci95_low'])}, {fmt(r['diff_ci95_high'])}]",
        f"[{fmt(r['unpaired_ci95_low'])}, {fmt(r['unpaired_ci95_high'])}]",
        *(fmt(r[c]) for c in ("variance_reduction", "ci_width_ratio", "p_ks_holm", "p_mwu_holm")),
    ]


def ecdf_plot(folder: Path, runs: pd.DataFrame, outcome: str, scenarios: Sequence[str]) -> Path:
    """Empirical CDF of ``outcome``, one step line per scenario (empty values left out)."""
    fig = new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    for scenario in scenarios:
        values = np.sort(outcome_values(runs.loc[runs["scenario"] == scenario, outcome]).dropna().to_numpy())
        if len(values):
            ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=f"{scenario} (n={len(values)})")
    ax.set_xlabel(outcome)
    ax.set_ylabel("share of replications <= x")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize="small")
    return save_figure(fig, folder / f"ecdf_{safe_name(outcome)}.png")


def box_plot(folder: Path, runs: pd.DataFrame, outcomes: Sequence[str], scenarios: Sequence[str]) -> Path:
    """One panel per outcome, one box per scenario (empty values left out)."""
    ncols = min(3, len(outcomes))
    nrows = math.ceil(len(outcomes) / ncols)
    fig = new_figure((4.0 * ncols, 3.2 * nrows))
    for i, outcome in enumerate(outcomes):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        data = [outcome_values(runs.loc[runs["scenario"] == s, outcome]).dropna().to_numpy() for s in scenarios]
        ax.boxplot(data, tick_labels=[str(s) for s in scenarios])
        ax.set_title(outcome, fontsize="medium")
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, folder / "boxplot_outcomes.png")


def new_figure(size_in: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas (no pyplot, no global backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path``, atomically; no timestamp, so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda p: fig.savefig(p, format="png", metadata={"Software": None}))
    return path


def safe_name(name: str) -> str:
    """``name`` reduced to letters, digits, '_', '-' and '.' for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or "unnamed"


def fmt(value: float, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``value`` to ``digits`` significant digits, positional unless very large or small."""
    if value is None or pd.isna(value):
        return EMPTY
    value = float(value)
    if value == 0:
        return "0"
    if not math.isfinite(value) or not 1e-4 <= abs(value) < 1e6:
        return f"{value:.{digits - 1}e}"
    # The exponent after rounding (9.996 -> 10.0, not 10.00).
    decimals = digits - 1 - int(f"{value:.{digits - 1}e}".split("e")[1])
    return f"{round(value, decimals):.{max(decimals, 0)}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table ('|' in cells escaped)."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(c).replace("|", "\\|") for c in line) + " |" for line in lines)
