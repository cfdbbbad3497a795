"""The answer of a policy comparison, in the words of a memo: the first screen of its report.

For each option against the reference: the outcomes it wins and loses (the verdicts of
:mod:`sim.analysis.decision`: the paired 95% interval of the mean difference wholly on the better
or the worse side of 0), how sure that is (whether the intervals include the uncertainty of the
parameters or Monte Carlo error only), and where the answer reverses (:mod:`sim.analysis.reversal`
over a posterior; at one point of parameter space when the parameters were fixed). Outcomes are
named by their plain labels (:func:`sim.replication.outcomes.label`). No p-value appears here:
they belong to the detail sections.

Every function here is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.contents import anchor
from sim.analysis.decision import BETTER, SIGNIFICANCE, WORSE, difference
from sim.analysis.reversal import HOLDS, REVERSES
from sim.analysis.tables import EMPTY, fmt, markdown_table, p_value

ANSWER_HEADING = "The answer: each option against {reference}"
REVERSAL_HEADING = "Where the answer reverses"
POSTERIOR_EXPERIMENT = "configs/experiments/policy_comparison.toml"  # the default job
ROBUSTNESS_EXPERIMENT = "configs/experiments/robustness.toml"


@dataclass(frozen=True)
class OptionAnswer:
    """What one option does against the reference.

    option : the scenario. wins, losses : the outcomes it does better and worse on, in the
    order of the decision table. weak : those of them the paired test does not confirm (Holm-
    corrected p >= 0.05). unclear : the outcomes with no clear difference.
    """

    option: str
    wins: tuple[str, ...]
    losses: tuple[str, ...]
    weak: frozenset[str]
    unclear: tuple[str, ...]


def option_answers(decisions: pd.DataFrame) -> list[OptionAnswer]:
    """Each option's wins, losses and outcomes without a clear difference, in the order of
    ``decisions`` (:func:`sim.analysis.decision.decision_table`)."""
    answers = []
    for option, rows in decisions.groupby("scenario", sort=False):
        verdicts = dict(zip(rows["outcome"], rows["verdict"]))
        weak = rows[rows["verdict"].isin([BETTER, WORSE]) & ~(rows["p_wilcoxon_holm"] < SIGNIFICANCE)]
        answers.append(
            OptionAnswer(
                str(option),
                tuple(o for o, v in verdicts.items() if v == BETTER),
                tuple(o for o, v in verdicts.items() if v == WORSE),
                frozenset(weak["outcome"]),
                tuple(o for o, v in verdicts.items() if v not in (BETTER, WORSE)),
            )
        )
    return answers


def answer_section(
    decisions: pd.DataFrame,
    reversals: pd.DataFrame | None,
    reference: str,
    posterior: dict | None,
    period: str,
    name: Callable[[str], str],
    binary: Collection[str],
) -> str:
    """The first screen of a report: per option, what it wins and loses, how sure, and where the
    answer reverses.

    Parameters
    ----------
    decisions : DataFrame
        :func:`sim.analysis.decision.decision_table` of the outcomes shown.
    reversals : DataFrame or None
        :func:`sim.analysis.reversal.find_reversals` over a posterior; None with fixed parameters.
    reference : str
        The reference option.
    posterior : dict or None
        The manifest's description of the posterior draws; None when the parameters were fixed.
    period : str
        The days the outcomes count.
    name : callable
        Outcome -> its plain label.
    binary : collection of str
        Yes-or-no outcomes (differences in percentage points).
    """
    pairs = int(decisions["n_pairs"].max()) if len(decisions) else 0
    intro = (
        f"Over {period}, {pairs} paired futures per option. An option **wins** (**loses**) when the 95% interval of its "
        f"mean difference from {reference} (in parentheses) lies wholly on the better (worse) side of 0; *weak "
        "evidence*: the paired test does not confirm it. " + how_sure(posterior)
    )
    bullets = [option_line(a, decisions, reversals, posterior, name, binary) for a in option_answers(decisions)]
    heading = ANSWER_HEADING.format(reference=reference)
    return f"## {heading}\n\n{intro}\n\n" + "\n".join(f"- {b}" for b in bullets)


def how_sure(posterior: dict | None) -> str:
    """What the intervals include, and where the report looks for reversals."""
    if posterior is None:
        return (
            "**How sure:** the intervals include Monte Carlo error only: every parameter is fixed, so the answer holds "
            "at one point of parameter space. **Where it reverses** is not examined here: see the same options over "
            f"the calibration's posterior (`{POSTERIOR_EXPERIMENT}`, the default job, whose report says where each answer reverses) and "
            f"over states of the disputed effects (`{ROBUSTNESS_EXPERIMENT}`, whose robustness.md says where each "
            "option loses to the reference)."
        )
    return (
        f"**How sure:** the intervals include the parameters' uncertainty ({len(posterior['parameters'])} parameters "
        f"from `{posterior['file']}`, {posterior['draws']} draws) and Monte Carlo error. **Where it reverses:** "
        f"where a line fitted over the draws crosses 0, with its 95% interval ([how](#{anchor(REVERSAL_HEADING)}))."
    )


def option_line(
    answer: OptionAnswer,
    decisions: pd.DataFrame,
    reversals: pd.DataFrame | None,
    posterior: dict | None,
    name: Callable[[str], str],
    binary: Collection[str],
) -> str:
    """One option's line of the answer: its wins, losses, the number of unclear outcomes and,
    over a posterior, where it reverses."""
    rows = decisions[decisions["scenario"] == answer.option].set_index("outcome")

    def listed(outcomes: Sequence[str]) -> str:
        items = []
        for outcome in outcomes:
            weak = ", weak evidence" if outcome in answer.weak else ""
            items.append(f"{name(outcome)} ({difference(rows.loc[outcome, 'mean_diff'], outcome in binary)}{weak})")
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    option = f"**{answer.option}**"
    if not answer.wins and not answer.losses:
        return f"{option}: no clear difference on any of the {len(answer.unclear)} outcomes."
    parts = []
    if answer.wins:
        parts.append(f"wins on {listed(answer.wins)}")
    if answer.losses:
        parts.append(f"loses on {listed(answer.losses)}")
    if answer.unclear:
        parts.append(f"no clear difference on {len(answer.unclear)} other{'s' if len(answer.unclear) > 1 else ''}")
    text = f"{option} {'; '.join(parts)}."
    if posterior is None:
        return text
    return f"{text} {where_it_reverses(answer, reversals, name)}"


def where_it_reverses(answer: OptionAnswer, reversals: pd.DataFrame | None, name: Callable[[str], str]) -> str:
    """Where one option's wins and losses reverse or fade (:mod:`sim.analysis.reversal`), and
    that the rest hold over the posterior's range."""
    found = reversals[reversals["scenario"] == answer.option].set_index("outcome") if reversals is not None else None
    if found is None or found.empty:
        return "These draws cannot say where it reverses (too few of them, or no drawn parameter varies)."
    reverses, fades = [], []
    for outcome in [o for o in (*answer.wins, *answer.losses) if o in found.index and found.loc[o, "status"] != HOLDS]:
        r = found.loc[outcome]
        where = f"on {name(outcome)} when `{r['parameter']}` {r['side']} {fmt(r['crossing'])}"
        if r["status"] == REVERSES:
            reverses.append(
                f"reverses {where} [{fmt(r['crossing_low'])}, {fmt(r['crossing_high'])}] "
                f"({fmt(100 * r['share_beyond'], 2)}% of the draws)"
            )
        else:
            fades.append(where)
    said = [*reverses, *([f"fades to no clear difference {' and '.join(fades)}"] if fades else [])]
    if not said:
        return "Holds over the whole posterior range of the parameters."
    text = "; ".join([*said, "the rest holds over the whole posterior range."])
    return text[0].upper() + text[1:]


