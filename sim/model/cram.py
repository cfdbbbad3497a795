"""C-RAM: a site's counter-rocket battery, with fire units and a magazine.

Fire units are a SimPy ``Resource``; the magazine is a ``Container`` of rounds. A round is
engaged only if a fire unit becomes free before the round's impact time
(``yield request | env.timeout(time_left)``), so a large salvo can saturate a battery; an
engagement keeps its unit busy for ``engagement_time_s`` while the round flies on.
"""

from __future__ import annotations

from collections.abc import Generator
from enum import Enum

import simpy

from sim.config.calendar import hours, seconds
from sim.config.scenario import CRam
from sim.model.records import Ledger, record_kind
from sim.model.schedule import after

SATURATED = record_kind("saturated", "a threatening round found no free fire unit before impact")
MAGAZINE_EMPTY = record_kind("magazine_empty", "a free fire unit had too few rounds for a burst")
MAGAZINE_RELOADED = record_kind("magazine_reloaded", "a battery's magazine was refilled; count = rounds loaded")


class Engagement(Enum):
    """How a threatening round fared against the battery."""

    ENGAGED = "engaged"
    SATURATED = "saturated"  # no fire unit free before impact
    NO_ROUNDS = "no_rounds"  # a unit was free but the magazine was short


class CRamBattery:
    """The fire units and magazine of one defended site."""

    def __init__(self, env: simpy.Environment, ledger: Ledger, site: str, fire_units: int, spec: CRam) -> None:
        self.env, self.ledger, self.site, self.spec = env, ledger, site, spec
        self.units = simpy.Resource(env, capacity=fire_units)
        self.magazine = simpy.Container(env, capacity=spec.magazine_rounds, init=spec.magazine_rounds)
        self.lowest_level = spec.magazine_rounds
        self._reloading = False

    def engage(self, impact_at: float, attack: str) -> Generator[simpy.Event, object, Engagement]:
        """Wait for a free fire unit until ``impact_at``; on success fire a burst and keep
        the unit busy for the engagement time. Used as ``yield from battery.engage(...)``."""
        env = self.env
        time_left = impact_at - env.now
        if time_left <= 0:
            self.ledger.record(SATURATED, self.site, attack)
            return Engagement.SATURATED
        request = self.units.request()
        if request.triggered:  # a unit is free: no deadline to wait on
            yield request
        else:
            granted = yield request | env.timeout(time_left)
            if request not in granted:
                request.cancel()
                self.ledger.record(SATURATED, self.site, attack)
                return Engagement.SATURATED
        if self.magazine.level < self.spec.rounds_per_engagement:
            self.units.release(request)
            self.ledger.record(MAGAZINE_EMPTY, self.site, attack)
            self._maybe_reload()
            return Engagement.NO_ROUNDS
        self.magazine.get(self.spec.rounds_per_engagement)  # there are enough rounds: it cannot wait, so no yield
        self.lowest_level = min(self.lowest_level, self.magazine.level)
        after(env, seconds(self.spec.engagement_time_s), self.units.release, request)  # the unit is busy meanwhile
        self._maybe_reload()
        return Engagement.ENGAGED

    def _maybe_reload(self) -> None:
        """Start a reload when the magazine is below its threshold or too low for a burst."""
        level = self.magazine.level
        if not self._reloading and (level < self.spec.reload_below_rounds or level < self.spec.rounds_per_engagement):
            self._reloading = True
            self.env.process(self._reload())

    def _reload(self) -> Generator[simpy.Event, None, None]:
        yield self.env.timeout(hours(self.spec.reload_time_h))
        missing = self.magazine.capacity - self.magazine.level
        if missing > 0:
            yield self.magazine.put(missing)
        self._reloading = False
        self.ledger.record(MAGAZINE_RELOADED, self.site, None, int(missing))
