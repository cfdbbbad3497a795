"""Sites: the targets. Each opens and closes on its dates, may gain a C-RAM battery,
raises its alert after an attack, and exposes its personnel to impacts inside its perimeter."""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator

import simpy

from sim.config.scenario import Scenario, Site
from sim.model.cram import CRamBattery
from sim.model.draws import pick_weighted
from sim.model.records import Ledger, record_kind

SITE_OPENED = record_kind("site_opened", "a site opens")
SITE_CLOSED = record_kind("site_closed", "a site is handed over or evacuated (detail: why)")
CRAM_ONLINE = record_kind("cram_online", "a site's C-RAM battery comes online; count = fire units")
NO_TARGET = record_kind("no_target", "an attack found no open site to aim at and was called off (detail: the threat)")


class SiteState:
    """A site during one replication: open or closed, defended or not, on alert or not."""

    def __init__(self, name: str, spec: Site, scenario: Scenario, env: simpy.Environment, ledger: Ledger) -> None:
        self.name, self.spec, self.env, self.ledger = name, spec, env, ledger
        self.damage = scenario.damage
        cal = scenario.scenario.calendar
        self.is_open = spec.open_from is None or cal.day_of(spec.open_from) <= 0
        self.cram_online = spec.cram_from is not None and cal.day_of(spec.cram_from) <= 0
        self.battery = (
            CRamBattery(env, ledger, name, spec.cram_fire_units, scenario.cram) if spec.cram_fire_units else None
        )
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
        exposure = (1.0 - self.spec.hardening) * self.staffing
        if self.defended:
            exposure *= self.damage.warned_exposure
        if on_alert:
            exposure *= self.damage.alert_exposure
        return exposure

    def on_alert(self, now: float) -> bool:
        """True if an earlier attack on this site was within ``alert_duration_days``."""
        last = self.last_attack_d
        return last is not None and now - last <= self.damage.alert_duration_days

    def attacked(self, now: float) -> None:
        """Raise the alert: attacks within ``alert_duration_days`` find people readier for cover."""
        self.last_attack_d = now

    def close(self, reason: str = "") -> None:
        """Hand over or evacuate: no longer a target, its C-RAM leaves with it."""
        if self.is_open:
            self.is_open = False
            self.staffing = 0.0
            self.ledger.record(SITE_CLOSED, self.name, None, 1, detail=reason)


class Sites:
    """Every site of the run, with the calendar that opens, arms and closes them."""

    def __init__(self, scenario: Scenario, env: simpy.Environment, ledger: Ledger) -> None:
        self.env, self.ledger, self.calendar = env, ledger, scenario.scenario.calendar
        self.by_name = {name: SiteState(name, spec, scenario, env, ledger) for name, spec in scenario.sites.items()}
        self.all = list(self.by_name.values())
        self._calendars: list[tuple[SiteState, simpy.Process]] = []

    def __getitem__(self, name: str) -> SiteState:
        return self.by_name[name]

    def __iter__(self) -> Iterator[SiteState]:
        return iter(self.all)

    def choose_target(self, weight_of: str, u: float) -> SiteState | None:
        """An open site picked in proportion to its ``weight_of`` weight by the uniform ``u``;
        None when no open site has a positive weight."""
        candidates = [s for s in self.all if s.is_open]
        index = pick_weighted([getattr(s.spec, weight_of) for s in candidates], u)
        return None if index is None else candidates[index]

    def start_calendars(self) -> None:
        self._calendars = [(site, self.env.process(self._calendar(site))) for site in self.all]

    def stop_openings(self) -> None:
        """Withdrawal: sites not open now never open (their calendars are interrupted)."""
        for site, calendar in self._calendars:
            if not site.is_open and calendar.is_alive:
                calendar.interrupt("withdrawal")

    def _calendar(self, site: SiteState) -> Generator[simpy.Event, None, None]:
        """Open, arm and close a site on its configured dates."""
        cal, spec, env = self.calendar, site.spec, self.env
        dated = []
        if spec.open_from is not None and cal.day_of(spec.open_from) > 0:
            dated.append((cal.day_of(spec.open_from), "open"))
        if spec.cram_from is not None and cal.day_of(spec.cram_from) > 0:
            dated.append((cal.day_of(spec.cram_from), "cram"))
        if spec.close_on is not None:
            dated.append((max(0.0, cal.day_of(spec.close_on)), "close"))
        order = {"open": 0, "cram": 1, "close": 2}  # on one day: open, then arm, then close
        try:
            for when, what in sorted(dated, key=lambda d: (d[0], order[d[1]])):
                yield env.timeout(when - env.now)
                if what == "open":
                    site.is_open = True
                    site.cram_online = spec.cram_from is not None and cal.day_of(spec.cram_from) <= env.now
                    self.ledger.record(SITE_OPENED, site.name)
                elif what == "cram" and site.is_open:
                    site.cram_online = True
                    self.ledger.record(CRAM_ONLINE, site.name, None, spec.cram_fire_units)
                elif what == "close":
                    site.close("handed over")
        except simpy.Interrupt:
            return  # a withdrawal: what was left (opening, arming or closing a shut site) does nothing
