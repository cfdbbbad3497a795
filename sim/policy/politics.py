"""Governments' political actions that the militias weigh: talks on the U.S. mission's future,
agreed timetables, steps toward the departure of U.S. forces, restated threats, Iraqi election
milestones and Iranian envoys in Baghdad (docs/sources.md#political-inputs).

They are dated inputs of a replay (``[history]``), carried out here as records of the log that
:class:`~sim.policy.militia.Militia` hears of. Washington's own measures (strikes, the
ultimatum, troop reductions, the embassy's closure, the end of the combat role) and Baghdad's
raids are records of those actors, which the militias hear of the same way.
"""

from __future__ import annotations

from sim.model.records import record_kind
from sim.model.world import World

TALKS = record_kind("talks", "a round of negotiations on the U.S. mission's future")
AGREEMENT = record_kind("agreement", "an agreed timetable for the U.S. mission (count: days to its deadline)")
WITHDRAWAL = record_kind("withdrawal", "a step toward the departure of U.S. forces, announced or taken")
THREAT = record_kind("threat", "a U.S. threat to close the embassy, restated")
ELECTION = record_kind("election", "an Iraqi election milestone (date set, vote, results, ratification)")
IRANIAN_DIRECTION = record_kind("iranian_direction", "Iranian envoys meet Iraqi leaders in Baghdad")


def announce(world: World, kind, reason: str, days: int = 1) -> None:
    """A political action happens now; ``days`` is an agreement's time to its deadline."""
    world.ledger.record(kind, count=days, detail=reason)
