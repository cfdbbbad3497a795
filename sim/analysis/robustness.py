"""The analysis and report of a robustness experiment: every option in every state of the world.

Reads the runs (one row per option, state and replication) and writes, beside them:
``states.csv`` (per option, state and outcome: means and paired differences from the reference
in the same state, regret, thresholds met), ``robustness.csv`` (per option and outcome: regret
and state-mean summaries over states, and the share of states that meet the thresholds, each
with a Monte Carlo interval over the replications), ``boxes.csv`` (PRIM's boxes of where options
fail on the evidence, with their stability), ``robustness.md`` (all of it in words and tables,
with whether the half-widths a ``[precision]`` table asks are reached) and
``plots/prim_<option>_<case>.png`` (each box's peeling trajectory, shown in the report as an
image so that its HTML version carries it inline). See :mod:`sim.analysis.regret`,
:mod:`sim.analysis.evidence` and :mod:`sim.analysis.discovery` for the methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.direction import higher_is_better
from sim.analysis.discovery import (
    DENSITY_TOLERANCE,
    MIN_COVERAGE,
    STABLE,
    Box,
    box_table,
    cases,
    discover,
    trajectory_plot,
)
from sim.analysis.discovery import (
    RESAMPLES as PRIM_RESAMPLES,
)
from sim.analysis.evidence import CONFIDENCE
from sim.analysis.figures import safe_name
from sim.analysis.regret import (
    RESAMPLES,
    STATE_QUANTILE,
    robustness_table,
    states_table,
    value_cube,
)
from sim.analysis.tables import fmt, markdown_table, markdown_text
from sim.batch.cells import write_csv
from sim.batch.folder import write_atomic
from sim.design.robustness import Precision, StatesDesign

PLOTS = "plots"


@dataclass(frozen=True)
class Robustness:
    states: pd.DataFrame  # states.csv
    metrics: pd.DataFrame  # robustness.csv
    boxes: list[Box]  # PRIM's boxes (boxes.csv)
    report: Path | None


def discovery_outcomes(design: StatesDesign, outcomes: list[str]) -> list[str]:
    """The outcomes on which PRIM asks where an option loses to the reference: those with a
    threshold, else the experiment's first outcome."""
    return list(dict.fromkeys(t.outcome for t in design.thresholds)) or outcomes[:1]


def analyse_robustness(
    runs: pd.DataFrame,
    design: StatesDesign,
    outcomes: list[str],
    seed: int,
    out: Path | None = None,
    title: str = "Robustness",
) -> Robustness:
    """The tables of a robustness experiment (and, with ``out``, its files and report)."""
    states = states_table(runs, design, outcomes)
    metrics = robustness_table(runs, design, outcomes, seed)
    asked = discovery_outcomes(design, outcomes)
    cubes = {o: value_cube(runs, design, o) for o in dict.fromkeys([*asked, *(t.outcome for t in design.thresholds)])}
    questions = cases(design.options, design.reference, cubes, asked, design.thresholds)
    x = design.states[design.paths]
    found = [(q, discover(q, x, seed + i)) for i, q in enumerate(questions)]
    boxes = [box for _, box in found if box is not None]
    if out is None:
        return Robustness(states, metrics, boxes, None)
    write_csv(out / "states.csv", states)
    write_csv(out / "robustness.csv", metrics)
    write_csv(out / "boxes.csv", box_table(boxes))
    plots = {
        id(box): trajectory_plot(out / PLOTS / f"prim_{safe_name(box.case.option)}_{safe_name(box.case.what)}.png", box)
        for box in boxes
        if not box.whole
    }
    text = report_text(title, design, runs, outcomes, metrics, found, {k: p.relative_to(out) for k, p in plots.items()})
    report = out / "robustness.md"
    write_atomic(report, lambda p: p.write_text(text, encoding="utf-8"))
    return Robustness(states, metrics, boxes, report)


