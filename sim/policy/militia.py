"""The militias' reactions: lost and recovered capacity, revenge after a strike, truces
decided on what they hear, tactic shifts and escalation of severity.

Capacity is a set of named multiplicative factors on every threat's intensity (see
:class:`~sim.model.intensity.Intensity`): a strike, a raid, sanctions or an Iraqi operation
each set one, and its expiry clears it. Revenge and backlash are extra attacks at exponential
delays, the same cluster form as self-excitation. The militias hear of what happens through
the ledger: political actions, strikes, arrests and threats move the value they set on holding
fire, and each is an occasion to decide a truce or end one (:mod:`sim.policy.decision`); an
attack that hurts Americans brings heavier salvos.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from enum import Enum

import numpy as np
import simpy

from sim.config.calendar import DAYS_PER_YEAR
from sim.model.campaign import launch_attack, pause_campaign, resume_campaign, sojourn_days
from sim.model.damage import US_KILLED, US_WOUNDED
from sim.model.draws import pick_weighted
from sim.model.records import Origin, Record, record_kind
from sim.model.schedule import after
from sim.model.threats import threats
from sim.model.world import World
from sim.policy.decision import INPUT_OF, THRESHOLD, HoldValue

REVENGE = record_kind("revenge", "the militias vow revenge for a strike; count = revenge attacks to come")
DEGRADED = record_kind("degraded", "militia capacity cut (detail: by what, how much, how long)")
TRUCE_DECIDED = record_kind(
    "truce_decided", "the militias decide on a truce, to be declared after deliberation (detail: on what)"
)
TRUCE_START = record_kind("truce_start", "the militias declare a truce (detail: why, and its first term)")
TRUCE_RENEWED = record_kind("truce_renewed", "a truce's term is up and the militias renew it (detail: the new term)")
TRUCE_DROPPED = record_kind("truce_dropped", "a decided truce is dropped before its declaration (detail: why)")
TRUCE_END = record_kind("truce_end", "a truce ends (detail: why)")

TACTIC_STEP_DAYS = 7.0  # how often the drone share is updated


class Posture(Enum):
    CAMPAIGN = "campaign"
    DECIDED = "decided"  # a truce is decided, and declared when the deliberation is over
    TRUCE = "truce"


class Militia:
    """Kataib Hezbollah, Asaib Ahl al-Haq and their fronts, seen as one actor."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.spec = world.scenario.militia
        self.posture = Posture.CAMPAIGN
        self.decision = self.spec.decision
        self.hold = HoldValue(self.decision.memory_days)
        self.rng = world.streams.get("decision")  # the unobserved parts of the resolve, deliberations and reviews
        self.noise = self._noise()  # the unobserved part of the resolve, drawn afresh at each review
        self._pending: simpy.Process | None = None  # the deliberation, then the truce
        self._reviewing: simpy.Process | None = None  # the reviews (start_reviews)
        self._cuts = 0
        # revenge takes the form of an attack on U.S. sites: drones first, so that the
        # share of revenge taken by drones is the low end of the uniform that picks it
        self._revenge_threats = [t for t in threats() if t.targets_us_sites][::-1]
        # a truce holds fire on U.S. sites; the roadside bombs on Iraqi-driven convoys and foreign
        # details go on (in the fit window convoy attacks rose in Q2 2020 while rockets fell)
        self._truce_threats = [t.name for t in threats() if t.targets_us_sites]
        self.observes = (US_KILLED, US_WOUNDED, *INPUT_OF)  # the records :meth:`observe` hears of

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
        """A strike costs capacity for a while; the militias may answer with revenge (a surge of
        attacks soon after, probability ``revenge_prob``), drawn from the strike's own stream.
        What the strike does to their resolve is a decision (:meth:`observe` hears of it)."""
        effects = self.world.scenario.policy.us.strikes
        self.cut_capacity("strike", effects.capacity_loss, effects.capacity_recovery_days)
        if rng.random() < effects.revenge_prob:
            count = int(rng.poisson(effects.revenge_attacks_mean))
            self.world.ledger.record(REVENGE, None, None, count, generation=generation, detail=reason)
            self.extra_attacks(count, effects.revenge_decay_days, generation, rng, Origin.REVENGE)

    def extra_attacks(
        self, count: int, mean_delay_d: float, generation: int, rng: np.random.Generator, origin: Origin
    ) -> None:
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

    def start(self) -> None:
        """Start the militias' processes: tactic shifts and the reviews of their stance."""
        self.world.env.process(self.shift_tactics())
        self._reviewing = self.world.env.process(self.reviews())

    def shift_tactics(self) -> Generator[simpy.Event, None, None]:
        """Drones take a growing share: their intensity grows linearly with time."""
        growth = self.spec.drone_growth_per_year
        while growth > 0:
            self._standing_factor("tactics", 1.0 + growth * self.world.env.now / DAYS_PER_YEAR, ("drone",))
            yield self.world.env.timeout(TACTIC_STEP_DAYS)

    # -- decisions: truces and severity -------------------------------------------------
    def observe(self, rec: Record) -> None:
        if rec.kind is US_KILLED or rec.kind is US_WOUNDED:
            # escalation: after an attack that hurt Americans, heavy salvos become likelier for a
            # while; casualties during that window neither extend nor restart it
            severity = self.world.severity
            if rec.time_d >= severity.until_d:
                severity.raise_until(rec.time_d + self.spec.escalation_days, self.spec.escalation_heavy_boost)
            return
        weighed = INPUT_OF[rec.kind]
        self.hold.add(rec.time_d, weighed.weight_in(self.decision), rec.time_d + rec.count if weighed.holds else None)
        self.decide(f"{rec.kind}")

    def resolve(self) -> float:
        """What a decision weighs now: the hold value plus the unobserved part of the last review."""
        return self.hold.at(self.world.env.now) + self.noise

    def decide(self, occasion: str) -> bool:
        """An occasion to decide: at war, a truce if the resolve reaches the threshold; deciding
        or in a truce, drop it if the resolve falls below the keep level. True if it changed
        course."""
        value = self.resolve()
        if self.posture is Posture.CAMPAIGN:
            if value < THRESHOLD:
                return False
            self.posture = Posture.DECIDED
            delay = (
                float(self.rng.exponential(self.decision.deliberation_days)) if self.decision.deliberation_days else 0.0
            )
            self.world.ledger.record(TRUCE_DECIDED, detail=f"after {occasion}; declared in {delay:.0f} days")
            self._pending = self.world.env.process(self._truce(delay, f"decided after {occasion}"))
            return True
        if value >= self.decision.keep_level:
            return False
        self._pending.interrupt(f"dropped after {occasion}")
        return True

    def reviews(self) -> Generator[simpy.Event, None, None]:
        """The militias review their stance at lognormal intervals: the unobserved part of
        their resolve is drawn afresh and they decide again (a truce is renewed or ended, or
        declared). A declared truce restarts the clock: its first term is a full interval."""
        env = self.world.env
        term = self._term()
        while True:
            try:
                yield env.timeout(term)
            except simpy.Interrupt:
                term = self._term()
                continue
            self.noise = self._noise()
            in_truce = self.posture is Posture.TRUCE
            changed = self.decide("a review")
            term = self._term()
            if in_truce and not changed:
                self.world.ledger.record(TRUCE_RENEWED, detail=f"for {term:.0f} days")

    def declare_truce(self, reason: str) -> None:
        """A truce declared on a date of the record (the conditional replay), whatever the
        militias' resolve; from then on it is kept or ended like any other."""
        if self.posture is Posture.TRUCE:
            return
        if self._pending is not None and self._pending.is_alive:
            self._pending.interrupt(None)  # a deliberation under way gives way to the dated truce
        self.posture = Posture.DECIDED
        self._pending = self.world.env.process(self._truce(0.0, reason))

    def _truce(self, delay_d: float, reason: str) -> Generator[simpy.Event, None, None]:
        """Deliberate, declare the truce (every campaign of attacks on U.S. sites pauses), and
        hold it until a decision drops it."""
        env, ledger = self.world.env, self.world.ledger
        try:
            yield env.timeout(delay_d)
        except simpy.Interrupt as dropped:
            if dropped.cause is not None:
                self.posture = Posture.CAMPAIGN
                ledger.record(TRUCE_DROPPED, detail=dropped.cause)
            return
        self.posture = Posture.TRUCE
        ledger.record(TRUCE_START, detail=reason)
        if self._reviewing is not None:
            self._reviewing.interrupt()  # the truce's first term starts now
        for name in self._truce_threats:
            pause_campaign(self.world, name, math.inf, "truce")
        try:
            yield env.event()  # never triggered: only a decision ends a truce
        except simpy.Interrupt as dropped:
            why = dropped.cause
        self.posture = Posture.CAMPAIGN
        ledger.record(TRUCE_END, detail=why)
        for name in self._truce_threats:
            resume_campaign(self.world, name, "the truce is over")

    def _noise(self) -> float:
        return float(self.rng.logistic(0.0, self.decision.noise_scale))

    def _term(self) -> float:
        return sojourn_days(self.decision.review_mean_days, self.decision.review_log_sd, self.rng)
