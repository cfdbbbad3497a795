"""Policy levers of Washington and Baghdad, the militias' reactions, and dated history.

Rule-driven responses act from ``policy.start_date``; dated ``history`` events happen on
their dates whatever the doctrine. Every lever is a scenario parameter (see
``configs/baseline.toml`` for units and sources); scenario files under
``configs/scenarios/`` override them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sim.config.schema import (
    AT_LEAST_ONE,
    NAME,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    in_range,
    one_of,
    param,
)

Problem = tuple[str, object, str]

DOCTRINES = ("continuity", "tougher_love", "separation")
HISTORY_EVENTS = (
    "us_strike",
    "iraqi_raid",
    "ultimatum",
    "truce",
    "troop_reduction",
    "embassy_closure",
    "combat_role_end",
    "withdrawal",
    "talks",
    "agreement",
    "threat",
    "election",
    "iranian_direction",
)
WEIGHT = in_range(-5, 5)  # a weight of the militias' hold value, in units of the truce threshold


@dataclass(frozen=True)
class Doctrine:
    """What one U.S. doctrine does (continuity, tougher love, separation: docs/sources.md#doctrines, from [S2])."""

    retaliate_on_lethal: bool = param("-")
    retaliate_on_inside_impact: bool = param("-")
    retaliate_on_heavy_salvo: bool = param("-")
    retaliate_on_attack_count: int = param(
        "attacks in window",
        NON_NEGATIVE,
        doc="strike when this many attacks on U.S. targets fall within attack_count_window_days; 0 = never",
    )
    attack_count_window_days: float = param(
        "days", POSITIVE, doc="window of retaliate_on_attack_count and close_embassy_on_attacks"
    )
    decision_delay_days: float = param("days", NON_NEGATIVE, doc="delay from the triggering attack to the strike")
    strike_cooldown_days: float = param("days", NON_NEGATIVE, doc="least time between two strikes")
    preempt_on_warning: bool = param("-")
    acceptable_collateral_risk: float = param(
        "probability", PROBABILITY, doc="pre-empt only when a strike's collateral-damage risk is below this"
    )
    sanctions: bool = param("-")
    share_intelligence: bool = param("-")
    close_embassy_on_attacks: int = param(
        "attacks on the embassy in window",
        NON_NEGATIVE,
        doc="close the embassy when this many attacks on it fall within attack_count_window_days; 0 = never",
    )


@dataclass(frozen=True)
class Strikes:
    """Effects of a U.S. strike on militia capacity and motivation, and on civilians."""

    capacity_loss: float = param(
        "fraction of capacity", PROBABILITY, doc="fraction of militia capacity lost per strike"
    )
    capacity_recovery_days: float = param("days", NON_NEGATIVE)
    revenge_prob: float = param("probability", PROBABILITY, doc="probability a strike provokes a revenge surge")
    revenge_attacks_mean: float = param("attacks", NON_NEGATIVE, doc="mean extra attacks per revenge surge")
    revenge_decay_days: float = param("days", POSITIVE, doc="mean delay of a revenge attack")
    civilian_casualties_mean: float = param(
        "casualties/strike", NON_NEGATIVE, doc="mean Iraqi civilian casualties per strike"
    )


@dataclass(frozen=True)
class Preemption:
    """Intelligence warnings of imminent attacks, and strikes to pre-empt them (docs/sources.md#s2)."""

    warning_prob: float = param(
        "probability", PROBABILITY, doc="probability an attack is preceded by an intelligence warning"
    )
    warning_lead_h: float = param("hours", NON_NEGATIVE, doc="time from warning to attack")
    strike_collateral_risk_max: float = param(
        "probability", PROBABILITY, doc="a pre-emptive strike's collateral-damage risk is uniform on [0, this]"
    )
    prevent_prob: float = param("probability", PROBABILITY, doc="probability a pre-emptive strike stops the attack")


@dataclass(frozen=True)
class Sanctions:
    capacity_loss_per_month: float = param(
        "fraction/month", PROBABILITY, doc="fraction of militia capacity removed per month of sanctions"
    )
    max_capacity_loss: float = param(
        "fraction", PROBABILITY, doc="largest fraction of militia capacity sanctions remove"
    )


@dataclass(frozen=True)
class Ultimatum:
    """The threat to close the embassy (docs/sources.md#s1) and what follows it."""

    enabled: bool = param("-")
    trigger_attacks: int = param(
        "attacks in window",
        AT_LEAST_ONE,
        doc="attacks on U.S. targets within trigger_window_days that bring the ultimatum",
    )
    trigger_window_days: float = param("days", POSITIVE)
    deadline_days: float = param("days", POSITIVE)
    iraqi_raids: int = param("raids prompted", NON_NEGATIVE, doc="raids the ultimatum prompts")
    closure_attacks: int = param(
        "attacks before the deadline",
        NON_NEGATIVE,
        doc="attacks on U.S. targets between the ultimatum and its deadline that close the embassy; 0 = never close",
    )


@dataclass(frozen=True)
class Closure:
    """Evacuating the embassy, then the other sites."""

    evacuation_days: float = param("days", NON_NEGATIVE, doc="time from the decision to a closed embassy")
    other_sites_after_days: float = param(
        "days", NON_NEGATIVE, doc="time from the embassy's closure to the first closure of another site"
    )
    site_interval_days: float = param("days", NON_NEGATIVE, doc="time between later site closures")


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
    """Baghdad's measures (docs/sources.md#doctrines, from [S1]): International Zone closures, raids, clearing, operations."""

    iz_closure_on_warning: bool = param("-")
    iz_closure_days: float = param("days", NON_NEGATIVE)
    iz_launch_success: float = param(
        "x launch success during a closure",
        PROBABILITY,
        doc="launch success near the embassy during a closure, as a multiple of the usual",
    )
    raids_per_month: float = param(
        "raids/month", NON_NEGATIVE, doc="rule-driven raids (the 2020 raids are dated history)"
    )
    raid_capacity_loss: float = param(
        "fraction of capacity", PROBABILITY, doc="fraction of militia capacity a raid removes"
    )
    raid_effect_days: float = param("days", NON_NEGATIVE)
    release_prob: float = param("probability", PROBABILITY, doc="probability the detainees of a raid are released")
    release_days: float = param("days", NON_NEGATIVE)
    backlash_attacks_mean: float = param("attacks", NON_NEGATIVE, doc="mean extra attacks after a release")
    clearing_neighbourhoods: int = param(
        "neighbourhoods", NON_NEGATIVE, doc="neighbourhoods of the International Zone to clear; 0 = no campaign"
    )
    clearing_days_per_neighbourhood: float = param("days", POSITIVE)
    clearing_max_reduction: float = param(
        "fraction of launch success",
        PROBABILITY,
        doc="fraction of launch success near the embassy removed when all neighbourhoods are cleared",
    )
    intel_ops_prob: float = param(
        "probability per shared warning", PROBABILITY, doc="probability Baghdad acts on a shared warning"
    )
    ops_capacity_loss: float = param(
        "fraction of capacity", PROBABILITY, doc="fraction of militia capacity an operation removes"
    )
    ops_effect_days: float = param("days", NON_NEGATIVE)
    clearing_start: date | None = param("date", default=None)


@dataclass(frozen=True)
class Decision:
    """How the militias decide a truce (docs/sources.md#decisions; :mod:`sim.policy.decision`).

    Every political input they hear of (a withdrawal step, talks, an agreement, a threat, a
    strike on them, an arrest, an election milestone, Iranian envoys) moves their *hold value*
    by its weight, in units of the truce threshold; the move fades with mean life
    ``memory_days`` (an agreement's holds until its deadline, then fades). At each input and
    each review they weigh the hold value plus an unobserved part, logistic with scale
    ``noise_scale`` and drawn afresh at each review: at 1 or more they declare a truce (after
    ``deliberation_days`` on average); in a truce, below ``keep_level`` they end it."""

    noise_scale: float = param(
        "threshold units",
        POSITIVE,
        doc="scale of the logistic unobserved part of the hold value at each decision: P(truce) = 1 / (1 + exp(-(hold - 1) / noise_scale))",
    )
    keep_level: float = param(
        "threshold units",
        PROBABILITY,
        doc="a truce is kept while the hold value plus the decision's unobserved part stays at or above this",
    )
    memory_days: float = param(
        "days", POSITIVE, doc="mean life of an input's effect on the hold value (exponential fading)"
    )
    deliberation_days: float = param(
        "days", NON_NEGATIVE, doc="mean delay (exponential) from the input that decides a truce to its declaration"
    )
    review_mean_days: float = param(
        "days",
        POSITIVE,
        doc="mean interval between the militias' reviews of their stance, when the unobserved part of their resolve is drawn afresh; a declared truce's first review comes one full interval after it (its term)",
    )
    review_log_sd: float = param(
        "log days", NON_NEGATIVE, doc="log-sd of the lognormal interval between reviews (0: exponential)"
    )
    withdrawal_weight: float = param(
        "threshold units",
        WEIGHT,
        doc="a step toward the departure of U.S. forces: a withdrawal vote, a drawdown announced or reached, a base handed over, the embassy closed, the combat role ended",
    )
    talks_weight: float = param(
        "threshold units",
        WEIGHT,
        doc="a round of negotiations on the mission's future (may be negative: talks that keep the forces in place)",
    )
    agreement_weight: float = param(
        "threshold units", WEIGHT, doc="an agreed timetable for the mission; held until its deadline, then fading"
    )
    threat_weight: float = param(
        "threshold units", WEIGHT, doc="a U.S. threat to close the embassy (the ultimatum, or its restatement)"
    )
    strike_weight: float = param(
        "threshold units", WEIGHT, doc="a U.S. strike on the militias: deterrence if positive, a grievance if negative"
    )
    arrest_weight: float = param(
        "threshold units",
        WEIGHT,
        doc="an Iraqi raid, arrest or operation against the militias: a cost if positive, a grievance if negative",
    )
    election_weight: float = param(
        "threshold units", WEIGHT, doc="an Iraqi election milestone: the groups' political wings stand for office"
    )
    iran_weight: float = param("threshold units", WEIGHT, doc="Iranian envoys in Baghdad: direction from Tehran")


@dataclass(frozen=True)
class MilitiaResponse:
    """Tactic shifts, escalation of severity and the decisions to hold fire (docs/sources.md#drones, #severity, #decisions)."""

    drone_growth_per_year: float = param(
        "relative growth/year", NON_NEGATIVE, doc="relative growth of drone attack intensity per year"
    )
    escalation_heavy_boost: float = param(
        "x heavy_salvo_prob",
        NON_NEGATIVE,
        doc="multiplier on heavy_salvo_prob for escalation_days after an attack that killed or wounded Americans; casualties during that window do not extend or restart it",
    )
    escalation_days: float = param("days", NON_NEGATIVE)
    decision: Decision = param("section")


@dataclass(frozen=True)
class Policy:
    start_date: date = param("date")
    embassy_site: str = param("-", NAME)
    us: UsPolicy = param("section")
    iraq: IraqiPolicy = param("section")


@dataclass(frozen=True)
class HistoryEvent:
    """A dated event of the baseline timeline (docs/sources.md#policy-2020, #policy-2020-2021, #political-inputs)."""

    date: date = param("date")
    event: str = param("-", one_of(*HISTORY_EVENTS))
    value: float | None = param(
        "share of personnel kept",
        PROBABILITY,
        default=None,
        doc="for troop_reduction events only: the share of personnel that stays",
    )
    until: date | None = param(
        "date", default=None, doc="for agreement events only: the deadline of the agreed timetable"
    )

    def check(self) -> list[Problem]:
        if self.event == "troop_reduction" and self.value is None:
            return [("value", None, "is required for a troop_reduction")]
        if self.event == "agreement" and (self.until is None or self.until <= self.date):
            return [("until", self.until, f"is required for an agreement, and must be after its date {self.date}")]
        if self.event != "agreement" and self.until is not None:
            return [("until", self.until, "is only for an agreement")]
        return []
