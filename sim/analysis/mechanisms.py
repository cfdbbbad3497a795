"""Where an option's effects come from: the militias' decisions (:mod:`sim.policy.decision`) or
the model's fixed factors, and how much truce each option's runs held."""

from __future__ import annotations

import pandas as pd

from sim.analysis.tables import fmt, markdown_table
from sim.policy.decision import FIXED_FACTORS, INPUTS


def mechanisms_section(runs: pd.DataFrame, reference: str) -> str:
    """A report section: what each option does that the militias weigh, the fixed factors, and
    per scenario the share of replications with a truce in the counted period and the mean days
    of truce (when the runs have ``truce_days``)."""
    weighed: dict[str, list[str]] = {}
    for entry in INPUTS:
        weighed.setdefault(f"militia.decision.{entry.weight} ({entry.channel})", []).append(f"`{entry.kind.name}`")
    decided = markdown_table(["the militias weigh", "records of"], [[w, ", ".join(k)] for w, k in weighed.items()])
    fixed = markdown_table(["fixed factor", "set by"], [[what, f"`{by}`"] for what, by in FIXED_FACTORS])
    parts = [
        "## Where the effects come from\n\n"
        "An option acts on the militias in two ways. Through their **decisions**: what it does that "
        "the militias weigh (an ultimatum, strikes, arrests, steps toward withdrawal) moves the value "
        "they set on holding fire, and so the chance of a truce, its length and its end "
        "(`sim/policy/decision.py`, docs/sources.md#decisions). Through **fixed factors**: effects "
        "that follow whatever the militias decide.",
        decided,
        fixed,
    ]
    if "truce_days" in runs.columns:
        rows = []
        for scenario, group in runs.groupby("scenario", sort=False):
            days = group["truce_days"].astype(float)
            name = f"{scenario} (reference)" if scenario == reference else str(scenario)
            rows.append([name, fmt((days > 0).mean()), fmt(days.mean())])
        parts.append(
            "Truces in these runs (counted period): the share of replications with at least one day of "
            "truce, and the mean days of truce. They show how each option changes the militias' "
            "decisions; the fixed factors act on top of them, during truces and between them.\n\n"
            + markdown_table(["scenario", "replications with a truce", "mean truce days"], rows)
        )
    return "\n\n".join(parts)
