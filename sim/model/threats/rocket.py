"""107 mm rocket salvos: size, launches seconds apart, flight, C-RAM engagement and impact."""

from __future__ import annotations

from typing import Generator, NamedTuple

import numpy as np
import simpy

from sim.config.calendar import seconds
from sim.config.scenario import RocketThreat, Scenario
from sim.model.damage import harm_civilians, harm_personnel
from sim.model.draws import pick_weighted
from sim.model.interception import engage_threat
from sim.model.records import Origin, record_kind
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

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "RocketDraws":
        return cls(*rng.random(len(cls._fields)).tolist())


def salvo_size(threat: RocketThreat, escalation: float, rng: np.random.Generator) -> tuple[int, bool]:
    """Rockets in a salvo and whether it is heavy: a heavy salvo (uniform on [min, max]) with
    ``heavy_salvo_prob`` times ``escalation`` (capped at 1), else a harassment salvo from
    ``harassment_size_pmf`` (1, 2, ... rockets)."""
    if rng.random() < min(1.0, threat.heavy_salvo_prob * escalation):
        return int(rng.integers(threat.heavy_salvo_min, threat.heavy_salvo_max + 1)), True
    return pick_weighted(threat.harassment_size_pmf, rng.random()) + 1, False


def rocket_salvo(world: World, attack: str, rng: np.random.Generator, origin: Origin) -> Generator[simpy.Event, None, None]:
    """A salvo against one site: rockets leave the rails ``launch_spacing_s`` apart."""
    threat, env = world.scenario.threats.rocket, world.env
    site = world.sites.choose_target("rocket_weight", rng.random())
    size, heavy = salvo_size(threat, world.severity.heavy_salvo_factor(env.now), rng)
    rockets = [RocketDraws.draw(rng) for _ in range(size)]
    if site is None:
        world.ledger.record(NO_TARGET, None, attack, detail="rocket")
        return
    world.ledger.record(ATTACK, site.name, attack, size, heavy=heavy, origin=origin, generation=world.generation.get(attack),
                        detail="heavy salvo" if heavy else "harassment salvo")  # fmt: skip
    on_alert = site.on_alert(env.now)
    site.attacked(env.now)
    for i, draws in enumerate(rockets):
        if i:
            yield env.timeout(seconds(threat.launch_spacing_s))
        if draws.launch >= (1.0 - threat.launch_failure_prob) * site.launch_success:
            world.ledger.record(LAUNCH_FAILED, site.name, attack)
            continue
        world.ledger.record(LAUNCHED, site.name, attack)
        env.process(rocket_flight(world, site, attack, draws, on_alert, heavy))


def rocket_flight(
    world: World, site: SiteState, attack: str, d: RocketDraws, on_alert: bool, heavy: bool
) -> Generator[simpy.Event, object, None]:
    """One rocket from launch to its end: intercepted, dud, or impact inside or outside.

    C-RAM engages only rounds predicted to hit the defended area. ``on_alert`` tells whether
    the site was already on alert from an earlier attack when the salvo began; an impact of a
    harassment salvo harms ``harassment_casualty_factor`` times what a heavy salvo's does."""
    env, threat, cram = world.env, world.scenario.threats.rocket, world.scenario.cram
    impact_at = env.now + seconds(threat.flight_time_s)
    inside = d.inside < threat.inside_perimeter_prob
    if inside and site.defended and d.engage < cram.engage_prob:
        engaged = yield from engage_threat(world, site, attack, impact_at, ENGAGED, d.stray, d.stray_harm)
        if engaged and d.kill < cram.kill_prob:
            world.ledger.record(INTERCEPTED, site.name, attack)
            return
    yield env.timeout(impact_at - env.now)
    if d.dud < threat.dud_prob:
        world.ledger.record(DUD, site.name, attack)
    elif inside:
        world.ledger.record(IMPACT_INSIDE, site.name, attack)
        lethality = 1.0 if heavy else world.scenario.damage.harassment_casualty_factor
        harm_personnel(world, site, attack, lethality, on_alert, d.killed, d.wounded)
    else:
        world.ledger.record(IMPACT_OUTSIDE, site.name, attack)
        if d.civilians < site.spec.civilian_exposure:
            harm_civilians(world, site.name, attack, world.scenario.damage.civilian_casualties_per_impact, d.civilian_harm, "rocket miss")


def longest_salvo_s(scenario: Scenario) -> float:
    """The largest salvo's launches and the last rocket's flight."""
    rocket = scenario.threats.rocket
    return rocket.heavy_salvo_max * rocket.launch_spacing_s + rocket.flight_time_s


THREAT = Threat(
    name="rocket", section="rocket", attack=rocket_salvo, attack_record=ATTACK, warnable=True, targets_us_sites=True,
    impact_inside=IMPACT_INSIDE, quarterly_series="rocket_drone_attacks", longest_attack_s=longest_salvo_s,
)  # fmt: skip
