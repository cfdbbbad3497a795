"""Roadside bombs against foreign diplomatic or contractor security details on the road."""

from __future__ import annotations

import numpy as np

from sim.model.draws import poisson_quantile
from sim.model.records import Origin, record_kind
from sim.model.threats import Threat
from sim.model.world import World

ATTACK = record_kind("attack_security_detail", "an IED goes off against a foreign security detail")
CASUALTIES = record_kind("security_detail_casualties", "members of a security detail killed or wounded; count = people")


def security_detail_attack(world: World, attack: str, rng: np.random.Generator, origin: Origin) -> None:
    """An IED against a foreign security detail on the road."""
    world.ledger.record(ATTACK, None, attack, origin=origin, generation=world.generation.get(attack))
    casualties = poisson_quantile(world.scenario.threats.security_detail_ied.casualties_mean, rng.random())
    if casualties:
        world.ledger.record(CASUALTIES, None, attack, casualties)


THREAT = Threat(
    name="security_detail",
    section="security_detail_ied",
    attack=security_detail_attack,
    attack_record=ATTACK,
    warnable=False,
    targets_us_sites=False,
)
