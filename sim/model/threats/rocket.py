"""Rocket salvos: size, launches seconds apart, flight, C-RAM engagement and impact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator, NamedTuple

import numpy as np
import simpy

from sim.config.calendar import seconds
from sim.model.cram import engage_threat
from sim.model.damage import harm_civilians, harm_personnel
from sim.model.records import Kind
from sim.config.scenario import RocketThreat
from sim.model.sites import SiteState, choose_target

if TYPE_CHECKING:
    from sim.model.world import World


HEAVY = "heavy salvo"
HARASSMENT = "harassment salvo"


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
    """Rockets in a salvo: a heavy salvo (uniform on [min, max]) with ``heavy_salvo_prob``
    times ``escalation`` (capped at 1), else a harassment salvo from
    ``harassment_size_pmf`` (1, 2, ... rockets)."""
    if rng.random() < min(1.0, threat.heavy_salvo_prob * escalation):
        return int(rng.integers(threat.heavy_salvo_min, threat.heavy_salvo_max + 1)), True
    pmf = np.asarray(threat.harassment_size_pmf)
    return int(np.searchsorted(np.cumsum(pmf), rng.random() * pmf.sum(), side="right")) + 1, False


def rocket_salvo(world: "World", attack: str, rng: np.random.Generator, origin: str) -> Generator[simpy.Event, None, None]:
    """A salvo against one site: rockets leave the rails ``launch_spacing_s`` apart."""
    threat, env = world.scenario.threats.rocket, world.env
    site = choose_target(world.site_list, "rocket_weight", rng.random())
    size, heavy = salvo_size(threat, world.militia.heavy_salvo_factor(env.now), rng)
    rockets = [RocketDraws.draw(rng) for _ in range(size)]
    if site is None:
        world.ledger.record(env.now, Kind.NO_TARGET, None, attack, 1, "rocket")
        return
    world.ledger.record(env.now, Kind.ATTACK_ROCKET, site.name, attack, size, f"{HEAVY if heavy else HARASSMENT} ({origin})")
    on_alert = site.on_alert(env.now)
    site.attacked(env.now)
    for i, draws in enumerate(rockets):
        if i:
            yield env.timeout(seconds(threat.launch_spacing_s))
        if draws.launch >= (1.0 - threat.launch_failure_prob) * site.launch_success:
            world.ledger.record(env.now, Kind.ROCKET_LAUNCH_FAILED, site.name, attack)
            continue
        world.ledger.record(env.now, Kind.ROCKET_LAUNCHED, site.name, attack)
        env.process(rocket_flight(world, site, attack, draws, on_alert))


def rocket_flight(
    world: "World", site: SiteState, attack: str, d: RocketDraws, on_alert: bool
) -> Generator[simpy.Event, object, None]:
    """One rocket from launch to its end: intercepted, dud, or impact inside or outside.

    C-RAM engages only rounds predicted to hit the defended area (DOMAIN.md). ``on_alert``
    tells whether the site was already on alert from an earlier attack when the salvo began."""
    env, threat, cram = world.env, world.scenario.threats.rocket, world.scenario.cram
    impact_at = env.now + seconds(threat.flight_time_s)
    inside = d.inside < threat.inside_perimeter_prob
    if inside and site.defended and d.engage < cram.engage_prob:
        engaged = yield from engage_threat(world, site, attack, impact_at, Kind.ROCKET_ENGAGED, d.stray, d.stray_harm)
        if engaged and d.kill < cram.kill_prob:
            world.ledger.record(env.now, Kind.ROCKET_INTERCEPTED, site.name, attack)
            return
    yield env.timeout(impact_at - env.now)
    if d.dud < threat.dud_prob:
        world.ledger.record(env.now, Kind.ROCKET_DUD, site.name, attack)
    elif inside:
        world.ledger.record(env.now, Kind.ROCKET_IMPACT_INSIDE, site.name, attack)
        harm_personnel(world, site, attack, 1.0, on_alert, d.killed, d.wounded)
    else:
        world.ledger.record(env.now, Kind.ROCKET_IMPACT_OUTSIDE, site.name, attack)
        if d.civilians < site.spec.civilian_exposure:
            harm_civilians(world, site.name, attack, world.scenario.damage.civilian_casualties_per_impact, d.civilian_harm, "rocket miss")
