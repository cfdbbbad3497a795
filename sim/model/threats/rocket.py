"""107 mm rocket salvos: size, launches seconds apart, flight, C-RAM engagement and impact."""

from __future__ import annotations

from collections.abc import Generator
from typing import NamedTuple

import numpy as np
import simpy

from sim.config.calendar import seconds
from sim.config.scenario import RocketThreat, Scenario
from sim.model.damage import harm_civilians, harm_personnel
from sim.model.draws import pick_weighted
from sim.model.interception import engage_threat
from sim.model.records import Origin, record_kind
from sim.model.schedule import Later
from sim.model.sites import NO_TARGET, SiteState
from sim.model.threats import Threat
from sim.model.world import World

ATTACK = record_kind("attack_rocket", "a rocket salvo is fired at a site; count = rockets, heavy = salvo class")
LAUNCH_FAILED = record_kind("rocket_launch_failed", "a rocket did not leave its rail")
LAUNCHED = record_kind("rocket_launched", "a rocket is in the air")
ENGAGED = record_kind("rocket_engaged", "C-RAM fired at a rocket")
INTERCEPTED = record_kind("rocket_intercepted", "C-RAM destroyed a rocket")
DUD = record_kind("rocket_dud", "a rocket landed without exploding")
IMPACT_INSIDE = record_kind("rocket_impact_inside", "a rocket exploded inside the site's perimeter")
IMPACT_OUTSIDE = record_kind("rocket_impact_outside", "a rocket exploded outside the perimeter")


class RocketDraws(NamedTuple):
    """Uniforms fixed when a rocket is fired: its fate is then the same in any scenario
    that treats it the same way (common random numbers)."""

    launch: float
    inside: float
    dud: float
    engage: float
    kill: float
    stray: float
    stray_harm: float
    killed: float
    wounded: float
    civilians: float
    civilian_harm: float


_ROCKET_UNIFORMS = len(RocketDraws._fields)
_new_draws = tuple.__new__  # RocketDraws from a row of uniforms, without NamedTuple's argument handling


def salvo_size(threat: RocketThreat, escalation: float, u_class: float, u_size: float) -> tuple[int, bool]:
    """Rockets in a salvo and whether it is heavy, by inverse CDF: a heavy salvo (uniform on
    [min, max]) if ``u_class`` < ``heavy_salvo_prob`` times ``escalation`` (capped at 1), else
    a harassment salvo from ``harassment_size_pmf`` (1, 2, ... rockets: one plus a negative
    binomial count, see :func:`sim.config.scenario.salvo_size_pmf`)."""
    if u_class < min(1.0, threat.heavy_salvo_prob * escalation):
        sizes = threat.heavy_salvo_max - threat.heavy_salvo_min + 1
        return threat.heavy_salvo_min + min(int(u_size * sizes), sizes - 1), True
    return pick_weighted(threat.harassment_size_pmf, u_size) + 1, False


def rocket_salvo(world: World, attack: str, rng: np.random.Generator, origin: Origin) -> None:
    """A salvo against one site: the first rocket leaves its rail at once, the others
    ``launch_spacing_s`` apart (each launch is scheduled now, so the salvo needs no process)."""
    threat, env = world.scenario.threats.rocket, world.env
    u_site, u_class, u_size = rng.random(3).tolist()
    site = world.sites.choose_target("rocket_weight", u_site)
    size, heavy = salvo_size(threat, world.severity.heavy_salvo_factor(env.now), u_class, u_size)
    rockets = [_new_draws(RocketDraws, row) for row in rng.random((size, _ROCKET_UNIFORMS)).tolist()]
    if site is None:
        world.ledger.record(NO_TARGET, None, attack, detail="rocket")
        return
    world.ledger.record(
        ATTACK,
        site.name,
        attack,
        size,
        heavy=heavy,
        origin=origin,
        generation=world.generation.get(attack),
        detail="heavy salvo" if heavy else "harassment salvo",
    )
    on_alert = site.on_alert(env.now)
    site.attacked(env.now)
    launch_rocket(world, site, attack, rockets[0], on_alert, heavy)
    spacing_d = seconds(threat.launch_spacing_s)
    for i in range(1, size):
        Later(env, i * spacing_d, launch_rocket, (world, site, attack, rockets[i], on_alert, heavy))


