"""A Markdown report with plots comparing the scenarios of an experiment.

It opens with the answer (:mod:`sim.analysis.answer`): per option, in plain words, the outcomes it
wins and loses against the reference, how sure that is and where the answer reverses; then a
table of contents, the trade-off table (outcomes down, options across, so that it fits a screen)
with the forest plot of the paired differences, and the details: where the answer reverses (over
a posterior), the decision view outcome by outcome with its tests, the summary tables and the
distribution plots. Outcomes are named by their labels (:func:`sim.replication.outcomes.label`)
wherever a person reads them; p-values appear only in the detail sections. Analysis only reads
result tables (the runs, :func:`sim.analysis.summary.summarise` and
:func:`sim.analysis.compare.paired_differences`). Every file is written under a temporary name
in its folder and then renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.answer import answer_section, reversal_section
from sim.analysis.contents import contents_section
from sim.analysis.decision import SIGNS, better_words, decision_table, percent, sentence, signed, tradeoff_by_outcome
from sim.analysis.decision_plots import forest_figure, outcome_unit, probability_figure
from sim.analysis.figures import new_figure, safe_name, save_figure, short_label, short_labels
from sim.analysis.mechanisms import mechanisms_section
from sim.analysis.reversal import find_reversals
from sim.analysis.summary import outcome_values
from sim.analysis.tables import EMPTY, fmt, markdown_frame, markdown_table, markdown_text, p_value
from sim.batch.folder import write_atomic
from sim.replication.outcomes import (
    better_direction,
    binary_outcomes,
    label,
    positive_reported,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = "plots"


def write_report(
    out_dir: Path,
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    outcomes: Sequence[str],
    reference: str,
    title: str,
    plot_outcomes: Sequence[str] | None = None,
    posterior: dict | None = None,
    uncertainty: pd.DataFrame | None = None,
    preface: Sequence[str] = (),
    period: str = "",
) -> Path:
    """Write ``out_dir/report.md`` and its plots in ``out_dir/plots/``.

    Parameters
    ----------
    out_dir : Path
        Folder of the report (created if needed).
    runs : DataFrame
        One row per (scenario, replication), the table the other two were computed from.
    summary : DataFrame
        :func:`sim.analysis.summary.summarise` of ``runs``.
    comparison : DataFrame
        :func:`sim.analysis.compare.paired_differences` of ``runs`` against ``reference``.
    outcomes : sequence of str
        Outcomes shown in the tables.
    reference : str
        The reference scenario of ``comparison``.
    title : str
        First heading of the report.
    plot_outcomes : sequence of str, optional
        Outcomes plotted (an ECDF each, and together in one box plot; yes-or-no outcomes and
        those whose P(> 0) is reported also as probabilities with their intervals); default
        ``outcomes``. The forest plot of the paired differences shows every outcome of ``outcomes``.
    posterior : dict, optional
        For an experiment over a posterior, the manifest's description of its draws (file,
        draws, replications per draw); None when the parameters were fixed. Over a posterior
        the answer says where it reverses (from the ``parameter.<path>`` columns of ``runs``).
    uncertainty : DataFrame, optional
        :func:`sim.analysis.uncertainty.parameter_uncertainty` of ``runs``, shown side by side.
    preface : sequence of str, optional
        Further Markdown sections, placed after the title (how the replication count was chosen).
    period : str, optional
        The days the outcomes count (``1 Oct 2020 - 30 Sep 2021``), named in the plots' titles.

    Returns
    -------
    Path
        The path of ``report.md``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_outcomes = list(outcomes if plot_outcomes is None else plot_outcomes)
    period = period or "the period of the scenario files"
    scenarios = list(runs["scenario"].unique())
    binary = binary_outcomes()
    shown = comparison[comparison["outcome"].isin(list(outcomes))]
    decisions = decision_table(shown, better_direction, binary)
    reversals = None
    if posterior is not None:
        reversals = find_reversals(runs, decisions, reference, int(posterior["replications_per_draw"]))
    folder = out_dir / PLOTS
    figures = report_figures(runs, summary, decisions, outcomes, plot_outcomes, period)
    paths = {name: save_figure(figure, folder / name) for name, figure in figures.items()}
    forest = paths.pop(FOREST, None)
    plots = list(paths.values())
    answer = answer_section(decisions, reversals, reference, posterior, period, label, binary)
    details = [
        tradeoff_section(decisions, list(outcomes), binary, forest, out_dir),
        *([reversal_section(reversals, reference, label, binary)] if reversals is not None else []),
        decision_section(decisions, list(outcomes), reference, period),
        *preface,
        mechanisms_section(runs, reference),
        intervals_section(posterior),
        *([uncertainty_section(uncertainty, outcomes, reference)] if uncertainty is not None else []),
        scenario_section(runs, reference),
        "## Means with 95% confidence intervals\n\n" + means_table(summary, outcomes, scenarios),
        differences_section(comparison, outcomes, reference),
        "## Plots\n\n" + "\n".join(f"![{p.stem}]({p.relative_to(out_dir).as_posix()})" for p in plots),
    ]
    sections = [f"# {markdown_text(title)}", answer, contents_section([answer, *details]), *details]
    path = out_dir / "report.md"
    write_atomic(path, lambda p: p.write_text("\n\n".join(sections) + "\n", encoding="utf-8"))
    return path


