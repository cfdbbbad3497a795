"""Outcomes of one replication: each column declared once, tabulated from the event log.

An :class:`Outcome` counts the records of some kinds, sums their ``count`` (rockets, trucks,
people), or computes a value from the :class:`Tally` of the log; it carries its dtype, whether
summaries report P(outcome > 0), the plain label a reader sees in reports (``rocket attacks``,
not ``attacks_rocket``), and which way is better (:class:`Better`, required of every
outcome and quarterly series, so that reports and robustness measures call a difference better
or worse alike). Totals count records from the scenario's ``outcomes_from`` (its start by default) to the end of the horizon. Every threat kind gets its
``attacks_<name>`` column and its place in a quarterly series from its own declaration
(:class:`sim.model.threats.Threat`); every other outcome is one entry of :func:`outcomes`.
Quarterly columns (``rocket_drone_attacks_q1`` ...) cover every calendar quarter of the run,
``q1`` holding the start date.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from operator import attrgetter
from typing import Any

from sim.config.calendar import Calendar
from sim.model import campaign, cram, damage, interception
from sim.model.records import Record, RecordKind
from sim.model.threats import convoy, drone, rocket, security_detail, threats
from sim.policy import baghdad, militia, washington


class Tally:
    """What one pass over a replication's records (in time order, as the ledger writes them)
    gives every outcome."""

    def __init__(self, records: Sequence[Record], calendar: Calendar) -> None:
        self.records, self.calendar = records, calendar
        counted = records[bisect.bisect_left(records, calendar.count_from_day, key=_time) :]
        self.events: Counter[RecordKind] = Counter(map(_kind, counted))  # records of each kind, counted period
        self.totals: Counter[RecordKind] = Counter(self.events)  # their counts summed, counted period
        for rec in [rec for rec in counted if rec.count != 1]:
            self.totals[rec.kind] += rec.count - 1
        self.first: dict[RecordKind, float] = {
            rec.kind: rec.time_d for rec in reversed(counted)
        }  # first in the counted period
        self.first_ever: dict[RecordKind, float] = {
            rec.kind: rec.time_d for rec in reversed(records)
        }  # first in the run
        self.max_generation: Counter[RecordKind] = Counter()  # counted period
        for rec in [rec for rec in counted if rec.generation is not None]:
            if rec.generation > self.max_generation[rec.kind]:
                self.max_generation[rec.kind] = rec.generation


_time, _kind = attrgetter("time_d"), attrgetter("kind")


class Better(str, Enum):  # noqa: UP042 (StrEnum would change how a member prints in the reports)
    """Which way an outcome is better for the United States and Iraq: fewer attacks, casualties,
    strikes, escalation and closures; more interceptions, prevented attacks, truce days and Iraqi
    operations, and a later first death or closure. Of the rockets and drones, those that failed
    or a defence took down are HIGHER, those that flew or hit are LOWER."""

    LOWER = "lower"
    HIGHER = "higher"


LOWER, HIGHER = Better.LOWER, Better.HIGHER


@dataclass(frozen=True)
class Outcome:
    """One column of a replication's row.

    column : its name. doc : what it measures, with its unit.
    label : what a reader of a report calls it, in plain words (``rocket attacks``): tables,
        sentences and plots show it instead of ``column``; every outcome declares it.
    better : which way is better (:class:`Better`); every outcome declares it.
    counts : the value is the number of records of these kinds; or
    sums : the sum of their ``count``; or
    value : a function of the :class:`Tally`.
    dtype : its pandas dtype (``Float64`` is nullable: empty when the event did not happen).
    report_positive : summaries give P(outcome > 0) (casualties, strikes, the closure).

    Raises
    ------
    ValueError
        If ``better`` is no :class:`Better`, or ``label`` is empty or written like a column name
        (both are required: every outcome must say).
    """

    column: str
    doc: str
    counts: tuple[RecordKind, ...] = ()
    sums: tuple[RecordKind, ...] = ()
    value: Callable[[Tally], Any] | None = None
    dtype: str = "int64"
    report_positive: bool = False
    better: Better = field(kw_only=True)
    label: str = field(kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.better, Better):
            raise ValueError(f"outcome {self.column}: better = {self.better!r} must be Better.LOWER or Better.HIGHER")
        check_label(self.column, self.label)

    @property
    def binary(self) -> bool:
        """A yes/no outcome: its mean is a probability."""
        return self.dtype == "bool"

    def of(self, tally: Tally) -> Any:
        if self.value is not None:
            return self.value(tally)
        if self.counts:
            return sum(tally.events[k] for k in self.counts)
        return sum(tally.totals[k] for k in self.sums)


def truce_days(tally: Tally) -> float:
    """Days of truce within the counted period."""
    days, began = 0.0, None
    begin, end = tally.calendar.count_from_day, tally.calendar.horizon_days
    for rec in tally.records:
        if rec.kind is militia.TRUCE_START:
            began = rec.time_d
        elif rec.kind is militia.TRUCE_END and began is not None:
            days += _overlap(began, rec.time_d, begin, end)
            began = None
    if began is not None:
        days += _overlap(began, end, begin, end)
    return days


def restricted(tally: Tally, day: float | None) -> float:
    """The day an event first happened, or the end of the horizon if it did not: a *restricted*
    time (the restricted mean survival time of Royston and Parmar 2013, BMC Med. Res. Methodol.
    13: 152). Every replication has a value, so a paired comparison keeps every pair: an option
    that prevents the event within the horizon gains the days it saved instead of losing the pair
    (an empty value would leave only the pairs in which both options saw the event)."""
    return tally.calendar.horizon_days if day is None else day


def _overlap(a: float, b: float, begin: float, end: float) -> float:
    """Length of [a, b] within [begin, end]."""
    return max(0.0, min(b, end) - max(a, begin))


STRIKES = (washington.STRIKE_RETALIATORY, washington.STRIKE_PREEMPTIVE)


def check_label(name: str, label: str) -> None:
    """Refuse an empty label or one written like a column name (``attacks_rocket``)."""
    if not isinstance(label, str) or not label.strip() or "_" in label:
        raise ValueError(f"outcome {name}: label = {label!r} must be plain words (e.g. 'rocket attacks')")


# What a reader calls each threat's attacks (the column ``attacks_<name>``), by threat name.
ATTACK_LABELS = {
    "rocket": "rocket attacks",
    "drone": "drone attacks",
    "convoy": "convoy bombings",
    "security_detail": "attacks on security details",
}
# ... and each quarterly series, by series name.
SERIES_LABELS = {
    "rocket_drone_attacks": "rocket and drone attacks",
    "convoy_attacks": "convoy bombings",
    "us_casualties": "U.S. casualties",
}


def _label_of(labels: dict[str, str], name: str, suffix: str = "") -> str:
    """The plain label of a threat's attacks or of a series: from the table above, or, for a kind
    added without one (a new threat module), its name in words (``mortar`` -> "mortar attacks")."""
    return labels.get(name) or f"{name.replace('_', ' ')}{suffix}"


@functools.cache
def outcomes() -> tuple[Outcome, ...]:
    """Every outcome column except the quarterly ones, in the order of a row."""
    per_threat = tuple(
        Outcome(
            f"attacks_{t.name}",
            f"{t.name} attacks",
            label=_label_of(ATTACK_LABELS, t.name, " attacks"),
            counts=(t.attack_record,),
            better=LOWER,
        )
        for t in threats()
    )
    return per_threat + (
        Outcome(
            "attacks_warned",
            "attacks announced by intelligence warnings",
            label="attacks warned of",
            counts=(campaign.WARNING,),
            better=HIGHER,
        ),
        Outcome(
            "attacks_prevented",
            "warned attacks stopped by a pre-emptive strike",
            label="attacks prevented",
            counts=(campaign.ATTACK_PREVENTED,),
            better=HIGHER,
        ),
        Outcome(
            "us_strikes_retaliatory",
            "U.S. strikes in answer to attacks",
            label="U.S. retaliatory strikes",
            counts=(washington.STRIKE_RETALIATORY,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "us_strikes_preemptive",
            "U.S. strikes before warned attacks",
            label="U.S. pre-emptive strikes",
            counts=(washington.STRIKE_PREEMPTIVE,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "revenge_surges",
            "strikes the militias vowed to avenge",
            label="strikes vowed to be avenged",
            counts=(militia.REVENGE,),
            better=LOWER,
        ),
        Outcome(
            "ultimatums",
            "U.S. threats to close the embassy",
            label="ultimatums",
            counts=(washington.ULTIMATUM,),
            better=LOWER,
        ),
        Outcome(
            "iraqi_raids", "Iraqi raids and arrests", label="Iraqi raids", counts=(baghdad.IRAQI_RAID,), better=HIGHER
        ),
        Outcome(
            "iraqi_intel_operations",
            "Iraqi operations on shared intelligence",
            label="Iraqi intelligence operations",
            counts=(baghdad.IRAQI_OPERATION,),
            better=HIGHER,
        ),
        Outcome(
            "iz_closures",
            "closures of parts of the International Zone",
            label="International Zone closures",
            counts=(baghdad.IZ_CLOSED,),
            better=LOWER,
        ),
        Outcome(
            "neighbourhoods_cleared",
            "neighbourhoods of the zone cleared",
            label="neighbourhoods cleared",
            counts=(baghdad.NEIGHBOURHOOD_CLEARED,),
            better=HIGHER,
        ),
        Outcome(
            "rockets_launch_failed",
            "rockets that did not leave their rails",
            label="rockets failed at launch",
            sums=(rocket.LAUNCH_FAILED,),
            better=HIGHER,
        ),
        Outcome(
            "rockets_launched",
            "rockets in the air (= dud + intercepted + impact inside + outside)",
            label="rockets launched",
            sums=(rocket.LAUNCHED,),
            better=LOWER,
        ),
        Outcome("rockets_dud", "rockets that did not explode", label="dud rockets", sums=(rocket.DUD,), better=HIGHER),
        Outcome(
            "rockets_engaged",
            "rockets C-RAM fired at",
            label="rockets engaged by C-RAM",
            sums=(rocket.ENGAGED,),
            better=HIGHER,
        ),
        Outcome(
            "rockets_intercepted",
            "rockets C-RAM destroyed",
            label="rockets intercepted",
            sums=(rocket.INTERCEPTED,),
            better=HIGHER,
        ),
        Outcome(
            "rockets_impact_inside",
            "rockets exploding inside a perimeter",
            label="rockets landing inside a perimeter",
            sums=(rocket.IMPACT_INSIDE,),
            better=LOWER,
        ),
        Outcome(
            "rockets_impact_outside",
            "rockets exploding outside a perimeter",
            label="rockets landing outside a perimeter",
            sums=(rocket.IMPACT_OUTSIDE,),
            better=LOWER,
        ),
        Outcome("drones_launched", "drones in the air", label="drones launched", sums=(drone.LAUNCHED,), better=LOWER),
        Outcome(
            "drones_engaged",
            "drones C-RAM fired at",
            label="drones engaged by C-RAM",
            sums=(drone.ENGAGED,),
            better=HIGHER,
        ),
        Outcome(
            "drones_downed", "drones C-RAM brought down", label="drones downed", sums=(drone.DOWNED,), better=HIGHER
        ),
        Outcome(
            "drones_impact_inside",
            "drones exploding inside a perimeter",
            label="drones striking inside a perimeter",
            sums=(drone.IMPACT_INSIDE,),
            better=LOWER,
        ),
        Outcome(
            "cram_saturated",
            "threatening rounds that found no free fire unit before impact",
            label="rounds C-RAM had no free unit for",
            sums=(cram.SATURATED,),
            better=LOWER,
        ),
        Outcome(
            "cram_magazine_empty",
            "threatening rounds a free unit could not fire at for want of rounds",
            label="rounds C-RAM had no ammunition for",
            sums=(cram.MAGAZINE_EMPTY,),
            better=LOWER,
        ),
        Outcome(
            "convoy_trucks_damaged",
            "convoy trucks damaged",
            label="convoy trucks damaged",
            sums=(convoy.TRUCKS_DAMAGED,),
            better=LOWER,
        ),
        Outcome(
            "us_killed",
            "U.S./coalition personnel killed",
            label="U.S. personnel killed",
            sums=(damage.US_KILLED,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "us_wounded",
            "U.S./coalition personnel wounded",
            label="U.S. personnel wounded",
            sums=(damage.US_WOUNDED,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "iraqi_civilian_casualties",
            "Iraqi civilians killed or wounded (misses, stray rounds, strikes)",
            label="Iraqi civilian casualties",
            sums=(damage.CIVILIAN_CASUALTIES,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "iraqi_driver_casualties",
            "Iraqi convoy drivers killed or wounded",
            label="Iraqi convoy driver casualties",
            sums=(convoy.DRIVER_CASUALTIES,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "security_detail_casualties",
            "security-detail members killed or wounded",
            label="security-detail casualties",
            sums=(security_detail.CASUALTIES,),
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "stray_round_incidents",
            "C-RAM engagements that scattered rounds or debris over the city",
            label="stray-round incidents",
            sums=(interception.STRAY_ROUND,),
            better=LOWER,
        ),
        Outcome(
            "drone_debris_incidents",
            "downed drones whose debris did harm",
            label="drone-debris incidents",
            sums=(drone.DEBRIS_HARM,),
            better=LOWER,
        ),
        Outcome(
            "revenge_attacks_vowed",
            "revenge attacks the militias vowed",
            label="revenge attacks vowed",
            sums=(militia.REVENGE,),
            better=LOWER,
        ),
        Outcome(
            "iraqi_operations",
            "Iraqi raids plus operations on shared intelligence",
            label="Iraqi operations",
            counts=(baghdad.IRAQI_RAID, baghdad.IRAQI_OPERATION),
            better=HIGHER,
        ),
        Outcome(
            "truce_days",
            "days of militia truce",
            label="days of truce",
            value=truce_days,
            dtype="float64",
            better=HIGHER,
        ),
        Outcome(
            "escalation_chain_max",
            "the most strikes in one chain attack -> strike -> revenge attack -> strike ...",
            label="longest chain of strikes and revenge",
            value=lambda t: max(t.max_generation[k] for k in STRIKES),
            better=LOWER,
        ),
        Outcome(
            "embassy_closed",
            "the embassy is closed at the end of the run (whenever it closed)",
            label="embassy closure",
            value=lambda t: washington.EMBASSY_CLOSED in t.first_ever,
            dtype="bool",
            report_positive=True,
            better=LOWER,
        ),
        Outcome(
            "embassy_closure_day",
            "days from the start to the closure; the last day of the horizon if it stays open (a restricted time)",
            label="day the embassy closes",
            value=lambda t: restricted(t, t.first_ever.get(washington.EMBASSY_CLOSED)),
            dtype="float64",
            better=HIGHER,
        ),
        Outcome(
            "first_us_fatality_day",
            "days from the start to the first U.S. death counted; the last day of the horizon "
            "if none (a restricted time)",
            label="day of the first U.S. death",
            value=lambda t: restricted(t, t.first.get(damage.US_KILLED)),
            dtype="float64",
            better=HIGHER,
        ),
        # new outcomes go here, in the order of their columns (docs/extending.md)
    )


@dataclass(frozen=True)
class QuarterlySeries:
    """A series counted per calendar quarter over the whole run: ``<name>_q1``, ``_q2`` ..."""

    name: str
    doc: str
    better: Better
    counts: tuple[RecordKind, ...] = ()
    sums: tuple[RecordKind, ...] = ()
    label: str = field(default="", kw_only=True)  # what a reader calls it; from SERIES_LABELS when empty

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", _label_of(SERIES_LABELS, self.name))
        check_label(self.name, self.label)


@functools.cache
def quarterly_series() -> tuple[QuarterlySeries, ...]:
    """Attack series declared by the threats (in the order first declared), then U.S. casualties."""
    names = list(dict.fromkeys(t.quarterly_series for t in threats() if t.quarterly_series))
    members = {n: [t for t in threats() if t.quarterly_series == n] for n in names}
    attacks = tuple(
        QuarterlySeries(
            n,
            f"{' and '.join(t.name for t in ts)} attacks in the quarter",
            LOWER,
            counts=tuple(t.attack_record for t in ts),
        )
        for n, ts in members.items()
    )
    casualties = QuarterlySeries(
        "us_casualties",
        "U.S./coalition personnel killed or wounded in the quarter",
        LOWER,
        sums=(damage.US_KILLED, damage.US_WOUNDED),
    )
    return attacks + (casualties,)


def quarter_columns(calendar: Calendar) -> list[str]:
    n = len(calendar.quarter_starts())
    return [f"{series.name}_q{i + 1}" for series in quarterly_series() for i in range(n)]


def outcome_columns(calendar: Calendar) -> list[str]:
    """All outcome columns of a replication row, in order (without scenario, replication and seed)."""
    return [o.column for o in outcomes()] + quarter_columns(calendar)


def dtypes(calendar: Calendar) -> dict[str, str]:
    """The pandas dtype of every outcome column."""
    return {**{o.column: o.dtype for o in outcomes()}, **{c: "int64" for c in quarter_columns(calendar)}}


def positive_reported() -> frozenset[str]:
    """Outcomes whose summaries give P(outcome > 0)."""
    return frozenset(o.column for o in outcomes() if o.report_positive)


def declared(column: str) -> Outcome:
    """The declaration of an outcome column; a quarterly column (``<series>_q<n>``) is read as
    an :class:`Outcome` with its series' doc, label and direction.

    Raises
    ------
    KeyError
        If ``column`` is no outcome column.
    """
    for outcome in outcomes():
        if outcome.column == column:
            return outcome
    quarter = _QUARTER.fullmatch(column)
    for series in quarterly_series() if quarter else ():
        if series.name == quarter.group(1):
            return Outcome(
                column,
                f"{series.doc} (q{quarter.group(2)})",
                series.counts,
                series.sums,
                label=f"{series.label}, quarter {quarter.group(2)}",
                better=series.better,
            )
    raise KeyError(f"{column!r} is not an outcome column")


_QUARTER = re.compile(r"(.+)_q([1-9][0-9]*)")


def better_direction(column: str) -> str:
    """``"lower"`` or ``"higher"``: the direction in which an option does better on ``column``,
    a declared outcome or a quarterly column ``<series>_q<n>``.

    Raises
    ------
    KeyError
        If ``column`` is no outcome column.
    """
    return declared(column).better.value


def label(column: str) -> str:
    """What a reader calls ``column`` (``rocket attacks`` for ``attacks_rocket``; ``rocket and
    drone attacks, quarter 3`` for ``rocket_drone_attacks_q3``).

    Raises
    ------
    KeyError
        If ``column`` is no outcome column.
    """
    return declared(column).label


def binary_outcomes() -> frozenset[str]:
    """Outcomes that are true or false in a replication (their mean is a probability)."""
    return frozenset(o.column for o in outcomes() if o.binary)


def tabulate(records: Sequence[Record], calendar: Calendar) -> dict[str, Any]:
    """One row of outcomes from a replication's records (see the module docstring)."""
    tally = Tally(records, calendar)
    row = {o.column: o.of(tally) for o in outcomes()}
    starts = calendar.quarter_starts()
    series = quarterly_series()
    counted = [[0] * len(starts) for _ in series]
    counting = _series_of_kind()
    for rec in [rec for rec in records if rec.kind in counting]:
        quarter = bisect.bisect_right(starts, rec.time_d) - 1
        for index, summed in counting[rec.kind]:
            counted[index][quarter] += rec.count if summed else 1
    for s, counts in zip(series, counted):
        row.update({f"{s.name}_q{i + 1}": count for i, count in enumerate(counts)})
    return row


@functools.cache
def _series_of_kind() -> dict[RecordKind, tuple[tuple[int, bool], ...]]:
    """Record kind -> (index of a quarterly series it counts in, whether its count is summed)."""
    found: dict[RecordKind, list[tuple[int, bool]]] = {}
    for index, s in enumerate(quarterly_series()):
        for kind in s.counts:
            found.setdefault(kind, []).append((index, False))
        for kind in s.sums:
            found.setdefault(kind, []).append((index, True))
    return {kind: tuple(v) for kind, v in found.items()}
