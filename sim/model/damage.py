"""Casualties: U.S./coalition inside a perimeter, Iraqi civilians outside it.

Counts are Poisson with a mean that scales with the site's exposure. Draws use inverse
CDFs of uniforms fixed when the round was fired, so that two scenarios that expose the
same impact differently still share its randomness (common random numbers).
"""

from __future__ import annotations

from sim.model.draws import poisson_quantile
from sim.model.records import record_kind
from sim.model.sites import SiteState
from sim.model.world import World

US_KILLED = record_kind("us_killed", "U.S./coalition personnel killed; count = people")
US_WOUNDED = record_kind("us_wounded", "U.S./coalition personnel wounded; count = people")
US_FATAL_ATTACK = record_kind(
    "us_fatal_attack", "an attack killed U.S./coalition personnel (written at its first death)"
)
CIVILIAN_CASUALTIES = record_kind(
    "civilian_casualties", "Iraqi civilians killed or wounded; count = people (detail: cause)"
)


def harm_personnel(
    world: World,
    site: SiteState,
    attack: str | None,
    lethality: float,
    on_alert: bool,
    u_killed: float,
    u_wounded: float,
) -> None:
    """Killed and wounded among U.S./coalition personnel from one impact inside ``site``;
    ``lethality`` scales an impact relative to a 107 mm rocket."""
    exposure = site.exposure(on_alert) * lethality
    spec = world.scenario.damage
    killed = poisson_quantile(spec.us_killed_per_impact * exposure, u_killed)
    wounded = poisson_quantile(spec.us_wounded_per_impact * exposure, u_wounded)
    if killed:
        if attack is not None and attack not in world.fatal_attacks:
            world.fatal_attacks.add(attack)
            world.ledger.record(US_FATAL_ATTACK, site.name, attack)
        world.ledger.record(US_KILLED, site.name, attack, killed)
    if wounded:
        world.ledger.record(US_WOUNDED, site.name, attack, wounded)


def harm_wounded(world: World, site: SiteState, attack: str | None, mean: float, u_wounded: float, cause: str) -> None:
    """Wounded among U.S./coalition personnel, Poisson with ``mean`` (debris, for instance)."""
    wounded = poisson_quantile(mean, u_wounded)
    if wounded:
        world.ledger.record(US_WOUNDED, site.name, attack, wounded, detail=cause)


def harm_civilians(world: World, site: str | None, attack: str | None, mean: float, u: float, cause: str) -> None:
    """Iraqi civilian casualties (killed or wounded) from an impact, stray round, debris or strike."""
    casualties = poisson_quantile(mean, u)
    if casualties:
        world.ledger.record(CIVILIAN_CASUALTIES, site, attack, casualties, detail=cause)
