"""How precise an experiment's paired differences are, against the half-widths asked of them.

Reads a comparison table (:func:`sim.analysis.compare.paired_differences`); the decision to
run more replications is taken by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from sim.analysis.tables import fmt, markdown_table

COLUMNS = ["scenario", "outcome", "n_pairs", "half_width", "target", "reached"]


def half_widths(comparison: pd.DataFrame, targets: Mapping[str, float]) -> pd.DataFrame:
    """Per scenario and outcome of ``targets``: the half-width of the 95% interval of its paired
    difference, the target half-width, and whether it is reached (an interval that cannot be
    computed, from fewer than two pairs, is not)."""
    rows = comparison[comparison["outcome"].isin(list(targets))]
    table = pd.DataFrame(
        {
            "scenario": rows["scenario"].to_numpy(),
            "outcome": rows["outcome"].to_numpy(),
            "n_pairs": rows["n_pairs"].to_numpy(),
            "half_width": ((rows["diff_ci95_high"] - rows["diff_ci95_low"]) / 2).to_numpy(dtype=float),
            "target": rows["outcome"].map(dict(targets)).to_numpy(dtype=float),
        }
    )
    table["reached"] = table["half_width"] <= table["target"]  # NaN compares False
    return table[COLUMNS]


def precision_records(table: pd.DataFrame) -> list[dict]:
    """:func:`half_widths` as plain records for a manifest (None for an interval not computed)."""
    return [
        {
            "scenario": str(r.scenario),
            "outcome": str(r.outcome),
            "n_pairs": int(r.n_pairs),
            "half_width": None if pd.isna(r.half_width) else float(r.half_width),
            "target": float(r.target),
            "reached": bool(r.reached),
        }
        for r in table.itertuples()
    ]


def describe(record: Mapping) -> str:
    """One line on what a precision run did (``record``: the manifest's ``precision``)."""
    stages = " -> ".join(str(n) for n in record["stages"])
    if record["budget_exhausted"]:
        ending = f"the budget of {record['max_replications']} ran out before every half-width was reached"
    else:
        ending = "every half-width reached"
    return f"replications by precision: {record['replications']} per scenario (stages {stages}); {ending}"


def precision_section(record: Mapping) -> str:
    """The report's section on a precision run: the count used and the half-widths reached."""
    rows = [
        [r["scenario"], r["outcome"], fmt(r["half_width"]), fmt(r["target"]), "yes" if r["reached"] else "no"]
        for r in record["half_widths"]
    ]
    return (
        "## Replications by precision\n\n"
        f"{describe(record)[0].upper()}{describe(record)[1:]}. The replications doubled from the experiment's count "
        "until the 95% interval of every paired difference of the outcomes below was no wider than twice the "
        "half-width asked (absolute, in the outcome's unit), or the budget ran out.\n\n"
        + markdown_table(["scenario", "outcome", "half-width reached", "half-width asked", "reached"], rows)
    )
