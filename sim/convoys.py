"""Logistics convoys on the roads, outside any C-RAM umbrella, and the IEDs laid for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import numpy as np
import simpy

from .calendar import DAYS_PER_YEAR, hours
from .records import Kind
from .signals import Broadcast

if TYPE_CHECKING:
    from .world import World


class Roads:
    """Which convoys are in transit now, and a signal each time one departs."""

    def __init__(self, env: simpy.Environment) -> None:
        self.in_transit: list[int] = []
        self.departed = Broadcast(env)
        self.trips = 0


def convoy_schedule(world: "World") -> Generator[simpy.Event, None, None]:
    """Dispatch convoys at a fixed interval, the first half an interval after the start."""
    interval = 1.0 / world.scenario.convoys.departures_per_day
    yield world.env.timeout(interval / 2)
    while True:
        world.env.process(convoy_trip(world, world.roads.trips))
        world.roads.trips += 1
        yield world.env.timeout(interval)


def convoy_trip(world: "World", convoy: int) -> Generator[simpy.Event, None, None]:
    """One convoy on the road for ``trip_duration_h``."""
    roads = world.roads
    roads.in_transit.append(convoy)
    roads.departed.publish(convoy)
    yield world.env.timeout(hours(world.scenario.convoys.trip_duration_h))
    roads.in_transit.remove(convoy)


def convoy_attack(world: "World", attack: str, rng: np.random.Generator, origin: str) -> Generator[simpy.Event, object, None]:
    """An IED against a convoy in transit (waiting for the next one if the road is empty).

    The chance of damage grows over the run (passive infrared triggers, EFPs); daisy-chained
    charges can damage several trucks; each damaged truck's driver may be hurt."""
    env, roads = world.env, world.roads
    threat, trucks = world.scenario.threats.convoy_ied, world.scenario.convoys.trucks_per_convoy
    u_pick, u_hit = rng.random(2).tolist()
    while not roads.in_transit:
        yield roads.departed.wait()
    if not world.accepting_attacks:
        return
    convoy = roads.in_transit[int(u_pick * len(roads.in_transit))]
    world.ledger.record(env.now, Kind.ATTACK_CONVOY, None, attack, 1, f"convoy {convoy} ({origin})")
    if u_hit >= threat.hit_prob(env.now / DAYS_PER_YEAR):
        return
    damaged = 1 + int(rng.binomial(trucks - 1, threat.extra_truck_prob))
    world.ledger.record(env.now, Kind.TRUCKS_DAMAGED, None, attack, damaged, f"convoy {convoy}")
    drivers = int(rng.binomial(damaged, threat.driver_casualty_prob))
    if drivers:
        world.ledger.record(env.now, Kind.DRIVER_CASUALTIES, None, attack, drivers, f"convoy {convoy}")


def security_detail_attack(
    world: "World", attack: str, rng: np.random.Generator, origin: str
) -> Generator[simpy.Event, None, None]:
    """An IED against a foreign security detail on the road."""
    env = world.env
    world.ledger.record(env.now, Kind.ATTACK_SECURITY_DETAIL, None, attack, 1, origin)
    casualties = int(rng.poisson(world.scenario.threats.security_detail_ied.casualties_mean))
    if casualties:
        world.ledger.record(env.now, Kind.SECURITY_DETAIL_CASUALTIES, None, attack, casualties)
    yield env.timeout(0)
