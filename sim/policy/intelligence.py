"""Intelligence warnings: some rocket and drone attacks are announced before they come.

A warning gives Washington the chance to strike first (if its doctrine pre-empts and the
collateral-damage risk is low enough) and Baghdad the chance to close parts of the
International Zone or act on shared intelligence. A warned attack comes
``warning_lead_h`` after its warning. The warning's uniforms are drawn for every attack,
warned or not, so that policies do not shift the attack's other random numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import numpy as np
import simpy

from sim.config.calendar import hours
from sim.model.records import Kind

if TYPE_CHECKING:
    from sim.model.campaign import AttackKind
    from sim.model.world import World

WARNED_KINDS = ("rocket", "drone")


def approach(world: "World", kind: "AttackKind", attack: str, rng: np.random.Generator, origin: str) -> Generator[simpy.Event, object, None]:
    """An attack on its way: perhaps warned of, perhaps prevented, then carried out."""
    env, spec = world.env, world.scenario.policy.us.preemption
    u_warn, u_risk, u_prevent, u_ops = rng.random(4).tolist()
    if kind in WARNED_KINDS and u_warn < spec.warning_prob:
        world.ledger.record(env.now, Kind.WARNING, None, attack, 1, f"{kind} attack expected")
        prevented = world.washington.on_warning(attack, u_risk, u_prevent)
        world.baghdad.on_warning(attack, world.washington.shares_intelligence(), u_ops)
        yield env.timeout(hours(spec.warning_lead_h))
        if prevented:
            world.ledger.record(env.now, Kind.ATTACK_PREVENTED, None, attack, 1, str(kind))
            return
        if not world.accepting_attacks:
            return
    yield from world.attack_process[kind](world, attack, rng, origin)
