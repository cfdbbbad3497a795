"""Sites: the targets. Each opens and closes on its dates, may gain a C-RAM battery,
raises its alert after an attack, and exposes its personnel to impacts inside its perimeter."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Generator, Sequence

import simpy

from sim.model.cram import CRamBattery
from sim.model.records import Kind
from sim.config.scenario import Site

if TYPE_CHECKING:
    from sim.model.world import World


class SiteState:
    """A site during one replication: open or closed, defended or not, on alert or not."""

    def __init__(self, world: "World", name: str, spec: Site) -> None:
        self.world = world
        self.name = name
        self.spec = spec
        cal = world.calendar
        self.is_open = spec.open_from is None or cal.day_of(spec.open_from) <= 0
        self.cram_online = spec.cram_from is not None and cal.day_of(spec.cram_from) <= 0
        self.battery = CRamBattery(world, name, spec.cram_fire_units, world.scenario.cram) if spec.cram_fire_units else None
        self.staffing = 1.0  # share of ``personnel`` present; force-posture policies lower it
        self.last_attack_d: float | None = None
        self.launch_factors: dict[str, float] = {}  # Iraqi measures that hinder launches nearby

    @property
    def launch_success(self) -> float:
        """Factor on the chance that a rocket aimed here leaves its rail (1 = unhindered)."""
        return math.prod(self.launch_factors.values())

    @property
    def defended(self) -> bool:
        """True while a C-RAM battery is online at this open site."""
        return self.is_open and self.cram_online and self.battery is not None

    def exposure(self, on_alert: bool) -> float:
        """Share of an unprotected impact's casualties that this site would suffer now:
        hardening, sense-and-warn (with C-RAM), raised alert and staffing."""
        spec = self.world.scenario.damage
        exposure = (1.0 - self.spec.hardening) * self.staffing
        if self.defended:
            exposure *= spec.warned_exposure
        if on_alert:
            exposure *= spec.alert_exposure
        return exposure

    def on_alert(self, now: float) -> bool:
        """True if an earlier attack on this site was within ``alert_duration_days``."""
        last = self.last_attack_d
        return last is not None and now - last <= self.world.scenario.damage.alert_duration_days

    def attacked(self, now: float) -> None:
        """Raise the alert: attacks within ``alert_duration_days`` find people readier for cover."""
        self.last_attack_d = now

    def close(self, reason: str = "") -> None:
        """Hand over or evacuate: no longer a target, its C-RAM leaves with it."""
        if self.is_open:
            self.is_open = False
            self.staffing = 0.0
            self.world.ledger.record(self.world.env.now, Kind.SITE_CLOSED, self.name, None, 1, reason)


def site_calendar(world: "World", site: SiteState) -> Generator[simpy.Event, None, None]:
    """Open, arm and close a site on its configured dates."""
    cal, spec = world.calendar, site.spec
    dated = []
    if spec.open_from is not None and cal.day_of(spec.open_from) > 0:
        dated.append((cal.day_of(spec.open_from), "open"))
    if spec.cram_from is not None and cal.day_of(spec.cram_from) > 0:
        dated.append((cal.day_of(spec.cram_from), "cram"))
    if spec.close_on is not None:
        dated.append((max(0.0, cal.day_of(spec.close_on)), "close"))
    order = {"open": 0, "cram": 1, "close": 2}  # on one day: open, then arm, then close
    for when, what in sorted(dated, key=lambda d: (d[0], order[d[1]])):
        yield world.env.timeout(when - world.env.now)
        if what == "open" and world.washington.withdrawing:
            continue
        if what == "open":
            site.is_open = True
            site.cram_online = spec.cram_from is not None and cal.day_of(spec.cram_from) <= world.env.now
            world.ledger.record(world.env.now, Kind.SITE_OPENED, site.name)
        elif what == "cram" and site.is_open:
            site.cram_online = True
            world.ledger.record(world.env.now, Kind.CRAM_ONLINE, site.name, None, spec.cram_fire_units)
        elif what == "close":
            site.close("handed over")


def choose_target(sites: Sequence[SiteState], weight_of: str, u: float) -> SiteState | None:
    """Pick an open site in proportion to its ``weight_of`` weight, by inverse CDF of ``u``;
    None when no open site has a positive weight."""
    candidates = [(s, getattr(s.spec, weight_of)) for s in sites if s.is_open]
    total = sum(w for _, w in candidates)
    if total <= 0:
        return None
    threshold = u * total
    for site, weight in candidates:
        threshold -= weight
        if threshold < 0 and weight > 0:
            return site
    return next(s for s, w in reversed(candidates) if w > 0)
