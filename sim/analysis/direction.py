"""Which way is better for an outcome, as robustness analysis reads it.

Regret, worst cases and where an option loses need to know whether more of an outcome is better
or worse; every outcome declares it once, with its column (``better`` in
:mod:`sim.replication.outcomes`). This module only words it for the analysis.
"""

from __future__ import annotations

from sim.replication.outcomes import better_direction


def higher_is_better(outcome: str) -> bool:
    """True if more of ``outcome`` is better (its declared direction)."""
    return better_direction(outcome) == "higher"


def worse_word(outcome: str) -> str:
    """How a worse value reads: ``"more"`` for an outcome where fewer is better, else ``"fewer"``."""
    return "fewer" if higher_is_better(outcome) else "more"
