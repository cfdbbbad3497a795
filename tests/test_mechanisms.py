"""The report's section on where the options' effects come from (sim/analysis/mechanisms.py)."""

from __future__ import annotations

import pandas as pd

from sim.analysis.mechanisms import mechanisms_section
from sim.policy.decision import INPUTS


def test_the_section_lists_every_weighed_input_and_the_truces_of_each_scenario():
    runs = pd.DataFrame(
        {"scenario": ["a", "a", "b", "b"], "replication": [0, 1, 0, 1], "truce_days": [0.0, 30.0, 10.0, 20.0]}
    )
    text = mechanisms_section(runs, "a")
    for entry in INPUTS:
        assert f"`{entry.kind.name}`" in text and f"militia.decision.{entry.weight}" in text
    assert "| a (reference) | 0.500 | 15.0 |" in text and "| b | 1.00 | 15.0 |" in text


def test_without_truce_days_the_section_has_no_truce_table():
    text = mechanisms_section(pd.DataFrame({"scenario": ["a"], "replication": [0]}), "a")
    assert "the militias weigh" in text and "replications with a truce" not in text
