"""The militias' reactions: lost and recovered capacity, revenge, truces, tactic shifts
and escalation of severity.

Capacity is a set of named multiplicative factors on every threat's intensity (see
:class:`~sim.model.intensity.Intensity`): a strike, a raid, sanctions or an Iraqi operation
each set one, and its expiry clears it. Revenge and backlash are extra attacks at exponential
delays, the same cluster form as self-excitation. The militias hear of what happens through
the ledger: a U.S. ultimatum may bring a truce, an attack that hurts Americans heavier salvos.
"""

from __future__ import annotations

from enum import Enum
from typing import Generator

import numpy as np
import simpy

from sim.config.calendar import DAYS_PER_YEAR
from sim.model.campaign import launch_attack
from sim.model.damage import US_KILLED, US_WOUNDED
from sim.model.draws import pick_weighted
from sim.model.records import Origin, Record, record_kind
from sim.model.threats import threats
from sim.model.world import World
from sim.policy.washington import ULTIMATUM

REVENGE = record_kind("revenge", "the militias vow revenge for a strike; count = revenge attacks to come")
DEGRADED = record_kind("degraded", "militia capacity cut (detail: by what, how much, how long)")
TRUCE_START = record_kind("truce_start", "the militias declare a truce (detail: its length)")
TRUCE_END = record_kind("truce_end", "a truce ends")

TACTIC_STEP_DAYS = 7.0  # how often the drone share is updated


class Posture(Enum):
    CAMPAIGN = "campaign"
    TRUCE = "truce"


class Militia:
    """Kataib Hezbollah, Asaib Ahl al-Haq and their fronts, seen as one actor."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.spec = world.scenario.militia
        self.posture = Posture.CAMPAIGN
        self._cuts = 0
        # revenge takes the form of an attack on U.S. sites: drones first, so that the
        # share of revenge taken by drones is the low end of the uniform that picks it
        self._revenge_threats = [t for t in threats() if t.targets_us_sites][::-1]

    # -- capacity (the Pressure interface) --------------------------------------------
    def cut_capacity(self, source: str, loss: float, days: float) -> str:
        name = f"{source}-{self._cuts}"
        self._cuts += 1
        for intensity in self.world.intensity.values():
            intensity.set_factor(name, 1.0 - loss)
        self.world.ledger.record(DEGRADED, detail=f"{source}: -{loss:.0%} for {days:g} d")
        self.world.env.process(self._recover(name, days))
        return name

    def _recover(self, name: str, days: float) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(days)
        self.lift(name)

    def lift(self, handle: str) -> None:
        for intensity in self.world.intensity.values():
            intensity.clear_factor(handle)

    def sanctioned(self, capacity_loss: float) -> None:
        self._standing_factor("sanctions", 1.0 - capacity_loss)

    def _standing_factor(self, name: str, factor: float, kinds: tuple[str, ...] | None = None) -> None:
        """A lasting factor that is updated rather than expiring (sanctions, tactics, truce)."""
        for kind in self.world.intensity if kinds is None else kinds:
            self.world.intensity[kind].set_factor(name, factor)

    def struck(self, generation: int, rng: np.random.Generator, reason: str) -> None:
        effects = self.world.scenario.policy.us.strikes
        self.cut_capacity("strike", effects.capacity_loss, effects.capacity_recovery_days)
        if rng.random() < effects.revenge_prob:
            count = int(rng.poisson(effects.revenge_attacks_mean))
            self.world.ledger.record(REVENGE, None, None, count, generation=generation, detail=reason)
            self.extra_attacks(count, effects.revenge_decay_days, generation, rng, Origin.REVENGE)

    def extra_attacks(self, count: int, mean_delay_d: float, generation: int, rng: np.random.Generator, origin: Origin) -> None:
        """Schedule ``count`` attacks on U.S. sites (their form drawn in proportion to the
        threats' current intensities) at exponential delays: revenge for a strike, or backlash."""
        for delay, u_kind in zip(rng.exponential(mean_delay_d, count), rng.random(count)):
            self.world.env.process(self._attack_later(float(delay), float(u_kind), generation, origin))

    def _attack_later(self, delay_d: float, u_kind: float, generation: int, origin: Origin) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(delay_d)
        rates = [self.world.intensity[t.name].rate_per_day for t in self._revenge_threats]
        index = pick_weighted(rates, u_kind)
        threat = self._revenge_threats[-1] if index is None else self._revenge_threats[index]  # no intensity: rockets
        launch_attack(self.world, threat, origin, generation)

    def shift_tactics(self) -> Generator[simpy.Event, None, None]:
        """Drones take a growing share: their intensity grows linearly with time."""
        growth = self.spec.drone_growth_per_year
        while growth > 0:
            self._standing_factor("tactics", 1.0 + growth * self.world.env.now / DAYS_PER_YEAR, ("drone",))
            yield self.world.env.timeout(TACTIC_STEP_DAYS)

    # -- truces and severity ----------------------------------------------------------------
    def truce(self, days: float, intensity_factor: float) -> None:
        """A declared truce: attacks fall to ``intensity_factor`` (violations) for ``days``."""
        if self.posture is Posture.TRUCE:
            return
        self.posture = Posture.TRUCE
        self._standing_factor("truce", intensity_factor)
        self.world.ledger.record(TRUCE_START, detail=f"{days:.0f} days")
        self.world.env.process(self._end_truce(days))

    def _end_truce(self, days: float) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(days)
        self._standing_factor("truce", 1.0)
        self.posture = Posture.CAMPAIGN
        self.world.ledger.record(TRUCE_END)

    def observe(self, rec: Record) -> None:
        if rec.kind is US_KILLED or rec.kind is US_WOUNDED:
            # escalation: after an attack that hurt Americans, heavy salvos become likelier
            self.world.severity.raise_until(rec.time_d + self.spec.escalation_days, self.spec.escalation_heavy_boost)
        elif rec.kind is ULTIMATUM:
            self._answer_ultimatum()

    def declare_truce(self, reason: str) -> None:
        """A truce declared on a date of the record: its length is drawn as an answered
        ultimatum's is, from the stream of dated truces."""
        spec = self.world.scenario.policy.us.ultimatum
        rng = self.world.streams.get("truce")
        self.truce(float(rng.exponential(spec.truce_mean_days)), spec.truce_intensity_factor)

    def _answer_ultimatum(self) -> None:
        """Perhaps a truce, drawn from the stream of the militias' answers to ultimatums."""
        spec = self.world.scenario.policy.us.ultimatum
        rng = self.world.streams.get("ultimatum")
        if rng.random() < spec.truce_prob:
            self.truce(float(rng.exponential(spec.truce_mean_days)), spec.truce_intensity_factor)
