"""The scenario: frozen, validated parameters of one simulated world.

Every field names its unit; values live only in the TOML files under ``configs/``, each
with its unit and its source (a section of ``docs/sources.md``, "assumption" or a calibration). Loading and validation are
in :mod:`sim.config`; cross-field rules are the ``check`` methods here, which return a
list of ``(key, value, rule)`` problems relative to the section.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sim.config.calendar import Calendar
from sim.config.levers import HistoryEvent, MilitiaResponse, Policy
from sim.config.limits import HORIZON_DAYS
from sim.config.schema import (
    AT_LEAST_ONE,
    NAME,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    param,
)

Problem = tuple[str, object, str]


@functools.lru_cache(maxsize=256)
def salvo_size_pmf(mean_rockets: float, shape: float, max_rockets: int) -> tuple[float, ...]:
    """The size distribution of a harassment salvo: 1 + N rockets, N negative binomial with mean
    ``mean_rockets - 1`` and shape ``shape`` (variance m + m^2 / shape), cut at ``max_rockets``
    and renormalised. Entry i is the chance of i + 1 rockets. Computed once per parameter set
    (a scenario is frozen), so a salvo's draw is one walk along a short table."""
    extra = mean_rockets - 1.0
    if extra <= 0.0:
        return (1.0,) + (0.0,) * (max_rockets - 1)
    log_p, log_q = math.log(shape / (shape + extra)), math.log(extra / (shape + extra))
    weights = [
        math.exp(math.lgamma(n + shape) - math.lgamma(shape) - math.lgamma(n + 1) + shape * log_p + n * log_q)
        for n in range(max_rockets)
    ]
    total = sum(weights)
    return tuple(w / total for w in weights)


@dataclass(frozen=True)
class Meta:
    """Which world this is and over which dates it runs."""

    name: str = param("-", NAME)
    description: str = param("-")
    start_date: date = param("date")
    end_date: date = param("date")
    outcomes_from: date | None = param("date", default=None)

    def check(self) -> list[Problem]:
        if self.end_date <= self.start_date:
            return [("end_date", self.end_date, f"must be after start_date {self.start_date}")]
        if self.horizon_days > HORIZON_DAYS.most:
            return [
                (
                    "end_date",
                    self.end_date,
                    f"must be at most {HORIZON_DAYS.most:,} days after start_date "
                    f"{self.start_date} ({HORIZON_DAYS.reason})",
                )
            ]
        if self.outcomes_from is not None and not self.start_date <= self.outcomes_from <= self.end_date:
            return [("outcomes_from", self.outcomes_from, f"must be within {self.start_date} .. {self.end_date}")]
        return []

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.start_date, self.end_date, self.outcomes_from)

    @property
    def horizon_days(self) -> float:
        return float((self.end_date - self.start_date).days + 1)


@dataclass(frozen=True)
class Regime:
    """One state of the militias' campaign intensity (calm, active, surge, pause ...)."""

    multiplier: float = param("x base rate", NON_NEGATIVE)
    mean_duration_days: float = param("days", POSITIVE)
    duration_log_sd: float = param(
        "log days",
        NON_NEGATIVE,
        doc="0: exponential sojourns; above 0: lognormal sojourns with this log-sd and mean mean_duration_days, which have little mass at short times",
    )
    entry_weight: float = param(
        "relative weight", NON_NEGATIVE, doc="chance of entering this regime when another ends, relative to the others'"
    )


