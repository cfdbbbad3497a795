"""Baghdad: the Iraqi government's measures against the militias (docs/sources.md#doctrines).

Closing and reinforcing parts of the International Zone on U.S. warnings lowers launch
success near the embassy for a window; raids and arrests cut militia capacity for a while,
with a chance of release and backlash; a clearing campaign takes the zone neighbourhood by
neighbourhood; operations follow intelligence the U.S. shares. A U.S. ultimatum brings a
crackdown; when the embassy closes, cooperation ends and every operation under way stops.
"""

from __future__ import annotations

from collections.abc import Generator
from enum import Enum

import numpy as np
import simpy

from sim.config.calendar import DAYS_PER_MONTH
from sim.model.records import Origin, Record, record_kind
from sim.model.sites import SiteState
from sim.model.world import World
from sim.policy.pressure import Pressure
from sim.policy.washington import EMBASSY_CLOSED, ULTIMATUM

IZ_CLOSED = record_kind("iz_closed", "Baghdad closes parts of the International Zone (detail: for how long)")
IZ_REOPENED = record_kind("iz_reopened", "the International Zone reopens")
IRAQI_RAID = record_kind("iraqi_raid", "an Iraqi raid or arrest (detail: why)")
DETAINEES_RELEASED = record_kind(
    "detainees_released", "detainees of a raid are released; count = backlash attacks to come"
)
NEIGHBOURHOOD_CLEARED = record_kind(
    "neighbourhood_cleared", "a neighbourhood of the zone is cleared (detail: how many so far)"
)
IRAQI_OPERATION = record_kind("iraqi_operation", "an Iraqi operation on intelligence the U.S. shared")


class Posture(Enum):
    COOPERATING = "cooperating"
    ENDED = "ended"  # the embassy closed: no raids, clearing or operations any more


