"""One-way attack drones: slower than rockets, more accurate, and dangerous even when downed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator, NamedTuple

import numpy as np
import simpy

from sim.config.calendar import seconds
from sim.model.cram import engage_threat
from sim.model.damage import harm_from_debris, harm_personnel
from sim.model.records import Kind
from sim.model.sites import SiteState, choose_target

if TYPE_CHECKING:
    from sim.model.world import World


class DroneDraws(NamedTuple):
    """Uniforms fixed at launch (common random numbers, as for rockets)."""

    inside: float
    engage: float
    kill: float
    stray: float
    stray_harm: float
    debris: float
    killed: float
    wounded: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "DroneDraws":
        return cls(*rng.random(len(cls._fields)).tolist())


def drone_attack(world: "World", attack: str, rng: np.random.Generator, origin: str) -> Generator[simpy.Event, None, None]:
    """One attack: ``drones_per_attack`` drones launched together at one site."""
    threat, env = world.scenario.threats.drone, world.env
    site = choose_target(world.site_list, "drone_weight", rng.random())
    drones = [DroneDraws.draw(rng) for _ in range(threat.drones_per_attack)]
    if site is None:
        world.ledger.record(env.now, Kind.NO_TARGET, None, attack, 1, "drone")
        return
    world.ledger.record(env.now, Kind.ATTACK_DRONE, site.name, attack, len(drones), origin)
    on_alert = site.on_alert(env.now)
    site.attacked(env.now)
    for draws in drones:
        world.ledger.record(env.now, Kind.DRONE_LAUNCHED, site.name, attack)
        env.process(drone_flight(world, site, attack, draws, on_alert))
    yield env.timeout(0)


def drone_flight(
    world: "World", site: SiteState, attack: str, d: DroneDraws, on_alert: bool
) -> Generator[simpy.Event, object, None]:
    """One drone: engaged if it threatens a defended site; downed drones may still harm."""
    env, threat, cram = world.env, world.scenario.threats.drone, world.scenario.cram
    lethality = world.scenario.damage.drone_lethality_factor
    impact_at = env.now + seconds(threat.flight_time_s)
    inside = d.inside < threat.inside_perimeter_prob
    if inside and site.defended and d.engage < cram.drone_engage_prob:
        engaged = yield from engage_threat(world, site, attack, impact_at, Kind.DRONE_ENGAGED, d.stray, d.stray_harm)
        if engaged and d.kill < cram.drone_kill_prob:
            world.ledger.record(env.now, Kind.DRONE_DOWNED, site.name, attack)
            if d.debris < cram.drone_debris_harm_prob:
                world.ledger.record(env.now, Kind.DEBRIS_HARM, site.name, attack)
                harm_from_debris(world, site, attack, on_alert, d.wounded)
            return
    yield env.timeout(impact_at - env.now)
    kind = Kind.DRONE_IMPACT_INSIDE if inside else Kind.DRONE_IMPACT_OUTSIDE
    world.ledger.record(env.now, kind, site.name, attack)
    if inside:
        harm_personnel(world, site, attack, lethality, on_alert, d.killed, d.wounded)
