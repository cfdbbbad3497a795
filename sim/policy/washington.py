"""Washington: retaliatory and pre-emptive strikes, sanctions, the ultimatum, the embassy
closure and force posture, as the chosen doctrine directs (docs/sources.md#doctrines).

Rule-driven responses watch the event log (:meth:`Washington.observe`) and act only from
``policy.start_date``: each rule in :data:`RULES` pairs a lever of the scenario with a trigger
on a record's typed fields and an action. Dated history calls the same methods on its dates.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import Any

import simpy

from sim.config.calendar import DAYS_PER_MONTH
from sim.model.damage import US_KILLED, harm_civilians
from sim.model.records import Record, RecordKind, record_kind
from sim.model.schedule import after
from sim.model.threats import threats
from sim.model.world import World
from sim.policy.pressure import Pressure

STRIKE_RETALIATORY = record_kind(
    "us_strike_retaliatory", "a U.S. strike in answer to an attack (attack: the provoking one)"
)
STRIKE_PREEMPTIVE = record_kind("us_strike_preemptive", "a U.S. strike before a warned attack (attack: the warned one)")
SANCTIONS = record_kind("sanctions", "sanctions tightened (detail: capacity now lost to them)")
ULTIMATUM = record_kind("ultimatum", "Washington threatens to close the embassy unless attacks stop")
EMBASSY_CLOSED = record_kind("embassy_closed", "the embassy is evacuated and closed")
TROOP_REDUCTION = record_kind("troop_reduction", "troops at the sites reduced (detail: the share kept)")
COMBAT_ROLE_END = record_kind("combat_role_end", "the coalition's combat role ends; troops stay as advisers")


class Posture(Enum):
    """Where the U.S. presence stands: engaged; closing (the embassy is being evacuated, no
    more pre-emption, ultimatums or shared intelligence); withdrawn (the embassy is closed,
    no site opens any more, the others close one by one)."""

    ENGAGED = "engaged"
    CLOSING = "closing"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Rule:
    """A rule-driven response: if ``lever`` is on in the scenario (true, or a count above
    zero), every record of ``kinds`` for which ``trigger`` holds makes Washington take
    ``action``. Both receive the lever's value. Levers are scenario parameters: fixed for a run."""

    lever: Callable[[Washington], Any]
    kinds: Callable[[Washington], Iterable[RecordKind]]
    trigger: Callable[[Washington, Record, Any], bool]
    action: Callable[[Washington, Record, Any], None]


def _doctrine(lever: str) -> Callable[[Washington], Any]:
    return attrgetter(f"levers.{lever}")


def _retaliate(us: Washington, rec: Record, lever: Any) -> None:
    us.consider_retaliation(rec)


def _threaten(us: Washington, rec: Record, trigger_attacks: int) -> None:
    us.ultimatum_issued = True  # the rule threatens once; dated history may add others
    us.issue_ultimatum(f"{trigger_attacks} attacks in {us.spec.ultimatum.trigger_window_days:g} days")


def _close(us: Washington, rec: Record, lever: Any) -> None:
    us.close_embassy(f"doctrine {us.spec.doctrine}")


RULES = (
    Rule(_doctrine("retaliate_on_lethal"), lambda us: (US_KILLED,), lambda us, rec, on: True, _retaliate),
    Rule(_doctrine("retaliate_on_inside_impact"), lambda us: us.inside_impacts, lambda us, rec, on: True, _retaliate),
    Rule(
        _doctrine("retaliate_on_heavy_salvo"),
        lambda us: us.attacks_on_us,
        lambda us, rec, on: rec.heavy is True,
        _retaliate,
    ),
    Rule(
        _doctrine("retaliate_on_attack_count"),
        lambda us: us.attacks_on_us,
        lambda us, rec, n: us.attacks_within(us.levers.attack_count_window_days) >= n,
        _retaliate,
    ),
    Rule(
        lambda us: us.spec.ultimatum.trigger_attacks if us.spec.ultimatum.enabled else 0,
        lambda us: us.attacks_on_us,
        lambda us, rec, n: not us.ultimatum_issued and us.attacks_within(us.spec.ultimatum.trigger_window_days) >= n,
        _threaten,
    ),
    Rule(
        _doctrine("close_embassy_on_attacks"),
        lambda us: us.attacks_on_us,
        lambda us, rec, n: (
            rec.site == us.embassy
            and _count_within(us.embassy_attack_times, rec.time_d, us.levers.attack_count_window_days) >= n
        ),
        _close,
    ),
)


