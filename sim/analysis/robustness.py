"""The analysis and report of a robustness experiment: every option in every state of the world.

Reads the runs (one row per option, state and replication) and writes, beside them:
``states.csv`` (per option, state and outcome: means and paired differences from the reference
in the same state, regret, thresholds met), ``robustness.csv`` (per option and outcome: regret
and state-mean summaries over states, and the share of states that meet the thresholds, each
with a Monte Carlo interval over the replications), ``boxes.csv`` (PRIM's boxes of where options fail, with
their stability), ``robustness.md`` (all of it in words and tables) and
``plots/prim_<option>_<case>.png`` (each box's peeling trajectory). See
:mod:`sim.analysis.regret` and :mod:`sim.analysis.discovery` for the methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.direction import higher_is_better
from sim.analysis.discovery import Box, box_table, cases, discover, trajectory_plot
from sim.analysis.figures import safe_name
from sim.analysis.regret import (
    RESAMPLES,
    STATE_QUANTILE,
    robustness_table,
    satisficing,
    states_table,
)
from sim.analysis.tables import fmt, markdown_table
from sim.batch.folder import write_atomic, write_csv
from sim.design.robustness import StatesDesign

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


def analyse_robustness(runs: pd.DataFrame, design: StatesDesign, outcomes: list[str], seed: int,
                       out: Path | None = None, title: str = "Robustness") -> Robustness:  # fmt: skip
    """The tables of a robustness experiment (and, with ``out``, its files and report)."""
    states = states_table(runs, design, outcomes)
    metrics = robustness_table(runs, design, outcomes, seed)
    met = satisficing(runs, design).all(axis=0) if design.thresholds else None
    questions = cases(states, design.reference, discovery_outcomes(design, outcomes),
                      dict(zip(design.options, met)) if met is not None else {})  # fmt: skip
    x = design.states[design.paths]
    found = [(q, discover(q, x, seed + i)) for i, q in enumerate(questions)]
    boxes = [box for _, box in found if box is not None]
    if out is None:
        return Robustness(states, metrics, boxes, None)
    write_csv(out / "states.csv", states)
    write_csv(out / "robustness.csv", metrics)
    write_csv(out / "boxes.csv", box_table(boxes))
    plots = {id(box): trajectory_plot(out / PLOTS / f"prim_{safe_name(box.case.option)}_{safe_name(box.case.what)}.png", box)
             for box in boxes}  # fmt: skip
    text = report_text(title, design, runs, outcomes, metrics, found, {k: p.relative_to(out) for k, p in plots.items()})
    report = out / "robustness.md"
    write_atomic(report, lambda p: p.write_text(text, encoding="utf-8"))
    return Robustness(states, metrics, boxes, report)


def report_text(title: str, design: StatesDesign, runs: pd.DataFrame, outcomes: list[str], metrics: pd.DataFrame,
                found: list, plots: dict) -> str:  # fmt: skip
    replications = int(runs["replication"].max()) + 1
    ranges = ", ".join(f"`{p.path}` in [{p.low:g}, {p.high:g}]" for p in design.parameters)
    lines = [
        f"# {title}", "",
        f"{len(design.options)} options x {len(design.states)} states of the world x {replications} replications; "
        f"replication r of every option in every state uses the same random streams. States: {ranges}. "
        f"Reference: {design.reference}. Fewer is better for every outcome except "
        f"{', '.join(o for o in outcomes if higher_is_better(o)) or 'none here'} (more is better).", "",
        "Intervals: 95%, Monte Carlo only: they say how far another set of replications could move a figure, for "
        "these states of the world (not how far other states could). The replications are the unit of resampling: "
        "replication r of every option and state shares its random streams (one future, seen by every state), so "
        f"the bootstrap draws replications, the same draw for every option and state ({RESAMPLES} resamples). "
        "Summaries over states: the estimate plus or minus Student's t times the bootstrap standard error; shares "
        "of states: the bootstrap percentile interval with its levels expanded for the number of replications "
        "(bench/robustness_coverage.py measures how often they cover).", "",
        "## Regret", "",
        "Regret of an option in a replication: how much worse it did than the best option of the same state and "
        "replication. Per state, the mean over replications; then the mean, maximum and "
        f"{STATE_QUANTILE}th percentile over states.", "",
        _metric_table(metrics, outcomes, design.options, ("regret_mean", "regret_max", f"regret_p{STATE_QUANTILE}")), "",
        _least_regret(metrics, outcomes), "",
    ]
    if design.thresholds:
        lines += ["## Satisficing", "",
                  "Share of states in which an option's state mean meets each threshold ("
                  + "; ".join(t.text() for t in design.thresholds) + "), and all of them.", "",
                  _metric_table(metrics, [*(t.outcome for t in design.thresholds), "all thresholds"], design.options,
                                ("satisficing",)), ""]  # fmt: skip
    lines += ["## Outcomes over the states", "",
              "The worst state mean, and the 10th, 50th and 90th percentiles of the state means.", "",
              _metric_table(metrics, outcomes, design.options, ("worst", "state_p10", "state_p50", "state_p90")), "",
              "## Where options fail (PRIM)", "", _discovery_text(found, plots)]  # fmt: skip
    return "\n".join(lines) + "\n"


def _cell(row: pd.Series) -> str:
    return f"{fmt(row['value'])} [{fmt(row['ci95_low'])}, {fmt(row['ci95_high'])}]"


def _metric_table(metrics: pd.DataFrame, outcomes: list[str], options: tuple[str, ...], names: tuple[str, ...]) -> str:
    rows = []
    for outcome in outcomes:
        for name in names:
            cells = [_cell(metrics[(metrics.option == o) & (metrics.outcome == outcome) & (metrics.metric == name)].iloc[0])
                     for o in options]  # fmt: skip
            rows.append([outcome, name, *cells])
    return markdown_table(["outcome", "metric", *options], rows)


def _least_regret(metrics: pd.DataFrame, outcomes: list[str]) -> str:
    """One line per outcome: the option with the least maximum regret (minimax regret)."""
    worst = metrics[metrics.metric == "regret_max"]
    lines = []
    for outcome in outcomes:
        rows = worst[worst.outcome == outcome].sort_values("value", kind="stable")
        best = rows.iloc[0]
        lines.append(f"- {outcome}: least maximum regret {best['option']} ({fmt(best['value'])}; "
                     f"next {rows.iloc[1]['option']}, {fmt(rows.iloc[1]['value'])})" if len(rows) > 1 else "")  # fmt: skip
    return "\n".join(lines)


def _discovery_text(found: list, plots: dict) -> str:
    lines = []
    for case, box in found:
        share = case.failing.mean()
        if box is None:
            lines.append(f"- {case.text} in {'every' if share == 1 else 'no'} state." if share in (0, 1) else
                         f"- {case.text} in {int(case.failing.sum())} of {len(case.failing)} states, scattered: PRIM "
                         "finds no box where at least half the states fail.")  # fmt: skip
            continue
        stable = ", ".join(f"`{p}` {box.stability[p]:.0%}" for p in box.limits) or "none"
        lines.append(f"- **{box.words()}** ({int(case.failing.sum())} of {len(case.failing)} states fail; "
                     f"restricted in the resamples: {stable}; [trajectory]({plots[id(box)]}))")  # fmt: skip
    note = ("Each box is the least peeled box on PRIM's peeling trajectory within 0.05 of the highest density "
            "among boxes that keep at least half the failing states "
            "(coverage: share of failing states inside; density: share of states inside that fail); the percentages "
            "say how often each restricted parameter is restricted again when PRIM reruns on bootstrap resamples of the states.")
    return "\n".join([*lines, "", note]) if lines else "No case to discover."


def met_by_option(metrics: pd.DataFrame) -> dict[str, float]:
    """Share of states meeting all thresholds, by option (empty without thresholds)."""
    rows = metrics[(metrics.metric == "satisficing") & (metrics.outcome == "all thresholds")]
    return dict(zip(rows["option"], rows["value"].astype(float)))

