"""Logistics convoys on the roads, outside any C-RAM umbrella, and the IEDs laid for them."""

from __future__ import annotations

import math
from typing import Generator

import numpy as np
import simpy

from sim.config.calendar import DAYS_PER_YEAR, hours
from sim.config.scenario import Convoys
from sim.model.records import Origin, record_kind
from sim.model.threats import Threat
from sim.model.world import Phase, World

ATTACK = record_kind("attack_convoy", "an IED goes off against a convoy on the road (detail: which convoy)")
TRUCKS_DAMAGED = record_kind("trucks_damaged", "trucks of a convoy damaged; count = trucks")
DRIVER_CASUALTIES = record_kind("driver_casualties", "Iraqi convoy drivers killed or wounded; count = people")


class Roads:
    """The convoy timetable: convoy k departs at ``(k + 1/2) / departures_per_day`` days
    and is on the road for ``trip_duration_h``.

    Nothing happens to a convoy between departure and arrival except the attacks that look
    it up, so the timetable is computed rather than run as processes (which would be three
    quarters of all events of a replication).
    """

    def __init__(self, spec: Convoys) -> None:
        self.per_day = spec.departures_per_day
        self.trip_d = hours(spec.trip_duration_h)

    def departure(self, convoy: int) -> float:
        return (convoy + 0.5) / self.per_day

    def on_road(self, now: float) -> list[int]:
        """Convoys that have departed and not yet arrived at time ``now``."""
        # a candidate range one wider on each side, then the exact test (no rounding doubts)
        first = max(0, math.floor((now - self.trip_d) * self.per_day - 0.5))
        last = math.floor(now * self.per_day - 0.5) + 1
        return [k for k in range(first, last + 1) if self.departure(k) <= now < self.departure(k) + self.trip_d]

    def next_convoy(self, now: float) -> int:
        """The first convoy that departs at or after ``now``."""
        convoy = max(0, math.ceil(now * self.per_day - 0.5) - 1)
        while self.departure(convoy) < now:
            convoy += 1
        return convoy


def convoy_attack(world: World, attack: str, rng: np.random.Generator, origin: Origin) -> Generator[simpy.Event, object, None]:
    """An IED against a convoy in transit (waiting for the next one if the road is empty).

    The chance of damage grows over the run (passive infrared triggers, EFPs); daisy-chained
    charges can damage several trucks; each damaged truck's driver may be hurt."""
    env, roads = world.env, world.threat_state["convoy"]
    threat, trucks = world.scenario.threats.convoy_ied, world.scenario.convoys.trucks_per_convoy
    u_pick, u_hit = rng.random(2).tolist()
    on_road = roads.on_road(env.now)
    if on_road:
        convoy = on_road[int(u_pick * len(on_road))]
    else:  # the IED waits for the next convoy
        convoy = roads.next_convoy(env.now)
        yield env.timeout(max(0.0, roads.departure(convoy) - env.now))
        if world.phase is not Phase.RUNNING:
            return
    world.ledger.record(ATTACK, None, attack, origin=origin, generation=world.generation.get(attack), detail=f"convoy {convoy}")
    if u_hit >= threat.hit_prob(env.now / DAYS_PER_YEAR):
        return
    damaged = 1 + int(rng.binomial(trucks - 1, threat.extra_truck_prob))
    world.ledger.record(TRUCKS_DAMAGED, None, attack, damaged, detail=f"convoy {convoy}")
    drivers = int(rng.binomial(damaged, threat.driver_casualty_prob))
    if drivers:
        world.ledger.record(DRIVER_CASUALTIES, None, attack, drivers, detail=f"convoy {convoy}")


def timetable(world: World) -> Roads:
    return Roads(world.scenario.convoys)


THREAT = Threat(
    name="convoy", section="convoy_ied", attack=convoy_attack, attack_record=ATTACK, warnable=False,
    targets_us_sites=False, quarterly_series="convoy_attacks", per_run_state=timetable,
)  # fmt: skip