class Washington:
    """The U.S. government's responses under one doctrine; its measures act on the militias
    through ``militia``."""

    def __init__(self, world: World, militia: Pressure) -> None:
        self.world, self.militia = world, militia
        self.spec = world.scenario.policy.us
        self.levers = self.spec.levers
        self.start_d = world.calendar.day_of(world.scenario.policy.start_date)
        self.embassy = world.scenario.policy.embassy_site
        self.posture = Posture.ENGAGED
        self.attacks_on_us: frozenset[RecordKind] = frozenset(t.attack_record for t in threats() if t.targets_us_sites)
        self.inside_impacts: frozenset[RecordKind] = frozenset(t.impact_inside for t in threats() if t.impact_inside)
        self.strikes = 0
        self.last_strike_d = -math.inf
        self.deciding = False
        self.attack_times: list[float] = []
        self.embassy_attack_times: list[float] = []
        self.ultimatum_attacks: int | None = None  # attacks counted while an ultimatum runs
        self.ultimatum_issued = False  # by the rule (at most once a run)
        self._rules_of: dict[RecordKind, list[tuple[Rule, Any]]] = {}  # the rules switched on, by the kinds they act on
        for rule, lever in [(rule, lever) for rule in RULES if (lever := rule.lever(self))]:
            for kind in rule.kinds(self):
                self._rules_of.setdefault(kind, []).append((rule, lever))
        self.observes = self.attacks_on_us | self._rules_of.keys()  # the records :meth:`observe` hears of

    def active(self) -> bool:
        return self.world.env.now >= self.start_d

    def shares_intelligence(self) -> bool:
        return self.active() and self.levers.share_intelligence and self.posture is Posture.ENGAGED

    def attacks_within(self, window_d: float) -> int:
        """Attacks on U.S. sites in the last ``window_d`` days."""
        return _count_within(self.attack_times, self.world.env.now, window_d)

    # -- watching the run -------------------------------------------------------------
    def observe(self, rec: Record) -> None:
        if rec.kind in self.attacks_on_us:
            self._count_attack(rec)
        if not self.active():
            return
        for rule, lever in self._rules_of.get(rec.kind, ()):
            if rule.trigger(self, rec, lever):
                rule.action(self, rec, lever)

    def _count_attack(self, rec: Record) -> None:
        self.attack_times.append(rec.time_d)
        if rec.site == self.embassy:
            self.embassy_attack_times.append(rec.time_d)
        if self.ultimatum_attacks is not None:
            self.ultimatum_attacks += 1

    # -- strikes ------------------------------------------------------------------------
    def consider_retaliation(self, rec: Record) -> None:
        """Decide on a strike for ``rec`` unless one is being decided or the last is recent."""
        now = self.world.env.now
        if self.deciding or now - self.last_strike_d < self.levers.strike_cooldown_days:
            return
        self.deciding = True
        generation = self.world.generation.get(rec.attack, 0) + 1
        after(
            self.world.env,
            self.levers.decision_delay_days,
            self._retaliate,
            generation,
            rec.attack,
            f"after {rec.kind} of {rec.attack}",
        )

    def _retaliate(self, generation: int, attack: str | None, cause: str) -> None:
        """The decision is taken: strike."""
        self.deciding = False
        self.strike(STRIKE_RETALIATORY, generation, cause, attack)

    def strike(self, kind: RecordKind, generation: int, reason: str, attack: str | None = None) -> None:
        """Strike militia sites: civilian harm, and the militias' answer (lost capacity,
        perhaps revenge), all drawn from the strike's own stream."""
        world = self.world
        rng = world.streams.fresh(f"strike-{self.strikes}")
        self.strikes += 1
        self.last_strike_d = world.env.now
        world.ledger.record(kind, None, attack, generation=generation, detail=reason)
        harm_civilians(world, None, None, self.spec.strikes.civilian_casualties_mean, rng.random(), "U.S. strike")
        self.militia.struck(generation, rng, reason)

    def on_warning(self, attack: str, u_risk: float, u_prevent: float) -> bool:
        """A warned attack: strike first if the doctrine allows and the strike's collateral
        risk is acceptable. True if the strike stops the attack."""
        preemption = self.spec.preemption
        if not (self.active() and self.levers.preempt_on_warning and self.posture is Posture.ENGAGED):
            return False
        if u_risk * preemption.strike_collateral_risk_max >= self.levers.acceptable_collateral_risk:
            return False
        self.strike(STRIKE_PREEMPTIVE, self.world.generation.get(attack, 0) + 1, f"before {attack}", attack)
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
            self.militia.sanctioned(loss)
            self.world.ledger.record(SANCTIONS, detail=f"month {month}: -{loss:.0%} capacity")
            if loss >= spec.max_capacity_loss:
                return

    def issue_ultimatum(self, reason: str, may_close: bool = True) -> None:
        """Threaten to close the embassy (Baghdad and the militias answer the record). If the
        threat is the policy option's (``may_close``) and attacks go on until the deadline, the
        embassy closes; a threat of the dated record closes nothing (what followed it is the
        record's)."""
        if self.ultimatum_attacks is not None or self.posture is not Posture.ENGAGED:
            return
        self.ultimatum_attacks = 0
        self.world.ledger.record(ULTIMATUM, self.embassy, detail=reason)
        self.world.env.process(self._deadline(may_close))

    def _deadline(self, may_close: bool) -> Generator[simpy.Event, None, None]:
        spec = self.spec.ultimatum
        yield self.world.env.timeout(spec.deadline_days)
        attacks, self.ultimatum_attacks = self.ultimatum_attacks, None
        if may_close and spec.closure_attacks and attacks >= spec.closure_attacks:
            self.close_embassy(f"ultimatum ignored: {attacks} attacks")

    def close_embassy(self, reason: str) -> None:
        if self.posture is Posture.ENGAGED:
            self.posture = Posture.CLOSING
            self.world.env.process(self._evacuate(reason))

    def _evacuate(self, reason: str) -> Generator[simpy.Event, None, None]:
        """Evacuate the embassy (Baghdad ends its cooperation when it hears); no site opens
        any more, and the others close one by one."""
        world, spec = self.world, self.spec.closure
        yield world.env.timeout(spec.evacuation_days)
        world.sites[self.embassy].close("evacuated")
        world.ledger.record(EMBASSY_CLOSED, self.embassy, detail=reason)
        self.posture = Posture.WITHDRAWN
        world.sites.stop_openings()
        yield world.env.timeout(spec.other_sites_after_days)
        for site in world.sites:
            if site.is_open:
                site.close("withdrawal")
                yield world.env.timeout(spec.site_interval_days)

    def end_combat_role(self, reason: str) -> None:
        """The combat role ends (9 Dec 2021): marked in the log; the advisers who stay are the
        troops the sites already hold, so nothing else changes in the model."""
        self.world.ledger.record(COMBAT_ROLE_END, detail=reason)

    def troop_reduction(self, share_kept: float) -> None:
        """Reduce the troops at every open site but the embassy to ``share_kept``."""
        for site in self.world.sites:
            if site.is_open and site.name != self.embassy:
                site.staffing *= share_kept
        self.world.ledger.record(TROOP_REDUCTION, detail=f"{share_kept:.0%} kept")


def _count_within(times: list[float], now: float, window_d: float) -> int:
    """Events at times in ``(now - window_d, now]`` (``times`` is in time order)."""
    return bisect.bisect_right(times, now) - bisect.bisect_right(times, now - window_d)
