"""Which way is better for each outcome: the one place that says so.

Robustness analysis (regret, worst cases, where an option loses) needs to know whether more of
an outcome is better or worse. The rule: fewer is better, except for the outcomes that count
what protects or calms (rockets intercepted, attacks prevented, days of truce, Iraqi
operations against the militias). Swap this module's rule for a declaration on each outcome
when the outcome table carries one.
"""

from __future__ import annotations

HIGHER_IS_BETTER = frozenset({"rockets_intercepted", "attacks_prevented", "truce_days", "iraqi_operations"})


def higher_is_better(outcome: str) -> bool:
    """True if more of ``outcome`` is better (see the module's rule)."""
    return outcome in HIGHER_IS_BETTER


def worse_word(outcome: str) -> str:
    """How a worse value reads: ``"more"`` for an outcome where fewer is better, else ``"fewer"``."""
    return "fewer" if higher_is_better(outcome) else "more"