@dataclass(frozen=True)
class Campaign:
    """The attack-intensity process shared by all attack kinds.

    Intensity of kind k at time t = base_rate_per_day[k] x regime multiplier (a chain of
    regimes per kind, giving overdispersion) x relapse factor x policy factor, plus
    self-excitation: every attack triggers Poisson(branching_ratio) follow-up attacks of the
    same kind after exponential delays with mean ``excitation_decay_days`` (a Hawkes process).
    The ``pause_regime`` is a stop near zero: entered by chance like any regime, or sent to by
    a truce or a strike; while it lasts its multiplier holds back every attack the militias
    originate (follow-ups, revenge and backlash too), and after it attacks resume at
    ``relapse_fraction`` of their level, recovering over ``relapse_recovery_days``.
    """

    branching_ratio: float = param(
        "offspring per attack",
        PROBABILITY,
        doc="mean number of follow-up attacks each attack triggers (the Hawkes branching ratio)",
    )
    excitation_decay_days: float = param("days", POSITIVE, doc="mean delay of a follow-up attack")
    regimes: Mapping[str, Regime] = param("table of regimes")
    pause_regime: str = param(
        "-", NAME, doc="the regime of a stop near zero, which truces and strikes can send a campaign into"
    )
    relapse_fraction: float = param(
        "fraction of the level", PROBABILITY, doc="share of their level attacks resume at when a pause ends"
    )
    relapse_recovery_days: float = param(
        "days",
        POSITIVE,
        doc="days over which attacks recover from the relapse to their full level (linearly, in daily steps)",
    )

    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.regimes and self.pause_regime not in self.regimes:
            problems.append(
                ("pause_regime", self.pause_regime, f"must name one of the regimes ({', '.join(self.regimes)})")
            )
        if self.branching_ratio >= 1.0:
            problems.append(("branching_ratio", self.branching_ratio, "must be < 1 (a stable process)"))
        if not self.regimes:
            problems.append(("regimes", {}, "must name at least one regime"))
        elif sum(r.entry_weight for r in self.regimes.values()) <= 0:
            problems.append(("regimes", "entry_weight", "must have a positive entry_weight somewhere"))
        return problems


@dataclass(frozen=True)
class RocketThreat:
    """107 mm rocket salvos fired at a site."""

    base_rate_per_day: float = param("salvos/day", NON_NEGATIVE)
    harassment_mean_rockets: float = param(
        "rockets",
        AT_LEAST_ONE,
        doc="mean rockets in a harassment salvo, before the cut at harassment_max_rockets: 1 + a negative binomial count",
    )
    harassment_size_shape: float = param(
        "-",
        POSITIVE,
        doc="shape (dispersion) of the negative binomial part of a harassment salvo's size: small values give mostly single rockets and a long tail of salvos of 6 or more, large values sizes close to the mean",
    )
    harassment_max_rockets: int = param(
        "rockets", AT_LEAST_ONE, doc="the largest harassment salvo; larger ones are heavy salvos"
    )
    heavy_salvo_prob: float = param("probability", PROBABILITY)
    heavy_salvo_min: int = param("rockets", AT_LEAST_ONE)
    heavy_salvo_max: int = param("rockets", AT_LEAST_ONE)
    launch_failure_prob: float = param("probability", PROBABILITY, doc="probability a loaded rocket fails to launch")
    dud_prob: float = param("probability", PROBABILITY, doc="probability a launched rocket does not explode")
    launch_spacing_s: float = param("seconds", NON_NEGATIVE, doc="time between the launches of one salvo")
    flight_time_s: float = param("seconds", POSITIVE)
    inside_perimeter_prob: float = param("probability", PROBABILITY)

    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.heavy_salvo_max < self.heavy_salvo_min:
            problems.append(("heavy_salvo_max", self.heavy_salvo_max, "must be >= heavy_salvo_min"))
        return problems

    @property
    def harassment_size_pmf(self) -> tuple[float, ...]:
        """Chance that a harassment salvo has 1, 2, ..., ``harassment_max_rockets`` rockets."""
        return salvo_size_pmf(self.harassment_mean_rockets, self.harassment_size_shape, self.harassment_max_rockets)

    @property
    def mean_salvo_size(self) -> float:
        """Expected rockets per salvo under the two-part size distribution."""
        harassment = sum((i + 1) * p for i, p in enumerate(self.harassment_size_pmf))
        heavy = (self.heavy_salvo_min + self.heavy_salvo_max) / 2.0
        return (1 - self.heavy_salvo_prob) * harassment + self.heavy_salvo_prob * heavy


@dataclass(frozen=True)
class DroneThreat:
    """One-way attack drones carrying a mortar-sized bomb."""

    base_rate_per_day: float = param("attacks/day", NON_NEGATIVE)
    drones_per_attack: int = param("drones", AT_LEAST_ONE)
    flight_time_s: float = param("seconds", POSITIVE)
    inside_perimeter_prob: float = param("probability", PROBABILITY)


