"""Logistics convoys on the roads, outside any C-RAM umbrella, and the IEDs laid for them."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.config.calendar import DAYS_PER_YEAR, hours
from sim.config.scenario import Convoys
from sim.model.draws import binomial_quantile
from sim.model.records import Origin, record_kind
from sim.model.schedule import after
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
        per_day, trip_d = self.per_day, self.trip_d
        first = max(0, math.floor((now - trip_d) * per_day - 0.5))
        last = math.floor(now * per_day - 0.5) + 1
        # departure(k), inlined: (k + 0.5) / per_day
        return [k for k in range(first, last + 1) if (k + 0.5) / per_day <= now < (k + 0.5) / per_day + trip_d]

    def next_convoy(self, now: float) -> int:
        """The first convoy that departs at or after ``now``."""
        convoy = max(0, math.ceil(now * self.per_day - 0.5) - 1)
        while self.departure(convoy) < now:
            convoy += 1
        return convoy


class IedDraws(NamedTuple):
    """What an IED's draws decide, fixed when it is laid (common random numbers)."""

    pick: float  # which convoy on the road
    hit: float  # whether it damages the convoy
    trucks_damaged: int  # if it does
    drivers_hurt: int  # of their drivers


def convoy_attack(world: World, attack: str, rng: np.random.Generator, origin: Origin) -> None:
    """An IED against a convoy in transit, or against the next one if the road is empty.

    The chance of damage grows over the run (passive infrared triggers, EFPs); daisy-chained
    charges can damage several trucks; each damaged truck's driver may be hurt."""
    env, roads = world.env, world.threat_state["convoy"]
    threat, trucks = world.scenario.threats.convoy_ied, world.scenario.convoys.trucks_per_convoy
    u_pick, u_hit, u_trucks, u_drivers = rng.random(4).tolist()
    damaged = 1 + binomial_quantile(trucks - 1, threat.extra_truck_prob, u_trucks)
    draws = IedDraws(u_pick, u_hit, damaged, binomial_quantile(damaged, threat.driver_casualty_prob, u_drivers))
    on_road = roads.on_road(env.now)
    if on_road:
        ied_goes_off(world, attack, on_road[int(u_pick * len(on_road))], draws, origin)
    else:  # the IED waits for the next convoy
        convoy = roads.next_convoy(env.now)
        after(env, max(0.0, roads.departure(convoy) - env.now), ied_waited, world, attack, convoy, draws, origin)


def ied_waited(world: World, attack: str, convoy: int, draws: IedDraws, origin: Origin) -> None:
    """The convoy an IED waited for comes by (nothing happens once the horizon has passed)."""
    if world.phase is Phase.RUNNING:
        ied_goes_off(world, attack, convoy, draws, origin)


def ied_goes_off(world: World, attack: str, convoy: int, draws: IedDraws, origin: Origin) -> None:
    world.ledger.record(
        ATTACK, None, attack, origin=origin, generation=world.generation.get(attack), detail=f"convoy {convoy}"
    )
    if draws.hit >= world.scenario.threats.convoy_ied.hit_prob(world.env.now / DAYS_PER_YEAR):
        return
    world.ledger.record(TRUCKS_DAMAGED, None, attack, draws.trucks_damaged, detail=f"convoy {convoy}")
    if draws.drivers_hurt:
        world.ledger.record(DRIVER_CASUALTIES, None, attack, draws.drivers_hurt, detail=f"convoy {convoy}")


def timetable(world: World) -> Roads:
    return Roads(world.scenario.convoys)


THREAT = Threat(
    name="convoy",
    section="convoy_ied",
    attack=convoy_attack,
    attack_record=ATTACK,
    warnable=False,
    targets_us_sites=False,
    quarterly_series="convoy_attacks",
    per_run_state=timetable,
)