def reversal_section(
    reversals: pd.DataFrame, reference: str, name: Callable[[str], str], binary: Collection[str]
) -> str:
    """The detail of :func:`sim.analysis.reversal.find_reversals`: one row per option and decisive
    outcome, with the numbers (p-values included) behind the answer's "where it reverses"."""
    tests = int(reversals["tests"].max()) if len(reversals) else 0
    draws = int(reversals["draws"].max()) if len(reversals) else 0
    intro = (
        f"For each outcome an option wins or loses against {reference}: the mean paired difference of each posterior "
        f"draw ({draws} draws) regressed on each drawn parameter by least squares, over the draws (the replications of "
        "a draw share its parameters, so the draw is the unit). Shown is the parameter whose line fits best (largest "
        "|r|), the p-value of its slope Bonferroni-corrected for all "
        f"{tests} lines tried, the range of its drawn values with the fitted difference at both ends, and where the "
        "line crosses 0 with Fieller's interval at the same corrected level (bounded only when the slope passes the "
        "corrected test), and the share of the draws beyond it. *Reverses*: the crossing and the far end of its "
        "interval lie within the drawn range, and the draws beyond the crossing show the other sign themselves (the "
        "95% t-interval of their mean excludes 0), so at the edge of the posterior the option does the opposite of "
        "the answer; *fades*: the line reaches 0 within the range, but the reversal is not shown (a difference that "
        "cannot change sign, such as the strikes of an option that never strikes, does this); *holds*: otherwise. A "
        "straight line summarises: an effect that bends may cross 0 where the line does not. See "
        "`sim/analysis/reversal.py`."
    )
    header = [
        "option",
        "outcome",
        "mean diff",
        "parameter",
        "r",
        "p (Bonferroni)",
        "drawn range",
        "fitted diff at its ends",
        "crossing [95% interval]",
        "draws beyond",
        "answer",
    ]
    rows = []
    for r in reversals.itertuples():
        is_binary = r.outcome in binary
        bounds = f"[{fmt(r.crossing_low)}, {fmt(r.crossing_high)}]" if np.isfinite(r.crossing_low) else "[unbounded]"
        crossing = EMPTY if not r.side else f"{r.side} {fmt(r.crossing)} {bounds}"
        rows.append(
            [
                str(r.scenario),
                name(r.outcome),
                difference(r.mean_diff, is_binary),
                f"`{r.parameter}`" if r.parameter else EMPTY,
                fmt(r.correlation),
                p_value(r.p_corrected),
                f"{fmt(r.low)} to {fmt(r.high)}",
                f"{difference(r.fitted_at_low, is_binary)}, {difference(r.fitted_at_high, is_binary)}",
                crossing,
                EMPTY if not r.side else f"{fmt(100 * r.share_beyond, 2)}%",
                str(r.status),
            ]
        )
    table = markdown_table(header, rows) if rows else "No option wins or loses on any outcome: nothing to reverse."
    return f"## {REVERSAL_HEADING}\n\n{intro}\n\n{table}"