@dataclass(frozen=True)
class ConvoyThreat:
    """Roadside bombs (IEDs, EFPs) against Iraqi-driven logistics convoys."""

    base_rate_per_day: float = param("attacks/day", NON_NEGATIVE)
    hit_prob_initial: float = param(
        "probability",
        PROBABILITY,
        doc="probability an attack damages a truck at the start of the run (1 Jan 2020 in the baseline)",
    )
    hit_prob_growth_per_year: float = param(
        "probability/year", NON_NEGATIVE, doc="yearly growth of the hit probability as triggers and charges improve"
    )
    hit_prob_max: float = param("probability", PROBABILITY)
    extra_truck_prob: float = param(
        "probability per further truck",
        PROBABILITY,
        doc="probability each further truck of the convoy is hit (daisy-chained charges)",
    )
    driver_casualty_prob: float = param(
        "probability per damaged truck", PROBABILITY, doc="probability the Iraqi driver of a damaged truck is hurt"
    )

    def check(self) -> list[Problem]:
        if self.hit_prob_max < self.hit_prob_initial:
            return [("hit_prob_max", self.hit_prob_max, "must be >= hit_prob_initial")]
        return []

    def hit_prob(self, years_elapsed: float) -> float:
        """Chance that an attack damages a truck, growing as triggers and EFPs improve."""
        return min(self.hit_prob_max, self.hit_prob_initial + self.hit_prob_growth_per_year * years_elapsed)


@dataclass(frozen=True)
class SecurityDetailThreat:
    """Roadside bombs against foreign diplomatic or contractor security details."""

    base_rate_per_day: float = param("attacks/day", NON_NEGATIVE)
    casualties_mean: float = param("casualties/attack", NON_NEGATIVE)


@dataclass(frozen=True)
class Threats:
    rocket: RocketThreat = param("section")
    drone: DroneThreat = param("section")
    convoy_ied: ConvoyThreat = param("section")
    security_detail_ied: SecurityDetailThreat = param("section")


@dataclass(frozen=True)
class CRam:
    """Counter-rocket, artillery and mortar defence; per-site mounts are in ``sites``."""

    detection_delay_s: float = param("seconds", NON_NEGATIVE, doc="time from launch to a firing solution")
    engage_prob: float = param("probability", PROBABILITY, doc="probability a threatening round is engaged")
    kill_prob: float = param("probability", PROBABILITY, doc="probability an engaged rocket is destroyed")
    engagement_time_s: float = param("seconds", POSITIVE, doc="time a fire unit is busy per engagement")
    rounds_per_engagement: int = param("rounds", AT_LEAST_ONE)
    magazine_rounds: int = param("rounds", AT_LEAST_ONE, doc="rounds in one site's magazine")
    reload_below_rounds: int = param("rounds", NON_NEGATIVE, doc="a reload starts when fewer rounds remain")
    reload_time_h: float = param("hours", NON_NEGATIVE)
    drone_engage_prob: float = param("probability", PROBABILITY, doc="probability a threatening drone is engaged")
    drone_kill_prob: float = param("probability", PROBABILITY, doc="probability an engaged drone is destroyed")
    drone_debris_harm_prob: float = param(
        "probability", PROBABILITY, doc="probability a downed drone's debris does harm"
    )
    stray_round_prob: float = param(
        "probability per engagement",
        PROBABILITY,
        doc="probability an engagement scatters stray rounds or debris over the city",
    )

    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.rounds_per_engagement > self.magazine_rounds:
            problems.append(("rounds_per_engagement", self.rounds_per_engagement, "must be <= magazine_rounds"))
        if self.reload_below_rounds > self.magazine_rounds:
            problems.append(("reload_below_rounds", self.reload_below_rounds, "must be <= magazine_rounds"))
        return problems


