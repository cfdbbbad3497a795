"""The decision view of a comparison: each option against the reference, in the terms of a choice.

Reads the table of :func:`sim.analysis.compare.paired_differences` and the direction in which each
outcome is better (declared once, beside the outcome, in :mod:`sim.replication.outcomes`). For
each option and outcome it gives the paired mean difference with its 95% interval, the shares of
paired replications (paired futures: the same random attacks under both options) in which the
option does better, as well (tied) or worse, each with a 95% Wilson interval, a verdict and one
plain sentence made from those numbers. The verdict follows the paired interval of the mean:
better or worse when it excludes 0, "no clear difference" otherwise. The interval is taken on its
own; when the Wilcoxon signed-rank p-value, Holm-corrected across every comparison of the table,
does not confirm it (p >= 0.05), or sees a difference where the interval covers 0 (p < 0.05),
the sentence calls the evidence weak.

Every function here is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from datetime import date

import numpy as np
import pandas as pd

from sim.analysis.summary import wilson_interval
from sim.analysis.tables import EMPTY, fmt, p_value

BETTER, WORSE, UNCLEAR = "better", "worse", "no clear difference"
MARKS = {BETTER: "✔ better", WORSE: "✘ worse", UNCLEAR: "≈ no clear difference"}
SIGNS = {BETTER: "✔", WORSE: "✘", UNCLEAR: "≈"}  # the marks of the report's trade-off table, explained beside it
NO_BREAK = "\u00a0"
SIGNIFICANCE = 0.05  # below it a Holm-corrected paired p-value confirms an interval's verdict
PERCENTAGE_POINTS = 100.0  # a difference of probabilities, in percentage points

DECISION_COLUMNS = [
    "scenario",
    "reference",
    "outcome",
    "better_when",
    "n_pairs",
    "mean_diff",
    "diff_ci95_low",
    "diff_ci95_high",
    "share_better",
    "share_better_low",
    "share_better_high",
    "share_tied",
    "share_tied_low",
    "share_tied_high",
    "share_worse",
    "share_worse_low",
    "share_worse_high",
    "p_wilcoxon_holm",
    "p_sign_holm",
    "verdict",
    "sentence",
]


def decision_table(
    comparison: pd.DataFrame, better_when: Callable[[str], str], binary: Collection[str] = ()
) -> pd.DataFrame:
    """Each option against the reference, per outcome, in the terms of a choice.

    Parameters
    ----------
    comparison : DataFrame
        :func:`sim.analysis.compare.paired_differences` (with ``n_higher``, ``n_tied``,
        ``n_lower`` and the Holm-corrected paired p-values).
    better_when : callable
        Outcome -> ``"lower"`` or ``"higher"`` (e.g.
        :func:`sim.replication.outcomes.better_direction`).
    binary : collection of str
        Outcomes that are true or false in a replication: their differences are differences of
        probabilities, worded in percentage points.

    Returns
    -------
    DataFrame
        One row per row of ``comparison``, in its order, with the columns ``DECISION_COLUMNS``:
        the option's shares of pairs better / tied / worse with their 95% Wilson intervals
        (NaN without pairs), the ``verdict`` (``better``, ``worse`` or ``no clear difference``)
        and the ``sentence``.

    Raises
    ------
    ValueError
        If ``better_when`` gives anything but ``"lower"`` or ``"higher"``.
    """
    rows = [
        decision_row(r, better_when(str(r["outcome"])), str(r["outcome"]) in binary) for _, r in comparison.iterrows()
    ]
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def decision_row(r: pd.Series, better_when: str, binary: bool) -> dict:
    """:func:`decision_table` for one row of the comparison."""
    if better_when not in ("lower", "higher"):
        raise ValueError(f"outcome {r['outcome']}: better = {better_when!r} must be 'lower' or 'higher'")
    n = int(r["n_pairs"])
    n_better, n_worse = (r["n_lower"], r["n_higher"]) if better_when == "lower" else (r["n_higher"], r["n_lower"])
    row = {
        c: r[c]
        for c in (
            "scenario",
            "reference",
            "outcome",
            "n_pairs",
            "mean_diff",
            "diff_ci95_low",
            "diff_ci95_high",
            "p_wilcoxon_holm",
            "p_sign_holm",
        )
    }
    row["better_when"] = better_when
    for name, k in (("better", n_better), ("tied", r["n_tied"]), ("worse", n_worse)):
        low, high = wilson_interval(int(k), n)
        row.update({f"share_{name}": k / n if n else np.nan, f"share_{name}_low": low, f"share_{name}_high": high})
    row["verdict"] = verdict(r["mean_diff"], r["diff_ci95_low"], r["diff_ci95_high"], better_when)
    row["sentence"] = sentence(row, binary)
    return row


def verdict(mean_diff: float, low: float, high: float, better_when: str) -> str:
    """``better`` or ``worse`` when the paired 95% interval excludes 0, else ``no clear difference``
    (also when the interval cannot be computed)."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
        return UNCLEAR
    lowered = mean_diff < 0
    return BETTER if lowered == (better_when == "lower") else WORSE


