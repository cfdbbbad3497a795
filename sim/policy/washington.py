"""Washington: retaliatory and pre-emptive strikes, sanctions, the ultimatum, the embassy
closure and force posture, as the chosen doctrine directs (seeds 001, 002).

Rule-driven responses watch the event log (``Ledger.subscribe``) and act only from
``policy.start_date``; dated history calls the same methods on its dates.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING, Generator

import simpy

from sim.config.calendar import DAYS_PER_MONTH
from sim.model.damage import harm_civilians
from sim.model.records import Kind, Record
from sim.model.threats.rocket import HEAVY

if TYPE_CHECKING:
    from sim.model.world import World

US_TARGET_ATTACKS = (Kind.ATTACK_ROCKET, Kind.ATTACK_DRONE)


class Washington:
    """The U.S. government's responses under one doctrine."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self.spec = world.scenario.policy.us
        self.levers = self.spec.levers
        self.start_d = world.calendar.day_of(world.scenario.policy.start_date)
        self.embassy = world.scenario.policy.embassy_site
        self.strikes = 0
        self.last_strike_d = -math.inf
        self.deciding = False
        self.attack_times: list[float] = []
        self.embassy_attack_times: list[float] = []
        self.ultimatum_attacks: int | None = None  # attacks counted while an ultimatum runs
        self.ultimatum_issued = False  # by the rule (at most once a run)
        self.closing = False
        self.withdrawing = False

    def active(self) -> bool:
        return self.world.env.now >= self.start_d

    def shares_intelligence(self) -> bool:
        return self.active() and self.levers.share_intelligence and not self.closing

    # -- watching the run -------------------------------------------------------------
    def observe(self, rec: Record) -> None:
        if rec.kind in US_TARGET_ATTACKS:
            self._count_attack(rec)
        if not self.active():
            return
        if self._provokes_retaliation(rec):
            self.consider_retaliation(rec)
        if self.spec.ultimatum.enabled and not self.ultimatum_issued and rec.kind in US_TARGET_ATTACKS:
            ultimatum = self.spec.ultimatum
            if _count_within(self.attack_times, rec.time_d, ultimatum.trigger_window_days) >= ultimatum.trigger_attacks:
                self.ultimatum_issued = True  # the rule threatens once; dated history may add others
                self.issue_ultimatum(f"{ultimatum.trigger_attacks} attacks in {ultimatum.trigger_window_days:g} days")
        closing = self.levers.close_embassy_on_attacks
        if closing and rec.kind in US_TARGET_ATTACKS and rec.site == self.embassy:
            window = self.levers.attack_count_window_days
            if _count_within(self.embassy_attack_times, rec.time_d, window) >= closing:
                self.close_embassy(f"doctrine {self.spec.doctrine}")

    def _count_attack(self, rec: Record) -> None:
        self.attack_times.append(rec.time_d)
        if rec.site == self.embassy:
            self.embassy_attack_times.append(rec.time_d)
        if self.ultimatum_attacks is not None:
            self.ultimatum_attacks += 1

    def _provokes_retaliation(self, rec: Record) -> bool:
        levers = self.levers
        if rec.kind is Kind.US_KILLED:
            return levers.retaliate_on_lethal
        if rec.kind in (Kind.ROCKET_IMPACT_INSIDE, Kind.DRONE_IMPACT_INSIDE):
            return levers.retaliate_on_inside_impact
        if rec.kind is Kind.ATTACK_ROCKET and rec.detail.startswith(HEAVY) and levers.retaliate_on_heavy_salvo:
            return True
        if rec.kind in US_TARGET_ATTACKS and levers.retaliate_on_attack_count:
            window = levers.attack_count_window_days
            return _count_within(self.attack_times, rec.time_d, window) >= levers.retaliate_on_attack_count
        return False

    # -- strikes ------------------------------------------------------------------------
    def consider_retaliation(self, rec: Record) -> None:
        """Decide on a strike for ``rec`` unless one is being decided or the last is recent."""
        now = self.world.env.now
        if self.deciding or now - self.last_strike_d < self.levers.strike_cooldown_days:
            return
        self.deciding = True
        generation = self.world.generation.get(rec.attack, 0) + 1
        self.world.env.process(self._retaliate(generation, f"{rec.kind.value} of {rec.attack}"))

    def _retaliate(self, generation: int, cause: str) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(self.levers.decision_delay_days)
        self.deciding = False
        self.strike(Kind.US_STRIKE_RETALIATORY, generation, f"after {cause}")

    def strike(self, kind: Kind, generation: int, reason: str) -> None:
        """Strike militia sites: civilian harm, lost capacity and perhaps revenge."""
        world, effects = self.world, self.spec.strikes
        rng = world.streams.fresh("strike", self.strikes)
        self.strikes += 1
        self.last_strike_d = world.env.now
        world.ledger.record(world.env.now, kind, None, None, generation, reason)
        harm_civilians(world, None, None, effects.civilian_casualties_mean, rng.random(), "U.S. strike")
        world.militia.cut_capacity("strike", effects.capacity_loss, effects.capacity_recovery_days)
        if rng.random() < effects.revenge_prob:
            count = int(rng.poisson(effects.revenge_attacks_mean))
            world.ledger.record(world.env.now, Kind.REVENGE, None, None, count, reason)
            world.militia.extra_attacks(count, effects.revenge_decay_days, generation, rng, "revenge")

    def on_warning(self, attack: str, u_risk: float, u_prevent: float) -> bool:
        """A warned attack: strike first if the doctrine allows and collateral risk is low
        enough. True if the strike stops the attack."""
        preemption = self.spec.preemption
        if not (self.active() and self.levers.preempt_on_warning and not self.closing):
            return False
        if u_risk * preemption.collateral_risk_max >= self.levers.max_collateral_risk:
            return False
        self.strike(Kind.US_STRIKE_PREEMPTIVE, self.world.generation.get(attack, 0) + 1, f"before {attack}")
        return u_prevent < preemption.prevent_prob

    # -- sanctions, ultimatum, closure, posture -----------------------------------------
    def sanctions(self) -> Generator[simpy.Event, None, None]:
        """Monthly, cumulative pressure on leaders and financiers, up to a ceiling."""
        spec = self.spec.sanctions
        yield self.world.env.timeout(max(0.0, self.start_d - self.world.env.now))
        month = 0
        while True:
            month += 1
            yield self.world.env.timeout(DAYS_PER_MONTH)
            loss = min(spec.max_capacity_loss, month * spec.capacity_loss_per_month)
            self.world.militia.set_standing_factor("sanctions", 1.0 - loss)
            self.world.ledger.record(self.world.env.now, Kind.SANCTIONS, None, None, month, f"-{loss:.0%} capacity")
            if loss >= spec.max_capacity_loss:
                return

    def issue_ultimatum(self, reason: str) -> None:
        """Threaten to close the embassy: Baghdad cracks down, the militias may call a
        truce, and if attacks go on until the deadline the embassy closes."""
        if self.ultimatum_attacks is not None or self.closing:
            return
        world, spec = self.world, self.spec.ultimatum
        self.ultimatum_attacks = 0
        rng = world.streams.get("ultimatum")
        world.ledger.record(world.env.now, Kind.ULTIMATUM, self.embassy, None, 1, reason)
        world.baghdad.crackdown(spec.iraqi_raids, spec.deadline_days)
        if rng.random() < spec.truce_prob:
            world.militia.truce(float(rng.exponential(spec.truce_mean_days)), spec.truce_intensity_factor)
        world.env.process(self._deadline())

    def _deadline(self) -> Generator[simpy.Event, None, None]:
        spec = self.spec.ultimatum
        yield self.world.env.timeout(spec.deadline_days)
        attacks, self.ultimatum_attacks = self.ultimatum_attacks, None
        if spec.closure_attacks and attacks >= spec.closure_attacks:
            self.close_embassy(f"ultimatum ignored: {attacks} attacks")

    def close_embassy(self, reason: str) -> None:
        if not self.closing:
            self.closing = True
            self.world.env.process(self._evacuate(reason))

    def _evacuate(self, reason: str) -> Generator[simpy.Event, None, None]:
        """Evacuate the embassy; cooperation with Baghdad ends; other sites follow."""
        world, spec = self.world, self.spec.closure
        yield world.env.timeout(spec.evacuation_days)
        world.sites[self.embassy].close("evacuated")
        world.ledger.record(world.env.now, Kind.EMBASSY_CLOSED, self.embassy, None, 1, reason)
        world.baghdad.cooperating = False
        self.withdrawing = True  # sites due to open later stay shut
        yield world.env.timeout(spec.other_sites_after_days)
        for site in world.site_list:
            if site.is_open:
                site.close("withdrawal")
                yield world.env.timeout(spec.site_interval_days)

    def troop_reduction(self, share_kept: float) -> None:
        """Reduce the troops at every open site but the embassy to ``share_kept``."""
        for site in self.world.site_list:
            if site.is_open and site.name != self.embassy:
                site.staffing *= share_kept
        self.world.ledger.record(self.world.env.now, Kind.TROOP_REDUCTION, None, None, 1, f"{share_kept:.0%} kept")


def _count_within(times: list[float], now: float, window_d: float) -> int:
    """Events at times in ``(now - window_d, now]`` (``times`` is in time order)."""
    return bisect.bisect_right(times, now) - bisect.bisect_right(times, now - window_d)