@dataclass(frozen=True)
class Damage:
    """Casualties from impacts: U.S./coalition inside perimeters, Iraqi civilians outside."""

    us_killed_per_impact: float = param(
        "killed per unprotected impact",
        NON_NEGATIVE,
        doc="U.S./coalition killed per impact inside the perimeter with no protection; scaled by the site's exposure",
    )
    us_wounded_per_impact: float = param(
        "wounded per unprotected impact",
        NON_NEGATIVE,
        doc="U.S./coalition wounded per impact inside the perimeter with no protection; scaled by the site's exposure",
    )
    harassment_casualty_factor: float = param(
        "x heavy-salvo impact",
        PROBABILITY,
        doc="casualties of an impact of a harassment salvo (1-6 rockets) as a multiple of an impact of a heavy salvo: after the first alarm people are under cover, and harassment fire is loosely aimed",
    )
    drone_lethality_factor: float = param(
        "x rocket", NON_NEGATIVE, doc="lethality of a drone impact as a multiple of a heavy-salvo rocket impact"
    )
    debris_wounded_mean: float = param("wounded per debris incident", NON_NEGATIVE)
    warned_exposure: float = param(
        "fraction exposed with sense-and-warn",
        PROBABILITY,
        doc="fraction of exposure left when sense-and-warn sends people to cover",
    )
    alert_exposure: float = param(
        "fraction exposed on alert",
        PROBABILITY,
        doc="fraction of exposure left on raised alert after an attack on the site",
    )
    alert_duration_days: float = param("days", NON_NEGATIVE)
    civilian_casualties_per_impact: float = param(
        "casualties per populated-area impact",
        NON_NEGATIVE,
        doc="mean Iraqi civilian casualties per rocket landing in a populated area",
    )
    stray_round_casualties_mean: float = param(
        "casualties per stray-round incident",
        NON_NEGATIVE,
        doc="mean Iraqi civilian casualties when C-RAM stray rounds or intercept debris fall on the city",
    )


@dataclass(frozen=True)
class Convoys:
    """The logistics convoy schedule; routes lie outside any C-RAM umbrella."""

    departures_per_day: float = param("convoys/day", POSITIVE)
    trip_duration_h: float = param("hours", POSITIVE, doc="hours on the road")
    trucks_per_convoy: int = param("trucks", AT_LEAST_ONE)


@dataclass(frozen=True)
class Site:
    """A U.S./coalition site: a target with personnel, hardening and perhaps a C-RAM battery."""

    label: str = param("-")
    personnel: int = param("people", NON_NEGATIVE)
    hardening: float = param(
        "fraction of exposure removed",
        PROBABILITY,
        doc="share of the personnel's exposure removed by shelters and hardening",
    )
    rocket_weight: float = param("relative target weight", NON_NEGATIVE)
    drone_weight: float = param("relative target weight", NON_NEGATIVE)
    civilian_exposure: float = param("probability", PROBABILITY, doc="probability a miss lands among civilians")
    international_zone: bool = param("-")
    cram_fire_units: int = param("fire units", NON_NEGATIVE)
    open_from: date | None = param("date", default=None)
    close_on: date | None = param("date", default=None)
    cram_from: date | None = param("date", default=None)

    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.open_from and self.close_on and self.close_on <= self.open_from:
            problems.append(("close_on", self.close_on, f"must be after open_from {self.open_from}"))
        if self.cram_from is not None and self.cram_fire_units == 0:
            problems.append(("cram_fire_units", 0, "must be >= 1 when cram_from is set"))
        return problems


@dataclass(frozen=True)
class Scenario:
    """A whole world: dates, militia campaign, threats, defences, damage, convoys and sites."""

    scenario: Meta = param("section")
    campaign: Campaign = param("section")
    threats: Threats = param("section")
    cram: CRam = param("section")
    damage: Damage = param("section")
    convoys: Convoys = param("section")
    sites: Mapping[str, Site] = param("table of sites")
    policy: Policy = param("section")
    militia: MilitiaResponse = param("section")
    history: Mapping[str, HistoryEvent] = param("table of dated events")

    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        if not self.sites:
            problems.append(("sites", {}, "must name at least one site"))
        if self.policy.embassy_site not in self.sites:
            problems.append(("policy.embassy_site", self.policy.embassy_site, "must name one of the sites"))
        return problems