FOREST = "forest_differences.png"


def report_figures(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    decisions: pd.DataFrame,
    outcomes: Sequence[str],
    plot_outcomes: Sequence[str] | None = None,
    period: str = "",
) -> dict[str, Figure]:
    """The figures of the report, by file name in ``plots/``, in the report's order: the forest
    plot of the paired differences (``decisions``: :func:`sim.analysis.decision.decision_table`),
    an ECDF per counted outcome of ``plot_outcomes`` (default ``outcomes``), the probabilities
    and the box plot. Drawn with the object-oriented API; nothing is written."""
    plot_outcomes = list(outcomes if plot_outcomes is None else plot_outcomes)
    period = period or "the period of the scenario files"
    scenarios, binary = list(runs["scenario"].unique()), binary_outcomes()
    figures = {}
    if len(decisions):
        figures[FOREST] = forest_figure(decisions, list(outcomes), better_direction, binary, period, label)
    for outcome in plot_outcomes:
        if outcome not in binary:
            figures[f"ecdf_{safe_name(outcome)}.png"] = ecdf_figure(runs, outcome, scenarios, period)
    chances = [o for o in plot_outcomes if o in binary or o in positive_reported()]
    if chances:
        figures["probabilities.png"] = probability_figure(summary, chances, binary, period, label)
    counted = [o for o in plot_outcomes if o not in binary]
    if counted:
        figures["boxplot_outcomes.png"] = box_figure(runs, counted, scenarios, period)
    return figures


def decision_section(decisions: pd.DataFrame, outcomes: Sequence[str], reference: str, period: str) -> str:
    """Per outcome, each option against the reference: a table and one sentence per option."""
    intro = (
        f"Each option against {reference}, outcome by outcome, over {period}. A *paired future* is one replication: "
        "the same random attacks under both options wherever the policy does not change them. *Mean diff* is "
        f"option - {reference} with its paired 95% interval; *better / tied / worse* are the shares of paired futures "
        "in which the option does better, exactly as well, or worse, with 95% Wilson intervals; the p-values are the "
        "Wilcoxon signed-rank and exact sign tests of the pairs, Holm-corrected across the whole table. An option is "
        "called better or worse when the interval of its mean difference excludes 0. The intervals include Monte "
        "Carlo error only unless the next sections say otherwise (see *What the intervals include*)."
    )
    parts = [f"## Decision view: each option against {reference}\n\n{intro}"]
    header = [
        "option",
        "mean diff [95% CI]",
        "better [95% CI]",
        "tied [95% CI]",
        "worse [95% CI]",
        "Wilcoxon p (Holm)",
        "sign p (Holm)",
        "verdict",
    ]
    for outcome in outcomes:
        rows = decisions[decisions["outcome"] == outcome]
        if rows.empty:
            continue
        binary = outcome in binary_outcomes()
        direction = better_words(outcome, better_direction(outcome), binary)
        table = markdown_table(header, [decision_cells(r) for _, r in rows.iterrows()])
        sentences = "\n".join(f"- {sentence(r.to_dict(), binary, label(outcome))}" for _, r in rows.iterrows())
        parts.append(f"### {label(outcome)} ({direction}; column `{outcome}`)\n\n{table}\n\n{sentences}")
    return "\n\n".join(parts)


def decision_cells(r: pd.Series) -> list[str]:
    """One row of :func:`sim.analysis.decision.decision_table` as the cells of its table."""
    shares = [
        f"{percent(r[f'share_{k}'])} [{percent(r[f'share_{k}_low'])}, {percent(r[f'share_{k}_high'])}]"
        for k in ("better", "tied", "worse")
    ]
    return [
        str(r["scenario"]),
        f"{signed(r['mean_diff'])} [{signed(r['diff_ci95_low'])}, {signed(r['diff_ci95_high'])}]",
        *shares,
        p_value(r["p_wilcoxon_holm"]),
        p_value(r["p_sign_holm"]),
        str(r["verdict"]),
    ]


