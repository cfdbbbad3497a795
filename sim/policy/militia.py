"""The militias' reactions: lost and recovered capacity, revenge, truces, tactic shifts
and escalation of severity.

Capacity is a set of named multiplicative factors on every attack kind's intensity (see
:class:`~sim.campaign.Intensity`): a strike, a raid, sanctions or an Iraqi operation each
set one, and its expiry clears it. Revenge and backlash are extra attacks at exponential
delays, the same cluster form as self-excitation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Generator

import numpy as np
import simpy

from sim.config.calendar import DAYS_PER_YEAR
from sim.model.campaign import AttackKind, launch_attack
from sim.model.records import Kind, Record

if TYPE_CHECKING:
    from sim.model.world import World

TACTIC_STEP_DAYS = 7.0  # how often the drone share is updated


class Militia:
    """Kataib Hezbollah, Asaib Ahl al-Haq and their fronts, seen as one actor."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self.spec = world.scenario.militia
        self._cuts = 0
        self.boosted_until = -math.inf
        self.in_truce = False

    def cut_capacity(self, source: str, loss: float, days: float) -> str:
        """Lower every attack kind's intensity by the fraction ``loss`` for ``days``;
        return the factor's name, so that it can be lifted early (e.g. on release)."""
        name = f"{source}-{self._cuts}"
        self._cuts += 1
        for intensity in self.world.intensity.values():
            intensity.set_factor(name, 1.0 - loss)
        self.world.ledger.record(self.world.env.now, Kind.DEGRADED, None, None, 1, f"{source}: -{loss:.0%} for {days:g} d")
        self.world.env.process(self._recover(name, days))
        return name

    def _recover(self, name: str, days: float) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(days)
        self.lift(name)

    def lift(self, name: str) -> None:
        for intensity in self.world.intensity.values():
            intensity.clear_factor(name)

    def set_standing_factor(self, name: str, factor: float, kinds: tuple[AttackKind, ...] = tuple(AttackKind)) -> None:
        """A lasting factor that is updated rather than expiring (sanctions, tactics)."""
        for kind in kinds:
            self.world.intensity[kind].set_factor(name, factor)

    def extra_attacks(self, count: int, mean_delay_d: float, generation: int, rng: np.random.Generator, origin: str) -> None:
        """Schedule ``count`` rocket or drone attacks (in proportion to their current
        intensities) at exponential delays: revenge for a strike, or backlash."""
        for delay, u_kind in zip(rng.exponential(mean_delay_d, count), rng.random(count)):
            self.world.env.process(self._attack_later(float(delay), float(u_kind), generation, origin))

    def _attack_later(self, delay_d: float, u_kind: float, generation: int, origin: str) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(delay_d)
        rocket = self.world.intensity[AttackKind.ROCKET].rate_per_day
        drone = self.world.intensity[AttackKind.DRONE].rate_per_day
        kind = AttackKind.DRONE if rocket + drone > 0 and u_kind < drone / (rocket + drone) else AttackKind.ROCKET
        launch_attack(self.world, kind, origin, generation)

    def truce(self, days: float, intensity_factor: float) -> None:
        """A declared truce: attacks fall to ``intensity_factor`` (violations) for ``days``."""
        if self.in_truce:
            return
        self.in_truce = True
        self.set_standing_factor("truce", intensity_factor)
        self.world.ledger.record(self.world.env.now, Kind.TRUCE_START, None, None, 1, f"{days:.0f} days")
        self.world.env.process(self._end_truce(days))

    def _end_truce(self, days: float) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(days)
        self.set_standing_factor("truce", 1.0)
        self.in_truce = False
        self.world.ledger.record(self.world.env.now, Kind.TRUCE_END)

    def heavy_salvo_factor(self, now: float) -> float:
        """Escalation: after an attack that hurt Americans, heavy salvos become likelier."""
        return self.spec.escalation_heavy_boost if now < self.boosted_until else 1.0

    def observe(self, record: Record) -> None:
        if record.kind in (Kind.US_KILLED, Kind.US_WOUNDED):
            self.boosted_until = record.time_d + self.spec.escalation_days


def tactic_shift(world: "World") -> Generator[simpy.Event, None, None]:
    """Drones take a growing share: their intensity grows linearly with time."""
    growth = world.scenario.militia.drone_growth_per_year
    while growth > 0:
        world.militia.set_standing_factor("tactics", 1.0 + growth * world.env.now / DAYS_PER_YEAR, (AttackKind.DRONE,))
        yield world.env.timeout(TACTIC_STEP_DAYS)
