"""Casualties: U.S./coalition inside a perimeter, Iraqi civilians outside it.

Counts are Poisson with a mean that scales with the site's exposure. Draws use inverse
CDFs of uniforms fixed when the round was fired, so that two scenarios that expose the
same impact differently still share its randomness (common random numbers).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.model.records import Kind

if TYPE_CHECKING:
    from sim.model.sites import SiteState
    from sim.model.world import World

_POISSON_MAX = 10_000


def poisson_quantile(mean: float, u: float) -> int:
    """The smallest k with P(Poisson(mean) <= k) >= u (inverse CDF, for small means)."""
    if mean <= 0.0:
        return 0
    term = math.exp(-mean)
    cdf, k = term, 0
    while u > cdf and k < _POISSON_MAX:
        k += 1
        term *= mean / k
        cdf += term
        if term == 0.0 and k > mean:  # the tail below float precision
            break
    return k


def harm_personnel(
    world: "World", site: "SiteState", attack: str | None, lethality: float, on_alert: bool, u_killed: float, u_wounded: float
) -> None:
    """Killed and wounded among U.S./coalition personnel from one impact inside ``site``;
    ``lethality`` scales an impact relative to a 107 mm rocket."""
    exposure = site.exposure(on_alert) * lethality
    spec = world.scenario.damage
    killed = poisson_quantile(spec.us_killed_per_impact * exposure, u_killed)
    wounded = poisson_quantile(spec.us_wounded_per_impact * exposure, u_wounded)
    if killed:
        world.ledger.record(world.env.now, Kind.US_KILLED, site.name, attack, killed)
    if wounded:
        world.ledger.record(world.env.now, Kind.US_WOUNDED, site.name, attack, wounded)


def harm_civilians(world: "World", site: str | None, attack: str | None, mean: float, u: float, cause: str) -> None:
    """Iraqi civilian casualties (killed or wounded) from an impact, stray round or debris."""
    casualties = poisson_quantile(mean, u)
    if casualties:
        world.ledger.record(world.env.now, Kind.CIVILIAN_CASUALTIES, site, attack, casualties, cause)


def harm_from_debris(world: "World", site: "SiteState", attack: str | None, on_alert: bool, u_wounded: float) -> None:
    """Wounded among U.S./coalition personnel from the debris of a downed drone."""
    mean = world.scenario.damage.debris_wounded_mean * site.exposure(on_alert)
    wounded = poisson_quantile(mean, u_wounded)
    if wounded:
        world.ledger.record(world.env.now, Kind.US_WOUNDED, site.name, attack, wounded, "debris")


def harm_from_stray_rounds(world: "World", site: str, attack: str | None, u_incident: float, u_harm: float) -> None:
    """A C-RAM engagement may scatter stray rounds or intercept debris over the city."""
    if u_incident < world.scenario.cram.stray_round_prob:
        world.ledger.record(world.env.now, Kind.STRAY_ROUND, site, attack)
        harm_civilians(world, site, attack, world.scenario.damage.stray_round_casualties_mean, u_harm, "stray round")
