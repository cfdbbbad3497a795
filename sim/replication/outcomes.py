"""Outcomes of one replication, tabulated once from its event log."""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Sequence

import pandas as pd

from sim.config.calendar import Calendar
from sim.model.records import Kind, Record

# Column -> the record kind it counts (one per attack or decision, whatever its size).
EVENTS: dict[str, Kind] = {
    "attacks_rocket": Kind.ATTACK_ROCKET,
    "attacks_drone": Kind.ATTACK_DRONE,
    "attacks_convoy": Kind.ATTACK_CONVOY,
    "attacks_security_detail": Kind.ATTACK_SECURITY_DETAIL,
    "attacks_warned": Kind.WARNING,
    "attacks_prevented": Kind.ATTACK_PREVENTED,
    "us_strikes_retaliatory": Kind.US_STRIKE_RETALIATORY,
    "us_strikes_preemptive": Kind.US_STRIKE_PREEMPTIVE,
    "revenge_surges": Kind.REVENGE,
    "ultimatums": Kind.ULTIMATUM,
    "iraqi_raids": Kind.IRAQI_RAID,
    "iraqi_intel_operations": Kind.IRAQI_OPERATION,
    "iz_closures": Kind.IZ_CLOSED,
    "neighbourhoods_cleared": Kind.NEIGHBOURHOOD_CLEARED,
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
    "revenge_attacks_vowed": Kind.REVENGE,
}

# Columns that are not counts: their pandas dtypes (nullable where "did not happen" is empty).
SPECIAL_DTYPES = {
    "iraqi_operations": "int64",
    "truce_days": "float64",
    "escalation_chain_max": "int64",
    "embassy_closed": "bool",
    "embassy_closure_day": "Float64",
    "first_us_fatality_day": "Float64",
}

# Casualty and policy outcomes: the summary also reports P(outcome > 0) for these.
CASUALTY_COLUMNS = (
    "us_killed",
    "us_wounded",
    "iraqi_civilian_casualties",
    "iraqi_driver_casualties",
    "security_detail_casualties",
    "us_strikes_retaliatory",
    "us_strikes_preemptive",
    "embassy_closed",
)



QUARTERLY = ("rocket_drone_attacks", "convoy_attacks", "us_casualties")


def quarter_columns(calendar: Calendar) -> list[str]:
    n = len(calendar.quarter_starts())
    return [f"{series}_q{i + 1}" for series in QUARTERLY for i in range(n)]


def outcome_columns(calendar: Calendar) -> list[str]:
    """All outcome columns of a replication row, in order (without replication and seed)."""
    return list(EVENTS) + list(COUNTED) + list(SPECIAL_DTYPES) + quarter_columns(calendar)


def summarise(records: Sequence[Record], calendar: Calendar) -> dict[str, float | int | bool | None]:
    """One row of outcomes from a replication's records.

    Totals count events from ``calendar.count_from`` (the scenario's ``outcomes_from``,
    by default its start) to the end of the horizon; quarterly columns cover every calendar
    quarter of the run (``q1`` holds the start date); ``embassy_closed`` is the embassy's
    state at the end, whenever it closed. Days (``first_us_fatality_day`` among the counted
    events, ``embassy_closure_day``) are fractional days since the start, None if it did
    not happen. ``us_casualties_q*`` are U.S. killed plus wounded; ``escalation_chain_max``
    is the most strikes in one chain attack -> strike -> revenge attack -> strike ...;
    ``truce_days`` are truce days within the counted period.
    """
    totals: Counter[Kind] = Counter()
    events: Counter[Kind] = Counter()
    starts = calendar.quarter_starts()
    quarterly = {series: [0] * len(starts) for series in QUARTERLY}
    first: dict[Kind, float] = {}
    chain, truce_days, truce_began = 0, 0.0, None
    begin, end = calendar.count_from_day, calendar.horizon_days
    for rec in records:
        series = _QUARTERLY_KIND.get(rec.kind)
        if series is not None:
            quarterly[series][_quarter(starts, rec.time_d)] += 1 if series != "us_casualties" else rec.n
        if rec.kind is Kind.TRUCE_START:
            truce_began = rec.time_d
        elif rec.kind is Kind.TRUCE_END and truce_began is not None:
            truce_days += _overlap(truce_began, rec.time_d, begin, end)
            truce_began = None
        if rec.time_d < begin:
            continue
        totals[rec.kind] += rec.n
        events[rec.kind] += 1
        first.setdefault(rec.kind, rec.time_d)
        if rec.kind in (Kind.US_STRIKE_RETALIATORY, Kind.US_STRIKE_PREEMPTIVE):
            chain = max(chain, rec.n)
    if truce_began is not None:
        truce_days += _overlap(truce_began, end, begin, end)
    closure = next((r.time_d for r in records if r.kind is Kind.EMBASSY_CLOSED), None)
    row: dict[str, float | int | bool | None] = {col: events[kind] for col, kind in EVENTS.items()}
    row.update({col: totals[kind] for col, kind in COUNTED.items()})
    row.update({
        "iraqi_operations": events[Kind.IRAQI_RAID] + events[Kind.IRAQI_OPERATION],
        "truce_days": truce_days,
        "escalation_chain_max": chain,
        "embassy_closed": closure is not None,
        "embassy_closure_day": closure,
        "first_us_fatality_day": first.get(Kind.US_KILLED),
    })  # fmt: skip
    for series, counts in quarterly.items():
        row.update({f"{series}_q{i + 1}": count for i, count in enumerate(counts)})
    return row


_QUARTERLY_KIND = {
    Kind.ATTACK_ROCKET: "rocket_drone_attacks",
    Kind.ATTACK_DRONE: "rocket_drone_attacks",
    Kind.ATTACK_CONVOY: "convoy_attacks",
    Kind.US_KILLED: "us_casualties",
    Kind.US_WOUNDED: "us_casualties",
}


def _overlap(a: float, b: float, begin: float, end: float) -> float:
    """Length of [a, b] within [begin, end]."""
    return max(0.0, min(b, end) - max(a, begin))


def _quarter(starts: list[float], t: float) -> int:
    return bisect.bisect_right(starts, t) - 1


def event_table(records: Sequence[Record], calendar: Calendar) -> pd.DataFrame:
    """The event log as a table: time, date, site, kind, count, attack and details."""
    return pd.DataFrame(
        {
            "time_d": [r.time_d for r in records],
            "date": [calendar.datetime_of(r.time_d).strftime("%Y-%m-%d %H:%M:%S") for r in records],
            "site": [r.site or "" for r in records],
            "kind": [r.kind.value for r in records],
            "n": [r.n for r in records],
            "attack": [r.attack or "" for r in records],
            "detail": [r.detail for r in records],
        }
    )