class Baghdad:
    """The Iraqi government as one actor; its measures act on the militias through ``militia``."""

    def __init__(self, world: World, militia: Pressure) -> None:
        self.world, self.militia = world, militia
        self.spec = world.scenario.policy.iraq
        self.start_d = world.calendar.day_of(world.scenario.policy.start_date)
        self.posture = Posture.COOPERATING
        self.iz_closed_until = -1.0
        self.raids = 0
        self.rng = world.streams.get("baghdad")
        self._operations: list[simpy.Process] = []  # what the end of cooperation interrupts
        self.observes = (ULTIMATUM, EMBASSY_CLOSED)  # the records :meth:`observe` hears of

    def active(self) -> bool:
        return self.posture is Posture.COOPERATING and self.world.env.now >= self.start_d

    def iz_sites(self) -> list[SiteState]:
        return [s for s in self.world.sites if s.spec.international_zone]

    def start(self) -> None:
        """Rule-driven raids and the clearing campaign (each does nothing unless configured)."""
        self._operate(self._routine_raids())
        self._operate(self._clearing_campaign())

    def _operate(self, operation: Generator[simpy.Event, None, None]) -> None:
        self._operations.append(self.world.env.process(operation))

    def observe(self, rec: Record) -> None:
        if rec.kind is ULTIMATUM:
            self.crackdown(
                self.world.scenario.policy.us.ultimatum.iraqi_raids,
                self.world.scenario.policy.us.ultimatum.deadline_days,
            )
        elif rec.kind is EMBASSY_CLOSED and self.posture is Posture.COOPERATING:
            self.posture = Posture.ENDED
            for operation in self._operations:
                if operation.is_alive:
                    operation.interrupt("cooperation ended")

    def on_warning(self, attack: str, shared: bool, u_ops: float) -> None:
        """A U.S. warning of an imminent attack: close the zone, and act on shared intelligence."""
        if not self.active():
            return
        if self.spec.iz_closure_on_warning:
            self.close_iz(self.spec.iz_closure_days)
        if shared and u_ops < self.spec.intel_ops_prob:
            self.world.ledger.record(IRAQI_OPERATION, None, attack, detail="on shared intelligence")
            self.militia.cut_capacity("iraqi operation", self.spec.ops_capacity_loss, self.spec.ops_effect_days)

    def close_iz(self, days: float) -> None:
        """Close parts of the zone for ``days`` (extending a closure already in force)."""
        now = self.world.env.now
        reopening = now + days
        if now < self.iz_closed_until:
            self.iz_closed_until = max(self.iz_closed_until, reopening)
            return
        self.iz_closed_until = reopening
        for site in self.iz_sites():
            site.launch_factors["iz_closure"] = self.spec.iz_launch_success
        self.world.ledger.record(IZ_CLOSED, detail=f"{days:g} days")
        self.world.env.process(self._reopen_iz())

    def _reopen_iz(self) -> Generator[simpy.Event, None, None]:
        env = self.world.env
        while env.now < self.iz_closed_until:
            yield env.timeout(self.iz_closed_until - env.now)
        for site in self.iz_sites():
            site.launch_factors.pop("iz_closure", None)
        self.world.ledger.record(IZ_REOPENED)

    def raid(self, reason: str) -> None:
        """Arrests: capacity lost for a while; detainees may be released, with backlash."""
        spec, world = self.spec, self.world
        rng = world.streams.fresh(f"raid-{self.raids}")
        self.raids += 1
        world.ledger.record(IRAQI_RAID, detail=reason)
        cut = self.militia.cut_capacity("raid", spec.raid_capacity_loss, spec.raid_effect_days)
        if rng.random() < spec.release_prob:
            world.env.process(self._release(cut, rng))

    def _release(self, cut: str, rng: np.random.Generator) -> Generator[simpy.Event, None, None]:
        world = self.world
        yield world.env.timeout(self.spec.release_days)
        self.militia.lift(cut)
        backlash = int(rng.poisson(self.spec.backlash_attacks_mean))
        world.ledger.record(DETAINEES_RELEASED, None, None, backlash)
        self.militia.extra_attacks(
            backlash, world.scenario.policy.us.strikes.revenge_decay_days, 0, rng, Origin.BACKLASH
        )

    def crackdown(self, raids: int, over_days: float) -> None:
        """Raids prompted by a U.S. ultimatum, spread evenly over ``over_days``."""
        for i in range(raids):
            self._operate(self._raid_later((i + 0.5) * over_days / max(raids, 1), "after the ultimatum"))

    def _raid_later(self, delay_d: float, reason: str) -> Generator[simpy.Event, None, None]:
        try:
            yield self.world.env.timeout(delay_d)
        except simpy.Interrupt:
            return
        self.raid(reason)

    def _routine_raids(self) -> Generator[simpy.Event, None, None]:
        """Rule-driven raids at ``raids_per_month`` from the policy start."""
        rate = self.spec.raids_per_month / DAYS_PER_MONTH
        if rate <= 0:
            return
        try:
            yield self.world.env.timeout(max(0.0, self.start_d - self.world.env.now))
            while True:
                yield self.world.env.timeout(self.rng.exponential(1.0 / rate))
                self.raid("routine")
        except simpy.Interrupt:
            return

    def _clearing_campaign(self) -> Generator[simpy.Event, None, None]:
        """Clear the zone neighbourhood by neighbourhood: launch success near the embassy
        falls in steps to 1 - clearing_max_reduction."""
        spec, env = self.spec, self.world.env
        if spec.clearing_neighbourhoods == 0:
            return
        start = self.world.calendar.day_of(spec.clearing_start) if spec.clearing_start else self.start_d
        try:
            yield env.timeout(max(0.0, start - env.now))
            for cleared in range(1, spec.clearing_neighbourhoods + 1):
                yield env.timeout(spec.clearing_days_per_neighbourhood)
                factor = 1.0 - spec.clearing_max_reduction * cleared / spec.clearing_neighbourhoods
                for site in self.iz_sites():
                    site.launch_factors["clearing"] = factor
                self.world.ledger.record(
                    NEIGHBOURHOOD_CLEARED, detail=f"{cleared} cleared: launch success x{factor:.2f}"
                )
        except simpy.Interrupt:
            return