def tradeoff_section(
    decisions: pd.DataFrame, outcomes: Sequence[str], binary: Collection[str], forest: Path | None, out_dir: Path
) -> str:
    """Outcomes down, options across, and the forest plot of the differences."""
    marks = ", ".join(f"{mark} {verdict}" for verdict, mark in SIGNS.items())
    intro = (
        "Each option's paired mean difference from the reference with its 95% interval (yes-or-no outcomes in "
        f"percentage points, pp), marked {marks} by the direction each outcome declares "
        "(`sim/replication/outcomes.py`). The same numbers, options down, are `decision.csv`."
    )
    table = markdown_frame(tradeoff_by_outcome(decisions, outcomes, binary, label, better_direction))
    figure = f"\n\n![forest_differences]({forest.relative_to(out_dir).as_posix()})" if forest is not None else ""
    return f"## Trade-offs\n\n{intro}\n\n{table}{figure}"


def intervals_section(posterior: dict | None) -> str:
    """Which uncertainty the intervals of the report include."""
    if posterior is None:
        return (
            "## What the intervals include\n\n"
            "**Monte Carlo error only.** Every parameter is fixed at the value its scenario file gives (for scenarios "
            "built on `configs/calibrated.toml`, the posterior medians of the calibration), so the 95% intervals below "
            "say how precisely this many replications pin down each mean, not how sure anyone can be of the "
            "parameters. Run the experiment over the posterior (`parameters_from`, as the default job "
            "`configs/experiments/policy_comparison.toml` does) to see the intervals the parameters' own "
            "uncertainty gives."
        )
    per_draw = int(posterior["replications_per_draw"])
    unit = (
        "each replication is one draw"
        if per_draw == 1
        else f"each draw's {per_draw} replications are averaged into one value, and the draws are the units"
    )
    return (
        "## What the intervals include\n\n"
        f"**Monte Carlo error and the posterior.** Parameters are drawn from `{posterior['file']}` "
        f"({len(posterior['parameters'])} parameters, {posterior['draws']} weighted draws, "
        f"{per_draw} replication(s) per draw); replication r of every scenario has the same "
        "draw and the same random streams, so the paired differences integrate the parameter uncertainty under "
        "common random numbers. Every interval, test, share and verdict of this report is computed over the draws, "
        f"the independent units ({unit}; `sim/analysis/clusters.py`), so each effect has one interval and it "
        "includes both sources of uncertainty; the next table says how much of it is Monte Carlo error."
    )


def uncertainty_section(table: pd.DataFrame, outcomes: Sequence[str], reference: str) -> str:
    """The effect of each option over the posterior: its interval (the one of every other table),
    the part of it that is Monte Carlo error, where the effect lies for 90% of the posterior, and
    the chance that it is negative, with its interval."""
    rows = []
    for r in table[table["outcome"].isin(list(outcomes))].itertuples():
        below = fmt(r.p_effect_below_zero)
        if pd.notna(r.p_effect_below_zero_low):
            below += f" [{fmt(r.p_effect_below_zero_low)}, {fmt(r.p_effect_below_zero_high)}]"
        rows.append(
            [
                str(r.scenario),
                label(r.outcome),
                fmt(r.mean_diff),
                f"[{fmt(r.posterior_ci95_low)}, {fmt(r.posterior_ci95_high)}]",
                f"[{fmt(r.mc_ci95_low)}, {fmt(r.mc_ci95_high)}]",
                f"[{fmt(r.effect_p05)}, {fmt(r.effect_p95)}]",
                below,
                fmt(r.parameter_share),
            ]
        )
    intro = (
        f"Paired differences (option - {reference}) over the posterior. *95% CI*: the interval of the mean difference "
        "over the draws, the one every table of this report gives. *Of which Monte Carlo*: the interval the same "
        "number of replications would give if the parameters were known (from replications that ran with the same "
        "posterior row): the difference between the two is what the parameters add. *Effect for 90% of the "
        "posterior*: where the expected difference lies for 90% of the posterior (each posterior row's mean, its "
        "Monte Carlo noise shrunk away). *P(effect < 0)*: the share of the posterior where the expected difference "
        "is negative, with a 95% bootstrap interval over the draws; an interval reaching from near 0 to near 1 says "
        "the data cannot tell. *Parameter share*: the part of a replication's variance due to the parameters. See "
        "`sim/analysis/uncertainty.py` for the decomposition."
    )
    header = [
        "option",
        "outcome",
        "mean diff",
        "95% CI",
        "of which Monte Carlo",
        "effect for 90% of the posterior",
        "P(effect < 0) [95% CI]",
        "parameter share",
    ]
    return "## The effects over the posterior\n\n" + intro + "\n\n" + markdown_table(header, rows)


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
        row = [label(outcome)]
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
        "scenario",
        "outcome",
        "pairs",
        "mean diff [95% CI]",
        "unpaired 95% CI",
        "variance reduction",
        "CI width ratio",
        "higher / tied / lower",
        "Wilcoxon p (Holm)",
        "sign p (Holm)",
    ]
    shown = comparison[comparison["outcome"].isin(list(outcomes))]
    rows = [difference_cells(r) for _, r in shown.iterrows()]
    intro = (
        f"Differences are scenario - {reference} over replications with a value in both. Variance reduction is "
        "1 - var(diff) / (var(scenario) + var(reference)), the share of variance common random numbers removed; "
        "the CI width ratio is paired width / unpaired (Welch) width, shown only to measure what pairing bought. "
        "*higher / tied / lower* count the pairs in which the scenario's value is above, equal to or below the "
        "reference's. The tests are paired: the Wilcoxon signed-rank test of the differences (zero differences "
        "treated as Pratt proposed) and the exact sign test of the pairs that differ, each Holm-corrected across "
        "the whole comparison table."
    )
    return f"## Paired differences against {reference}\n\n{intro}\n\n" + markdown_table(header, rows)


