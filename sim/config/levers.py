"""Policy levers of Washington and Baghdad, the militias' reactions, and dated history.

Rule-driven responses act from ``policy.start_date``; dated ``history`` events happen on
their dates whatever the doctrine. Every lever is a scenario parameter (see
``configs/baseline.toml`` for units and sources); scenario files under
``configs/scenarios/`` override them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from sim.config.schema import (
    AT_LEAST_ONE,
    NAME,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    one_of,
    param,
)

Problem = tuple[str, object, str]

DOCTRINES = ("continuity", "tougher_love", "separation")
HISTORY_EVENTS = ("us_strike", "iraqi_raid", "ultimatum", "troop_reduction", "embassy_closure")


@dataclass(frozen=True)
class Doctrine:
    """What one U.S. doctrine does (seed 002: continuity, tougher love, separation)."""

    retaliate_on_lethal: bool = param("-")
    retaliate_on_inside_impact: bool = param("-")
    retaliate_on_heavy_salvo: bool = param("-")
    retaliate_on_attack_count: int = param("attacks in window; 0 = never", NON_NEGATIVE)
    attack_count_window_days: float = param("days", POSITIVE)
    decision_delay_days: float = param("days", NON_NEGATIVE)
    strike_cooldown_days: float = param("days", NON_NEGATIVE)
    preempt_on_warning: bool = param("-")
    acceptable_collateral_risk: float = param("probability", PROBABILITY, doc="pre-empt only when a strike's collateral-damage risk is below this")
    sanctions: bool = param("-")
    share_intelligence: bool = param("-")
    close_embassy_on_attacks: int = param("attacks on the embassy in window; 0 = never", NON_NEGATIVE)


@dataclass(frozen=True)
class Strikes:
    """Effects of a U.S. strike on militia capacity and motivation, and on civilians."""

    capacity_loss: float = param("fraction of capacity", PROBABILITY)
    capacity_recovery_days: float = param("days", NON_NEGATIVE)
    revenge_prob: float = param("probability", PROBABILITY)
    revenge_attacks_mean: float = param("attacks", NON_NEGATIVE)
    revenge_decay_days: float = param("days", POSITIVE)
    civilian_casualties_mean: float = param("casualties/strike", NON_NEGATIVE)


@dataclass(frozen=True)
class Preemption:
    """Intelligence warnings of imminent attacks, and strikes to pre-empt them (seed 002)."""

    warning_prob: float = param("probability an attack is preceded by a warning", PROBABILITY)
    warning_lead_h: float = param("hours", NON_NEGATIVE)
    strike_collateral_risk_max: float = param("probability", PROBABILITY, doc="a pre-emptive strike's collateral-damage risk is uniform on [0, this]")
    prevent_prob: float = param("probability", PROBABILITY)


@dataclass(frozen=True)
class Sanctions:
    capacity_loss_per_month: float = param("fraction/month", PROBABILITY)
    max_capacity_loss: float = param("fraction", PROBABILITY)


@dataclass(frozen=True)
class Ultimatum:
    """The threat to close the embassy (seed 001) and what follows it."""

    enabled: bool = param("-")
    trigger_attacks: int = param("attacks in window", AT_LEAST_ONE)
    trigger_window_days: float = param("days", POSITIVE)
    deadline_days: float = param("days", POSITIVE)
    truce_prob: float = param("probability", PROBABILITY)
    truce_mean_days: float = param("days", POSITIVE)
    truce_intensity_factor: float = param("x intensity during a truce", PROBABILITY)
    iraqi_raids: int = param("raids prompted", NON_NEGATIVE)
    closure_attacks: int = param("attacks before the deadline; 0 = never close", NON_NEGATIVE)


@dataclass(frozen=True)
class Closure:
    """Evacuating the embassy, then the other sites."""

    evacuation_days: float = param("days", NON_NEGATIVE)
    other_sites_after_days: float = param("days", NON_NEGATIVE)
    site_interval_days: float = param("days", NON_NEGATIVE)


@dataclass(frozen=True)
class UsPolicy:
    doctrine: str = param("-", one_of(*DOCTRINES))
    doctrines: Mapping[str, Doctrine] = param("table of doctrines")
    strikes: Strikes = param("section")
    preemption: Preemption = param("section")
    sanctions: Sanctions = param("section")
    ultimatum: Ultimatum = param("section")
    closure: Closure = param("section")

    def check(self) -> list[Problem]:
        missing = [d for d in DOCTRINES if d not in self.doctrines]
        return [("doctrines", ", ".join(missing), "must define every doctrine")] if missing else []

    @property
    def levers(self) -> Doctrine:
        return self.doctrines[self.doctrine]


@dataclass(frozen=True)
class IraqiPolicy:
    """Baghdad's measures (seed 001): International Zone closures, raids, clearing, operations."""

    iz_closure_on_warning: bool = param("-")
    iz_closure_days: float = param("days", NON_NEGATIVE)
    iz_launch_success: float = param("x launch success during a closure", PROBABILITY)
    raids_per_month: float = param("raids/month", NON_NEGATIVE)
    raid_capacity_loss: float = param("fraction of capacity", PROBABILITY)
    raid_effect_days: float = param("days", NON_NEGATIVE)
    release_prob: float = param("probability", PROBABILITY)
    release_days: float = param("days", NON_NEGATIVE)
    backlash_attacks_mean: float = param("attacks", NON_NEGATIVE)
    clearing_neighbourhoods: int = param("neighbourhoods", NON_NEGATIVE)
    clearing_days_per_neighbourhood: float = param("days", POSITIVE)
    clearing_max_reduction: float = param("fraction of launch success", PROBABILITY)
    intel_ops_prob: float = param("probability per shared warning", PROBABILITY)
    ops_capacity_loss: float = param("fraction of capacity", PROBABILITY)
    ops_effect_days: float = param("days", NON_NEGATIVE)
    clearing_start: date | None = param("date", default=None)


@dataclass(frozen=True)
class MilitiaResponse:
    """Tactic shifts and escalation of severity (DOMAIN.md; Clauset and Young)."""

    drone_growth_per_year: float = param("relative growth/year", NON_NEGATIVE)
    escalation_heavy_boost: float = param("x heavy_salvo_prob", NON_NEGATIVE)
    escalation_days: float = param("days", NON_NEGATIVE)


@dataclass(frozen=True)
class Policy:
    start_date: date = param("date")
    embassy_site: str = param("-", NAME)
    us: UsPolicy = param("section")
    iraq: IraqiPolicy = param("section")


@dataclass(frozen=True)
class HistoryEvent:
    """A dated event of the baseline timeline (DOMAIN.md policy events)."""

    date: date = param("date")
    event: str = param("-", one_of(*HISTORY_EVENTS))
    value: float | None = param("share of personnel kept (troop_reduction)", PROBABILITY, default=None)

    def check(self) -> list[Problem]:
        if self.event == "troop_reduction" and self.value is None:
            return [("value", None, "is required for a troop_reduction")]
        return []
