"""The militias' reactions: lost and recovered capacity, revenge or a pause after a strike,
truces, tactic shifts and escalation of severity.

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
from sim.model.campaign import (
    launch_attack,
    pause_campaign,
    regime_sojourn,
    sojourn_days,
)
from sim.model.damage import US_KILLED, US_WOUNDED
from sim.model.draws import pick_weighted
from sim.model.records import Origin, Record, record_kind
from sim.model.schedule import after
from sim.model.threats import threats
from sim.model.world import World
from sim.policy.washington import ULTIMATUM

REVENGE = record_kind("revenge", "the militias vow revenge for a strike; count = revenge attacks to come")
DEGRADED = record_kind("degraded", "militia capacity cut (detail: by what, how much, how long)")
TRUCE_START = record_kind("truce_start", "the militias declare a truce (detail: how long each campaign pauses)")
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
        self.observes = (US_KILLED, US_WOUNDED, ULTIMATUM)  # the records :meth:`observe` hears of

    # -- capacity (the Pressure interface) --------------------------------------------
    def cut_capacity(self, source: str, loss: float, days: float) -> str:
        name = f"{source}-{self._cuts}"
        self._cuts += 1
        for intensity in self.world.intensity.values():
            intensity.set_factor(name, 1.0 - loss)
        self.world.ledger.record(DEGRADED, detail=f"{source}: -{loss:.0%} for {days:g} d")
        after(self.world.env, days, self.lift, name)  # the capacity recovers
        return name

    def lift(self, handle: str) -> None:
        for intensity in self.world.intensity.values():
            intensity.clear_factor(handle)

    def sanctioned(self, capacity_loss: float) -> None:
        self._standing_factor("sanctions", 1.0 - capacity_loss)

    def _standing_factor(self, name: str, factor: float, kinds: tuple[str, ...] | None = None) -> None:
        """A lasting factor that is updated rather than expiring (sanctions, tactics)."""
        for kind in self.world.intensity if kinds is None else kinds:
            self.world.intensity[kind].set_factor(name, factor)

    def struck(self, generation: int, rng: np.random.Generator, reason: str) -> None:
        """A strike costs capacity for a while; then the militias answer with revenge (a surge
        of attacks soon after, probability ``revenge_prob``), or else with a pause of every
        campaign (lasting deterrence, probability ``pause_prob`` when there is no revenge), or
        not at all, drawn from the strike's own stream."""
        effects = self.world.scenario.policy.us.strikes
        self.cut_capacity("strike", effects.capacity_loss, effects.capacity_recovery_days)
        u = rng.random()
        if u < effects.revenge_prob:
            count = int(rng.poisson(effects.revenge_attacks_mean))
            self.world.ledger.record(REVENGE, None, None, count, generation=generation, detail=reason)
            self.extra_attacks(count, effects.revenge_decay_days, generation, rng, Origin.REVENGE)
        elif (u - effects.revenge_prob) < effects.pause_prob * (1 - effects.revenge_prob):  # the same uniform, rescaled
            regime = self.world.scenario.campaign.regimes[self.world.scenario.campaign.pause_regime]
            for name in self.world.intensity:
                pause_campaign(self.world, name, regime_sojourn(regime, rng), "after a strike")

    def extra_attacks(self, count: int, mean_delay_d: float, generation: int, rng: np.random.Generator, origin: Origin) -> None:
        """Schedule ``count`` attacks on U.S. sites (their form drawn in proportion to the
        threats' current intensities) at exponential delays: revenge for a strike, or backlash.
        Each goes ahead in the share the chosen campaign's restraint allows (a truce or a pause
        holds revenge back too)."""
        draws = zip(rng.exponential(mean_delay_d, count), rng.random(count), rng.random(count))
        for delay, u_kind, u_keep in draws:
            after(self.world.env, float(delay), self._attack_now, float(u_kind), float(u_keep), generation, origin)

    def _attack_now(self, u_kind: float, u_keep: float, generation: int, origin: Origin) -> None:
        rates = [self.world.intensity[t.name].rate_per_day for t in self._revenge_threats]
        index = pick_weighted(rates, u_kind)
        threat = self._revenge_threats[-1] if index is None else self._revenge_threats[index]  # no intensity: rockets
        if u_keep < self.world.intensity[threat.name].restraint:
            launch_attack(self.world, threat, origin, generation)

    def shift_tactics(self) -> Generator[simpy.Event, None, None]:
        """Drones take a growing share: their intensity grows linearly with time."""
        growth = self.spec.drone_growth_per_year
        while growth > 0:
            self._standing_factor("tactics", 1.0 + growth * self.world.env.now / DAYS_PER_YEAR, ("drone",))
            yield self.world.env.timeout(TACTIC_STEP_DAYS)

    # -- truces and severity ----------------------------------------------------------------
    def truce(self, delay_d: float, reason: str, rng: np.random.Generator) -> None:
        """Declare a truce after ``delay_d`` days: every threat's campaign pauses, each for its
        own lognormal length (one can resume while another is still paused); the truce ends
        when the last resumes."""
        if self.posture is Posture.TRUCE:
            return
        self.posture = Posture.TRUCE
        self.world.env.process(self._truce(delay_d, reason, rng))

    def _truce(self, delay_d: float, reason: str, rng: np.random.Generator) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(delay_d)
        days = {name: sojourn_days(self.spec.truce_mean_days, self.spec.truce_log_sd, rng) for name in self.world.intensity}
        self.world.ledger.record(TRUCE_START, detail=f"{reason}: " + ", ".join(f"{n} {d:.0f} days" for n, d in days.items()))
        for name, pause in days.items():
            pause_campaign(self.world, name, pause, "truce")
        yield self.world.env.timeout(max(days.values()))
        self.posture = Posture.CAMPAIGN
        self.world.ledger.record(TRUCE_END)

    def declare_truce(self, reason: str) -> None:
        """A truce declared on a date of the record, its lengths from the stream of dated truces."""
        self.truce(0.0, reason, self.world.streams.get("truce"))

    def observe(self, rec: Record) -> None:
        if rec.kind is US_KILLED or rec.kind is US_WOUNDED:
            # escalation: after an attack that hurt Americans, heavy salvos become likelier for a
            # while; casualties during that window neither extend nor restart it
            severity = self.world.severity
            if rec.time_d >= severity.until_d:
                severity.raise_until(rec.time_d + self.spec.escalation_days, self.spec.escalation_heavy_boost)
        elif rec.kind is ULTIMATUM:
            self._answer_ultimatum()

    def _answer_ultimatum(self) -> None:
        """Perhaps a truce some days later, drawn from the stream of the militias' answers to ultimatums."""
        spec = self.world.scenario.policy.us.ultimatum
        rng = self.world.streams.get("ultimatum")
        if rng.random() < spec.truce_prob:
            self.truce(spec.truce_delay_days, "answer to the ultimatum", rng)
