"""Outcomes of one replication, tabulated once from its event log."""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Iterable

from .calendar import Calendar
from .records import Kind, Record

# Column -> the record kind it counts (one per attack, whatever its size).
ATTACKS: dict[str, Kind] = {
    "attacks_rocket": Kind.ATTACK_ROCKET,
    "attacks_drone": Kind.ATTACK_DRONE,
    "attacks_convoy": Kind.ATTACK_CONVOY,
    "attacks_security_detail": Kind.ATTACK_SECURITY_DETAIL,
}

# Column -> the record kind whose ``n`` (rockets, trucks, people) it sums.
COUNTED: dict[str, Kind] = {
    "rockets_launch_failed": Kind.ROCKET_LAUNCH_FAILED,
    "rockets_launched": Kind.ROCKET_LAUNCHED,
    "rockets_dud": Kind.ROCKET_DUD,
    "rockets_engaged": Kind.ROCKET_ENGAGED,
    "rockets_intercepted": Kind.ROCKET_INTERCEPTED,
    "rockets_impact_inside": Kind.ROCKET_IMPACT_INSIDE,
    "rockets_impact_outside": Kind.ROCKET_IMPACT_OUTSIDE,
    "drones_launched": Kind.DRONE_LAUNCHED,
    "drones_engaged": Kind.DRONE_ENGAGED,
    "drones_downed": Kind.DRONE_DOWNED,
    "drones_impact_inside": Kind.DRONE_IMPACT_INSIDE,
    "cram_saturated": Kind.SATURATED,
    "cram_magazine_empty": Kind.MAGAZINE_EMPTY,
    "convoy_trucks_damaged": Kind.TRUCKS_DAMAGED,
    "us_killed": Kind.US_KILLED,
    "us_wounded": Kind.US_WOUNDED,
    "iraqi_civilian_casualties": Kind.CIVILIAN_CASUALTIES,
    "iraqi_driver_casualties": Kind.DRIVER_CASUALTIES,
    "security_detail_casualties": Kind.SECURITY_DETAIL_CASUALTIES,
    "stray_round_incidents": Kind.STRAY_ROUND,
    "drone_debris_incidents": Kind.DEBRIS_HARM,
}

# Casualty outcomes: the summary also reports P(outcome > 0) for these.
CASUALTY_COLUMNS = (
    "us_killed",
    "us_wounded",
    "iraqi_civilian_casualties",
    "iraqi_driver_casualties",
    "security_detail_casualties",
)

ROCKET_DRONE = (Kind.ATTACK_ROCKET, Kind.ATTACK_DRONE)


def quarter_columns(calendar: Calendar) -> list[str]:
    n = len(calendar.quarter_starts())
    return [f"rocket_drone_attacks_q{i + 1}" for i in range(n)] + [f"convoy_attacks_q{i + 1}" for i in range(n)]


def outcome_columns(calendar: Calendar) -> list[str]:
    """All outcome columns of a replication row, in order (without replication and seed)."""
    return list(ATTACKS) + list(COUNTED) + ["first_us_fatality_day"] + quarter_columns(calendar)


def summarise(records: Iterable[Record], calendar: Calendar) -> dict[str, float | int | None]:
    """One row of outcomes from a replication's records.

    ``first_us_fatality_day`` is days since the start (fractional), None if nobody died;
    quarter ``q1`` is the calendar quarter that contains the start date.
    """
    totals: Counter[Kind] = Counter()
    events: Counter[Kind] = Counter()
    starts = calendar.quarter_starts()
    rocket_drone = [0] * len(starts)
    convoy = [0] * len(starts)
    first_fatality: float | None = None
    for rec in records:
        totals[rec.kind] += rec.n
        events[rec.kind] += 1
        if rec.kind in ROCKET_DRONE:
            rocket_drone[_quarter(starts, rec.time_d)] += 1
        elif rec.kind is Kind.ATTACK_CONVOY:
            convoy[_quarter(starts, rec.time_d)] += 1
        elif rec.kind is Kind.US_KILLED and first_fatality is None:
            first_fatality = rec.time_d
    row: dict[str, float | int | None] = {col: events[kind] for col, kind in ATTACKS.items()}
    row.update({col: totals[kind] for col, kind in COUNTED.items()})
    row["first_us_fatality_day"] = first_fatality
    for i, (rd, cv) in enumerate(zip(rocket_drone, convoy)):
        row[f"rocket_drone_attacks_q{i + 1}"] = rd
        row[f"convoy_attacks_q{i + 1}"] = cv
    return row


def _quarter(starts: list[float], t: float) -> int:
    return bisect.bisect_right(starts, t) - 1
