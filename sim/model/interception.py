"""A threatening round (rocket or drone) meets the C-RAM battery of the site it flies at.

C-RAM engages only rounds predicted to hit the defended area; it needs a firing solution
(``detection_delay_s``) and a free fire unit before impact (:class:`sim.model.cram.CRamBattery`).
An engagement may scatter stray rounds or intercept debris over the city.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.config.calendar import seconds
from sim.model.cram import Engagement
from sim.model.damage import harm_civilians
from sim.model.records import RecordKind, record_kind
from sim.model.sites import SiteState
from sim.model.world import World

STRAY_ROUND = record_kind("stray_round", "C-RAM stray rounds or intercept debris fell on the city")


def engage_threat(
    world: World,
    site: SiteState,
    attack: str,
    impact_at: float,
    engaged: RecordKind,
    u_stray: float,
    u_stray_harm: float,
) -> Generator[simpy.Event, object, bool]:
    """After the detection delay, try to engage a round that threatens ``site``; record the
    engagement (as ``engaged``) and any stray-round harm. True if it was engaged."""
    env = world.env
    yield env.timeout(min(seconds(world.scenario.cram.detection_delay_s), impact_at - env.now))
    result = yield from site.battery.engage(impact_at, attack)
    if result is not Engagement.ENGAGED:
        return False
    world.ledger.record(engaged, site.name, attack)
    if u_stray < world.scenario.cram.stray_round_prob:
        world.ledger.record(STRAY_ROUND, site.name, attack)
        harm_civilians(
            world, site.name, attack, world.scenario.damage.stray_round_casualties_mean, u_stray_harm, "stray round"
        )
    return True
