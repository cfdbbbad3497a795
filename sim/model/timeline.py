"""Start the world's own behaviours and run it to its horizon.

The model's own behaviours are the sites' calendars and, for every threat kind, its campaign
regimes (processes) and background arrivals (a timer, :class:`sim.model.campaign.Arrivals`).
The actors (:mod:`sim.policy`) start theirs after these.
"""

from __future__ import annotations

from sim.config.calendar import seconds
from sim.model.campaign import Arrivals, campaign_regimes, start_campaign
from sim.model.threats import threats
from sim.model.world import Phase, World


def start(world: World) -> None:
    """Every threat's intensity and per-run state, the site calendars, then the campaigns."""
    for threat in threats():
        start_campaign(world, threat)
        if threat.per_run_state is not None:
            world.threat_state[threat.name] = threat.per_run_state(world)
    world.sites.start_calendars()
    for threat in threats():
        world.campaigns[threat.name] = world.env.process(campaign_regimes(world, threat))
        Arrivals(world, threat)


def run(world: World) -> None:
    """Run to the end of the horizon; then let rounds already in the air land, so every
    launched rocket and drone has a fate, while no new attack starts."""
    horizon = world.calendar.horizon_days
    world.env.run(until=horizon)
    world.phase = Phase.SETTLING
    world.env.run(until=horizon + settling_days(world))


def settling_days(world: World) -> float:
    """Longest time from an attack's start to its last impact, plus one second."""
    longest = max(threat.longest_attack_s(world.scenario) for threat in threats())
    return seconds(longest + world.scenario.cram.detection_delay_s + 1.0)