def difference_cells(r: pd.Series) -> list[str]:
    """One row of :func:`sim.analysis.compare.paired_differences` as the cells of the differences table."""
    return [
        str(r["scenario"]),
        label(r["outcome"]),
        str(int(r["n_pairs"])),
        f"{fmt(r['mean_diff'])} [{fmt(r['diff_ci95_low'])}, {fmt(r['diff_ci95_high'])}]",
        f"[{fmt(r['unpaired_ci95_low'])}, {fmt(r['unpaired_ci95_high'])}]",
        *(fmt(r[c]) for c in ("variance_reduction", "ci_width_ratio")),
        f"{int(r['n_higher'])} / {int(r['n_tied'])} / {int(r['n_lower'])}",
        *(p_value(r[c]) for c in ("p_wilcoxon_holm", "p_sign_holm")),
    ]


def ecdf_plot(folder: Path, runs: pd.DataFrame, outcome: str, scenarios: Sequence[str], period: str) -> Path:
    """:func:`ecdf_figure` written as ``folder/ecdf_<outcome>.png``."""
    return save_figure(ecdf_figure(runs, outcome, scenarios, period), folder / f"ecdf_{safe_name(outcome)}.png")


def ecdf_figure(runs: pd.DataFrame, outcome: str, scenarios: Sequence[str], period: str) -> Figure:
    """Empirical CDF of ``outcome``, one step line per scenario (empty values left out)."""
    fig = new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    for scenario in scenarios:
        values = np.sort(outcome_values(runs.loc[runs["scenario"] == scenario, outcome]).dropna().to_numpy())
        if len(values):
            ax.step(
                values,
                np.arange(1, len(values) + 1) / len(values),
                where="post",
                label=f"{short_label(scenario)} (n={len(values)})",
            )
    ax.set_title(f"{label(outcome)}, {period}", fontsize="medium")
    ax.set_xlabel(f"{label(outcome)} ({outcome_unit(outcome, ())})")
    ax.set_ylabel("share of replications <= x")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize="small")
    return fig


def box_plot(folder: Path, runs: pd.DataFrame, outcomes: Sequence[str], scenarios: Sequence[str], period: str) -> Path:
    """:func:`box_figure` written as ``folder/boxplot_outcomes.png``."""
    return save_figure(box_figure(runs, outcomes, scenarios, period), folder / "boxplot_outcomes.png")


def box_figure(runs: pd.DataFrame, outcomes: Sequence[str], scenarios: Sequence[str], period: str) -> Figure:
    """One panel per outcome, one box per scenario (empty values left out)."""
    ncols = min(3, len(outcomes))
    nrows = math.ceil(len(outcomes) / ncols)
    fig = new_figure((4.0 * ncols, 3.2 * nrows))
    for i, outcome in enumerate(outcomes):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        data = [outcome_values(runs.loc[runs["scenario"] == s, outcome]).dropna().to_numpy() for s in scenarios]
        ax.boxplot(data, tick_labels=short_labels(scenarios))
        ax.set_title(label(outcome), fontsize="medium")
        ax.set_ylabel(outcome_unit(outcome, ()), fontsize="small")
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Outcomes per replication, {period}")
    return fig