def report_text(
    title: str,
    design: StatesDesign,
    runs: pd.DataFrame,
    outcomes: list[str],
    metrics: pd.DataFrame,
    found: list,
    plots: dict,
) -> str:
    replications = int(runs["replication"].max()) + 1
    ranges = ", ".join(f"`{p.path}` in [{p.low:g}, {p.high:g}]" for p in design.parameters)
    lines = [
        f"# {markdown_text(title)}",
        "",
        f"{len(design.options)} options x {len(design.states)} states of the world x {replications} replications; "
        f"replication r of every option in every state uses the same random streams. States: {ranges}. "
        f"Reference: {design.reference}. Fewer is better for every outcome except "
        f"{', '.join(o for o in outcomes if higher_is_better(o)) or 'none here'} (more is better).",
        "",
        "Intervals: 95%, Monte Carlo only: they say how far another set of replications could move a figure, for "
        "these states of the world (not how far other states could). The replications are the unit of resampling: "
        "replication r of every option and state shares its random streams (one future, seen by every state), so "
        f"the bootstrap draws replications, the same draw for every option and state ({RESAMPLES} resamples). "
        "Summaries over states: the estimate plus or minus Student's t times the bootstrap standard error; shares "
        "of states: the bootstrap percentile interval with its levels expanded for the number of replications "
        "(bench/robustness_coverage.py measures how often they cover).",
        "",
        *_precision_lines(metrics, design, replications),
        "## Regret",
        "",
        "Regret of an option in a replication: how much worse it did than the best option of the same state and "
        "replication. Per state, the mean over replications; then the mean, maximum and "
        f"{STATE_QUANTILE}th percentile over states.",
        "",
        _metric_table(metrics, outcomes, design.options, ("regret_mean", "regret_max", f"regret_p{STATE_QUANTILE}")),
        "",
        least_regret_text(metrics, outcomes),
        "",
    ]
    if design.thresholds:
        lines += [
            "## Satisficing",
            "",
            "Share of states in which an option's state mean meets each threshold ("
            + "; ".join(t.text() for t in design.thresholds)
            + "), and all of them.",
            "",
            _metric_table(
                metrics, [*(t.outcome for t in design.thresholds), "all thresholds"], design.options, ("satisficing",)
            ),
            "",
        ]
    lines += [
        "## Outcomes over the states",
        "",
        "The worst state mean, and the 10th, 50th and 90th percentiles of the state means.",
        "",
        _metric_table(metrics, outcomes, design.options, ("worst", "state_p10", "state_p50", "state_p90")),
        "",
        "## Where options fail (PRIM)",
        "",
        _discovery_text(found, plots),
    ]
    return "\n".join(lines) + "\n"


def precision_table(metrics: pd.DataFrame, precision: Precision) -> pd.DataFrame:
    """Per half-width a ``[precision]`` table asks: the widest 95% half-width over the options
    (of mean regret on the outcome; of the share of states meeting all the thresholds), the
    half-width asked and whether it is reached."""
    rows = []
    for outcome, asked in precision.regret_mean.items():
        chosen = metrics[(metrics.metric == "regret_mean") & (metrics.outcome == outcome)]
        rows.append(("mean regret", outcome, chosen, asked))
    if precision.satisficing is not None:
        shares = metrics[(metrics.metric == "satisficing") & (metrics.outcome == "all thresholds")]
        rows.append(("share of states meeting the thresholds", "all thresholds", shares, precision.satisficing))
    table = pd.DataFrame(
        [
            {
                "metric": metric,
                "outcome": outcome,
                "half_width": float(((c.ci95_high - c.ci95_low) / 2).max()),
                "asked": asked,
            }
            for metric, outcome, c, asked in rows
        ],
        columns=["metric", "outcome", "half_width", "asked"],
    )
    table["reached"] = table["half_width"] <= table["asked"]  # NaN compares False
    return table


def _precision_lines(metrics: pd.DataFrame, design: StatesDesign, replications: int) -> list[str]:
    """The report's precision paragraph: the half-widths the file asks, reached or not."""
    if design.precision is None:
        return []
    table = precision_table(metrics, design.precision)
    cells = [
        [r.metric, r.outcome, fmt(r.half_width), fmt(r.asked), "yes" if r.reached else "no"] for r in table.itertuples()
    ]
    if table["reached"].all():
        verdict = f"Every half-width the experiment file asks is reached with {replications} replications."
    else:
        factor = float((table["half_width"] / table["asked"]).max() ** 2)
        verdict = (
            f"**Not every half-width the experiment file asks is reached** with {replications} replications: "
            f"about {factor:.1f} times as many would be needed (half-widths shrink as one over the square root "
            "of the replications)."
        )
    return [
        "## Precision",
        "",
        verdict + " The widest half-width over the options:",
        "",
        markdown_table(["metric", "outcome", "half-width", "asked", "reached"], cells),
        "",
    ]


def _cell(row: pd.Series) -> str:
    return f"{fmt(row['value'])} [{fmt(row['ci95_low'])}, {fmt(row['ci95_high'])}]"