def launch_rocket(world: World, site: SiteState, attack: str, d: RocketDraws, on_alert: bool, heavy: bool) -> None:
    """One rocket leaves its rail, or fails to; a rocket in the air flies to its end.

    C-RAM engages only rounds predicted to hit the defended area: such a rocket's flight is a
    process (it waits for a fire unit); any other lands when its flight time is up."""
    scenario, record = world.scenario, world.ledger.record
    threat = scenario.threats.rocket
    if d.launch >= (1.0 - threat.launch_failure_prob) * site.launch_success:
        record(LAUNCH_FAILED, site.name, attack)
        return
    record(LAUNCHED, site.name, attack)
    inside = d.inside < threat.inside_perimeter_prob
    if inside and site.defended and d.engage < scenario.cram.engage_prob:
        world.env.process(engaged_flight(world, site, attack, d, on_alert, heavy))
    else:
        Later(world.env, seconds(threat.flight_time_s), rocket_lands, (world, site, attack, d, inside, on_alert, heavy))


def engaged_flight(
    world: World, site: SiteState, attack: str, d: RocketDraws, on_alert: bool, heavy: bool
) -> Generator[simpy.Event, object, None]:
    """A rocket C-RAM engages, from launch to its end: intercepted, or on to its impact."""
    env = world.env
    impact_at = env.now + seconds(world.scenario.threats.rocket.flight_time_s)
    engaged = yield from engage_threat(world, site, attack, impact_at, ENGAGED, d.stray, d.stray_harm)
    if engaged and d.kill < world.scenario.cram.kill_prob:
        world.ledger.record(INTERCEPTED, site.name, attack)
        return
    yield env.timeout(impact_at - env.now)
    rocket_lands(world, site, attack, d, True, on_alert, heavy)


def rocket_lands(
    world: World, site: SiteState, attack: str, d: RocketDraws, inside: bool, on_alert: bool, heavy: bool
) -> None:
    """A dud, or an impact inside or outside the perimeter. ``on_alert`` tells whether the
    site was already on alert from an earlier attack when the salvo began; an impact of a
    harassment salvo harms ``harassment_casualty_factor`` times what a heavy salvo's does."""
    if d.dud < world.scenario.threats.rocket.dud_prob:
        world.ledger.record(DUD, site.name, attack)
    elif inside:
        world.ledger.record(IMPACT_INSIDE, site.name, attack)
        lethality = 1.0 if heavy else world.scenario.damage.harassment_casualty_factor
        harm_personnel(world, site, attack, lethality, on_alert, d.killed, d.wounded)
    else:
        world.ledger.record(IMPACT_OUTSIDE, site.name, attack)
        if d.civilians < site.spec.civilian_exposure:
            harm_civilians(
                world,
                site.name,
                attack,
                world.scenario.damage.civilian_casualties_per_impact,
                d.civilian_harm,
                "rocket miss",
            )


def longest_salvo_s(scenario: Scenario) -> float:
    """The largest salvo's launches and the last rocket's flight."""
    rocket = scenario.threats.rocket
    return rocket.heavy_salvo_max * rocket.launch_spacing_s + rocket.flight_time_s


THREAT = Threat(
    name="rocket",
    section="rocket",
    attack=rocket_salvo,
    attack_record=ATTACK,
    warnable=True,
    targets_us_sites=True,
    impact_inside=IMPACT_INSIDE,
    quarterly_series="rocket_drone_attacks",
    longest_attack_s=longest_salvo_s,
)
