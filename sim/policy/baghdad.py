"""Baghdad: the Iraqi government's measures against the militias (seed 001).

Closing and reinforcing parts of the International Zone on U.S. warnings lowers launch
success near the embassy for a window; raids and arrests cut militia capacity for a while,
with a chance of release and backlash; a clearing campaign takes the zone neighbourhood by
neighbourhood; operations follow intelligence the U.S. shares. All of it stops when the
embassy closes and cooperation ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import simpy

from sim.config.calendar import DAYS_PER_MONTH
from sim.model.records import Kind

if TYPE_CHECKING:
    from sim.model.world import World



class Baghdad:
    """The Iraqi government as one actor."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self.spec = world.scenario.policy.iraq
        self.start_d = world.calendar.day_of(world.scenario.policy.start_date)
        self.cooperating = True
        self.iz_closed_until = -1.0
        self.raids = 0
        self.rng = world.streams.get("baghdad")

    def active(self) -> bool:
        return self.cooperating and self.world.env.now >= self.start_d

    def iz_sites(self):
        return [s for s in self.world.site_list if s.spec.international_zone]

    def on_warning(self, attack: str, shared: bool, u_ops: float) -> None:
        """A U.S. warning of an imminent attack: close the zone, and act on shared intelligence."""
        if not self.active():
            return
        if self.spec.iz_closure_on_warning:
            self.close_iz(self.spec.iz_closure_days)
        if shared and u_ops < self.spec.intel_ops_prob:
            self.world.ledger.record(self.world.env.now, Kind.IRAQI_OPERATION, None, attack, 1, "on shared intelligence")
            self.world.militia.cut_capacity("iraqi operation", self.spec.ops_capacity_loss, self.spec.ops_effect_days)

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
        self.world.ledger.record(now, Kind.IZ_CLOSED, None, None, 1, f"{days:g} days")
        self.world.env.process(self._reopen_iz())

    def _reopen_iz(self) -> Generator[simpy.Event, None, None]:
        env = self.world.env
        while env.now < self.iz_closed_until:
            yield env.timeout(self.iz_closed_until - env.now)
        for site in self.iz_sites():
            site.launch_factors.pop("iz_closure", None)
        self.world.ledger.record(env.now, Kind.IZ_REOPENED)

    def raid(self, reason: str) -> None:
        """Arrests: capacity lost for a while; detainees may be released, with backlash."""
        spec, world = self.spec, self.world
        rng = world.streams.fresh("raid", self.raids)
        self.raids += 1
        world.ledger.record(world.env.now, Kind.IRAQI_RAID, None, None, 1, reason)
        cut = world.militia.cut_capacity("raid", spec.raid_capacity_loss, spec.raid_effect_days)
        if rng.random() < spec.release_prob:
            world.env.process(self._release(cut, rng))

    def _release(self, cut: str, rng) -> Generator[simpy.Event, None, None]:
        world = self.world
        yield world.env.timeout(self.spec.release_days)
        world.militia.lift(cut)
        backlash = int(rng.poisson(self.spec.backlash_attacks_mean))
        world.ledger.record(world.env.now, Kind.DETAINEES_RELEASED, None, None, backlash)
        world.militia.extra_attacks(backlash, world.scenario.policy.us.strikes.revenge_decay_days, 0, rng, "backlash")

    def crackdown(self, raids: int, over_days: float) -> None:
        """Raids prompted by a U.S. ultimatum, spread evenly over ``over_days``."""
        for i in range(raids):
            self.world.env.process(self._raid_later((i + 0.5) * over_days / max(raids, 1), "after the ultimatum"))

    def _raid_later(self, delay_d: float, reason: str) -> Generator[simpy.Event, None, None]:
        yield self.world.env.timeout(delay_d)
        if self.cooperating:
            self.raid(reason)

    def raids_process(self) -> Generator[simpy.Event, None, None]:
        """Rule-driven raids at ``raids_per_month`` from the policy start."""
        rate = self.spec.raids_per_month / DAYS_PER_MONTH
        if rate <= 0:
            return
        yield self.world.env.timeout(max(0.0, self.start_d - self.world.env.now))
        while self.cooperating:
            yield self.world.env.timeout(self.rng.exponential(1.0 / rate))
            if self.cooperating:
                self.raid("routine")

    def clearing_campaign(self) -> Generator[simpy.Event, None, None]:
        """Clear the zone neighbourhood by neighbourhood: launch success near the embassy
        falls in steps to 1 - clearing_max_reduction."""
        spec, env = self.spec, self.world.env
        if spec.clearing_neighbourhoods == 0:
            return
        start = self.world.calendar.day_of(spec.clearing_start) if spec.clearing_start else self.start_d
        yield env.timeout(max(0.0, start - env.now))
        for cleared in range(1, spec.clearing_neighbourhoods + 1):
            yield env.timeout(spec.clearing_days_per_neighbourhood)
            if not self.cooperating:
                return
            factor = 1.0 - spec.clearing_max_reduction * cleared / spec.clearing_neighbourhoods
            for site in self.iz_sites():
                site.launch_factors["clearing"] = factor
            self.world.ledger.record(env.now, Kind.NEIGHBOURHOOD_CLEARED, None, None, cleared, f"launch success x{factor:.2f}")