def _metric_table(metrics: pd.DataFrame, outcomes: list[str], options: tuple[str, ...], names: tuple[str, ...]) -> str:
    rows = []
    for outcome in outcomes:
        for name in names:
            cells = [
                _cell(metrics[(metrics.option == o) & (metrics.outcome == outcome) & (metrics.metric == name)].iloc[0])
                for o in options
            ]
            rows.append([outcome, name, *cells])
    return markdown_table(["outcome", "metric", *options], rows)


def least_regret_text(metrics: pd.DataFrame, outcomes: list[str]) -> str:
    """One line per outcome: the option with the least maximum regret (minimax regret), named
    only when its 95% interval lies wholly below every other option's; otherwise the options
    whose intervals overlap its own, which these replications cannot tell apart."""
    worst = metrics[metrics.metric == "regret_max"]
    lines = []
    for outcome in outcomes:
        rows = worst[(worst.outcome == outcome) & worst["value"].notna()].sort_values("value", kind="stable")
        if len(rows) < 2:
            continue
        best, others = rows.iloc[0], rows.iloc[1:]
        overlap = others[(others["ci95_low"] <= best["ci95_high"]) & (best["ci95_low"] <= others["ci95_high"])]
        if overlap.empty:
            nearest = others.iloc[0]
            lines.append(
                f"- {outcome}: least maximum regret {best['option']} ({_cell(best)}), its interval below every "
                f"other option's (next {nearest['option']}, {_cell(nearest)})"
            )
        else:
            tied = ", ".join(
                f"{row['option']} {_cell(row)}" for _, row in pd.concat([best.to_frame().T, overlap]).iterrows()
            )
            lines.append(
                f"- {outcome}: no winner among overlapping values: the least maximum regret ({tied}) cannot "
                "be told apart (the intervals overlap)"
            )
    return "\n".join(lines)


def _discovery_text(found: list, plots: dict) -> str:
    if not found:
        return "No case to discover."
    lines, figures = [], []
    for case, box in found:
        k, n = int(case.failing.sum()), len(case.failing)
        undecided = f"{case.undecided} undecided" if case.shortfall is not None else ""
        if k == 0:
            lines.append(
                f"- {case.text}: in no state, on the evidence (no state's interval excludes the line"
                f"{'; ' + undecided if undecided else ''})."
            )
        elif box is None:
            lines.append(
                f"- {case.text} in {k} of {n} states{' (' + undecided + ')' if undecided else ''}, scattered: "
                f"PRIM finds no box where at least half the states fail."
            )
        elif box.whole:
            lines.append(f"- {box.words()}{'; ' + undecided if undecided else ''}.")
        else:
            stable = ", ".join(f"`{p}` {box.stability[p]:.0%}" for p in box.limits)
            verdict = (
                "stable"
                if box.stable
                else f"not stable (a parameter restricted in fewer than {STABLE:.0%}): a lead, not a finding"
            )
            lines.append(
                f"- {f'**{box.words()}**' if box.stable else box.words()} ({k} of {n} states fail"
                f"{', ' + undecided if undecided else ''}; restricted again in the resamples: {stable}; {verdict})"
            )
            figures.append(f"![Peeling trajectory: {box.case.text}]({plots[id(box)]})")
    note = (
        "A state fails when its 95% interval (the paired difference from the reference, or the state mean against "
        "a threshold) lies wholly on the worse side; a state whose interval holds the line is undecided and counts as "
        f"not failing. A state whose true mean sits on the line fails by chance with probability {(1 - CONFIDENCE) / 2:.1%} "
        f"(about {(1 - CONFIDENCE) / 2 * len(found[0][0].failing):.1f} of {len(found[0][0].failing)} states), so a few "
        "failing states alone are no finding. Each box is the least peeled box on PRIM's peeling trajectory within "
        f"{DENSITY_TOLERANCE:g} of the highest density among boxes that keep at least {MIN_COVERAGE:.0%} of the failing states "
        "(coverage: share of failing states inside; density: share of states inside that fail); the percentages say how "
        f"often each restricted parameter is restricted again when PRIM reruns on {PRIM_RESAMPLES} resamples of the states and "
        "the replications together (which states fail read again on each). Bold: a stable box."
    )
    return "\n".join([*lines, "", note, *(f"\n{f}" for f in figures)])


def met_by_option(metrics: pd.DataFrame) -> dict[str, float]:
    """Share of states meeting all thresholds, by option (empty without thresholds)."""
    rows = metrics[(metrics.metric == "satisficing") & (metrics.outcome == "all thresholds")]
    return dict(zip(rows["option"], rows["value"].astype(float)))