def sentence(row: dict, binary: bool, name: str | None = None) -> str:
    """One plain sentence from the numbers of a decision row; ``name`` calls the outcome
    (default its column: the console and ``decision_table`` keep the column, a report passes
    the outcome's label)."""
    option, outcome, reference = row["scenario"], name or row["outcome"], row["reference"]
    if row["n_pairs"] == 0 or not np.isfinite(row["diff_ci95_low"]):
        return f"{option} and {reference} cannot be compared on {outcome}: too few replications with a value in both."
    scale, unit = (PERCENTAGE_POINTS, " percentage points") if binary else (1.0, "")
    what = f"the chance of {outcome}" if binary else outcome
    shares = f"better in {percent(row['share_better'])} of paired futures, worse in {percent(row['share_worse'])}"
    if row["share_tied"] > 0:
        shares += f", tied in {percent(row['share_tied'])}"
    mean, low, high = (scale * row[c] for c in ("mean_diff", "diff_ci95_low", "diff_ci95_high"))
    if row["verdict"] == UNCLEAR:
        mixed = ""
        if row["p_wilcoxon_holm"] < SIGNIFICANCE:  # the tests see a difference the interval does not
            mixed = (
                f"; weak evidence: the paired test corrected for every comparison of the table gives "
                f"p = {p_value(row['p_wilcoxon_holm'])}, but the interval of the mean covers 0"
            )
        return (
            f"no clear difference between {option} and {reference} on {what}: {signed(mean)}{unit} "
            f"(95% CI {signed(low)} to {signed(high)}); {option} does {shares}{mixed}."
        )
    verb = "lowers" if mean < 0 else "raises"
    size, (a, b) = abs(mean), sorted((abs(low), abs(high)))
    weak = ""
    if not row["p_wilcoxon_holm"] < SIGNIFICANCE:
        weak = f"; weak evidence: the paired test corrected for every comparison of the table gives p = {p_value(row['p_wilcoxon_holm'])}"
    return (
        f"{option} {verb} {what} by {fmt(size)}{unit} (95% CI {fmt(a)} to {fmt(b)}) against {reference} "
        f"and does {shares}{weak}."
    )


def tradeoff_table(decisions: pd.DataFrame, outcomes: Sequence[str], binary: Collection[str] = ()) -> pd.DataFrame:
    """Options down, outcomes across: ``mean diff [95% CI] mark`` per cell, for a memo.

    Binary outcomes are in percentage points (``pp``). A missing comparison is left empty.
    """
    cells = decisions.set_index(["scenario", "outcome"])
    options = list(dict.fromkeys(decisions["scenario"]))
    table = {"option": options}
    for outcome in outcomes:
        column = []
        for option in options:
            if (option, outcome) not in cells.index:
                column.append(EMPTY)
                continue
            r = cells.loc[(option, outcome)]
            column.append(f"{difference_interval(r, outcome in binary)} {MARKS[r['verdict']]}")
        table[outcome] = column
    return pd.DataFrame(table)


