"""One-way attack drones: slower than rockets, more accurate, and dangerous even when downed."""

from __future__ import annotations

from collections.abc import Generator
from typing import NamedTuple

import numpy as np
import simpy

from sim.config.calendar import seconds
from sim.config.scenario import Scenario
from sim.model.damage import harm_personnel, harm_wounded
from sim.model.interception import engage_threat
from sim.model.records import Origin, record_kind
from sim.model.schedule import after
from sim.model.sites import NO_TARGET, SiteState
from sim.model.threats import Threat
from sim.model.world import World

ATTACK = record_kind("attack_drone", "drones are launched together at a site; count = drones")
LAUNCHED = record_kind("drone_launched", "a drone is in the air")
ENGAGED = record_kind("drone_engaged", "C-RAM fired at a drone")
DOWNED = record_kind("drone_downed", "C-RAM brought a drone down")
IMPACT_INSIDE = record_kind("drone_impact_inside", "a drone exploded inside the site's perimeter")
IMPACT_OUTSIDE = record_kind("drone_impact_outside", "a drone exploded outside the perimeter")
DEBRIS_HARM = record_kind("debris_harm", "a downed drone's debris caused harm")


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


def drone_attack(world: World, attack: str, rng: np.random.Generator, origin: Origin) -> None:
    """One attack: ``drones_per_attack`` drones launched together at one site.

    C-RAM engages only drones that threaten a defended site: such a drone's flight is a
    process (it waits for a fire unit); any other lands when its flight time is up."""
    threat, env, cram = world.scenario.threats.drone, world.env, world.scenario.cram
    site = world.sites.choose_target("drone_weight", rng.random())
    drones = [DroneDraws(*row) for row in rng.random((threat.drones_per_attack, len(DroneDraws._fields))).tolist()]
    if site is None:
        world.ledger.record(NO_TARGET, None, attack, detail="drone")
        return
    world.ledger.record(ATTACK, site.name, attack, len(drones), origin=origin, generation=world.generation.get(attack))
    on_alert = site.on_alert(env.now)
    site.attacked(env.now)
    for draws in drones:
        world.ledger.record(LAUNCHED, site.name, attack)
        inside = draws.inside < threat.inside_perimeter_prob
        if inside and site.defended and draws.engage < cram.drone_engage_prob:
            env.process(engaged_drone(world, site, attack, draws, on_alert))
        else:
            after(env, seconds(threat.flight_time_s), drone_lands, world, site, attack, draws, inside, on_alert)


def engaged_drone(
    world: World, site: SiteState, attack: str, d: DroneDraws, on_alert: bool
) -> Generator[simpy.Event, object, None]:
    """A drone C-RAM engages: downed (its debris may still harm), or on to its impact."""
    env, cram, damage = world.env, world.scenario.cram, world.scenario.damage
    impact_at = env.now + seconds(world.scenario.threats.drone.flight_time_s)
    engaged = yield from engage_threat(world, site, attack, impact_at, ENGAGED, d.stray, d.stray_harm)
    if engaged and d.kill < cram.drone_kill_prob:
        world.ledger.record(DOWNED, site.name, attack)
        if d.debris < cram.drone_debris_harm_prob:
            world.ledger.record(DEBRIS_HARM, site.name, attack)
            harm_wounded(world, site, attack, damage.debris_wounded_mean * site.exposure(on_alert), d.wounded, "debris")
        return
    yield env.timeout(impact_at - env.now)
    drone_lands(world, site, attack, d, True, on_alert)


def drone_lands(world: World, site: SiteState, attack: str, d: DroneDraws, inside: bool, on_alert: bool) -> None:
    """An impact inside or outside the perimeter."""
    world.ledger.record(IMPACT_INSIDE if inside else IMPACT_OUTSIDE, site.name, attack)
    if inside:
        harm_personnel(world, site, attack, world.scenario.damage.drone_lethality_factor, on_alert, d.killed, d.wounded)


def flight_s(scenario: Scenario) -> float:
    return scenario.threats.drone.flight_time_s


THREAT = Threat(
    name="drone",
    section="drone",
    attack=drone_attack,
    attack_record=ATTACK,
    warnable=True,
    targets_us_sites=True,
    impact_inside=IMPACT_INSIDE,
    quarterly_series="rocket_drone_attacks",
    longest_attack_s=flight_s,
)