def tradeoff_by_outcome(
    decisions: pd.DataFrame,
    outcomes: Sequence[str],
    binary: Collection[str],
    name: Callable[[str], str],
    better_when: Callable[[str], str],
) -> pd.DataFrame:
    """The trade-off table turned for reading: outcomes down, options across, so that every
    option fits a screen whatever the number of outcomes.

    The first column, ``outcome``, is ``name(outcome)`` with the way it is better (``rocket
    attacks (fewer is better)``); each cell is ``mean diff [95% CI] mark``, the mark one of
    ``SIGNS`` (binary outcomes in percentage points, ``pp``; a missing comparison left empty),
    with no-break spaces within the interval and before the mark, so that a narrow cell wraps
    only between the mean and its interval.
    """
    cells = decisions.set_index(["scenario", "outcome"])
    options = list(dict.fromkeys(decisions["scenario"]))
    rows = []
    for outcome in outcomes:
        row = [f"{name(outcome)} ({better_words(outcome, better_when(outcome), outcome in binary)})"]
        for option in options:
            if (option, outcome) in cells.index:
                r = cells.loc[(option, outcome)]
                cell = f"{difference_interval(r, outcome in binary)} {SIGNS[r['verdict']]}"
                mean, rest = cell.split(" [", 1)
                row.append(f"{mean} [{rest.replace(' ', NO_BREAK)}")
            else:
                row.append(EMPTY)
        rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", *options])


def difference_interval(r: pd.Series | dict, binary: bool) -> str:
    """``-28.4 [-30.2, -26.7]``: a row's mean difference with its 95% interval (``+5.00 pp
    [+1.00, +9.00]`` for a yes-or-no outcome)."""
    scale, unit = scale_of(binary)
    mean, low, high = (scale * r[c] for c in ("mean_diff", "diff_ci95_low", "diff_ci95_high"))
    return f"{signed(mean)}{unit} [{signed(low)}, {signed(high)}]"


def difference(value: float, binary: bool) -> str:
    """``-28.4`` or, for a yes-or-no outcome, ``+5.00 pp``: a difference with its sign."""
    scale, unit = scale_of(binary)
    return f"{signed(scale * value)}{unit}"


def scale_of(binary: bool) -> tuple[float, str]:
    """The factor and unit of a difference as a report shows it: probabilities in percentage
    points (``pp``), everything else as it is."""
    return (PERCENTAGE_POINTS, " pp") if binary else (1.0, "")


def better_words(outcome: str, better_when: str, binary: bool) -> str:
    """How a reader says which way ``outcome`` is better: ``fewer is better``, ``more is
    better``, ``less likely is better`` (a yes-or-no outcome), ``later is better`` (a day)."""
    lower = better_when == "lower"
    if binary:
        return "less likely is better" if lower else "more likely is better"
    if outcome.endswith("_day"):
        return "earlier is better" if lower else "later is better"
    return "fewer is better" if lower else "more is better"


def period_label(first: date, last: date) -> str:
    """``1 Oct 2020 - 30 Sep 2021``: the days an experiment's outcomes count, both included."""
    return f"{first.day} {first:%b %Y} - {last.day} {last:%b %Y}"


def signed(value: float) -> str:
    """``value`` to three significant digits with its sign (``+0.02``, ``-28.4``, ``0``)."""
    text = fmt(value)
    return text if text in (EMPTY, "0") or text.startswith("-") else "+" + text


def percent(share: float) -> str:
    """A share as a whole percentage (``81%``), or ``<1%`` / ``>99%`` rather than a misleading 0 or 100."""
    if not np.isfinite(share):
        return EMPTY
    share = round(float(share), 9)  # a Wilson bound of 0 or 1 off by a rounding error
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{math.floor(share * 100 + 0.5)}%"  # half up: 0.5% is 1%, not the 0% of round-half-even
