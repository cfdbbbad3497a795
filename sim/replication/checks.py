"""Statistics of one replication's event log over a window of dates, to hold against the
public record (``python run.py validate``) or to fit (a calibration).

A :class:`Check` is pure data (picklable: kinds are named, not objects); :func:`measure` reads
a replication's records. Windows run from 00:00 of ``start`` to 24:00 of ``end``.

Statistics:

- ``count``: records of ``kinds`` in the window;
- ``sum``: their ``count`` fields summed (rockets fired, people killed);
- ``none``: 1 if no record of ``kinds`` is in the window, else 0;
- ``first_after``: days from the window's start to the first record of ``kinds`` in it,
  censored at the window's length;
- ``followed_within``: the share of ``trigger`` records in the window followed by a record of
  ``kinds`` within ``days`` (after it, at most ``days`` later); empty (NaN) if the window holds
  no trigger record.

Statistics of an event-level record (built by :mod:`sim.calibration.event_statistics`, not
written in a public-record file):

- ``busiest_week``: the most records of ``kinds`` in any ``days`` consecutive days of the window;
- ``share_sized``: the share of records of ``kinds`` in the window whose ``count`` lies in
  ``sizes`` (inclusive), e.g. salvos of 6-13 rockets; NaN if the window holds none;
- ``attacks``: the number of distinct attacks among the records of ``kinds`` in the window
  (attacks that hurt U.S. or coalition personnel, say);
- ``dispersion``: the variance over mean of the counts of records of ``kinds`` in consecutive
  spans of ``days`` (a month, say) from the window's start (the last span may be cut short and
  is left out if under half a span): 1 for a Poisson process, more for bursts and lulls; NaN if
  no record.

**The observation model.** A check with ``coverage`` is about a record that lists only part of
what happened: ``coverage`` gives, for spans of dates, the chance that an attack of that date
made it into the record. The simulated log is then thinned the same way before it is measured:
a record is kept when a uniform fixed by its attack and time (a hash, so the same attack is kept
or dropped by every check of a replication) is below the coverage of its date. The observed
value is measured on the record itself, which is already thinned (a check without coverage).
"""

from __future__ import annotations

import bisect
import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sim.config.calendar import Calendar
from sim.model.records import Record, RecordKind, record_kind_named

STATISTICS = ("count", "sum", "none", "first_after", "followed_within")  # those a record file may use
DERIVED = ("busiest_week", "share_sized", "attacks", "dispersion")  # those of an event-level record


@dataclass(frozen=True)
class Check:
    id: str
    statistic: str
    kinds: tuple[str, ...]
    start: date
    end: date
    trigger: str | None = None
    days: float | None = None
    sizes: tuple[int, int] | None = None  # share_sized: the counts that qualify, inclusive
    coverage: tuple[tuple[date, date, float], ...] = ()  # (from, to, chance an attack is listed)

    @property
    def column(self) -> str:
        """The column of a runs table that holds this check's value per replication."""
        return f"check.{self.id}"


def measure(check: Check, records: Sequence[Record], calendar: Calendar) -> float:
    """The value of ``check`` in one replication's log (see the module docstring)."""
    begin, end = calendar.day_of(check.start), calendar.day_of(check.end) + 1.0
    kinds = _kinds(check.kinds)
    if check.coverage:
        records = listed(records, kinds, check.coverage, calendar)
    inside = [r for r in records if r.kind in kinds and begin <= r.time_d < end]
    times = [r.time_d for r in inside]
    if check.statistic == "count":
        return float(len(times))
    if check.statistic == "sum":
        return float(sum(r.count for r in inside))
    if check.statistic == "none":
        return 0.0 if times else 1.0
    if check.statistic == "first_after":
        return (times[0] - begin) if times else (end - begin)
    if check.statistic == "followed_within":
        trigger = record_kind_named(check.trigger)
        triggers = [r.time_d for r in records if r.kind is trigger and begin <= r.time_d < end]
        if not triggers:
            return math.nan
        later = sorted(r.time_d for r in records if r.kind in kinds)
        followed = sum(
            1 for t in triggers if bisect.bisect_right(later, t + check.days) > bisect.bisect_right(later, t)
        )
        return followed / len(triggers)
    if check.statistic == "busiest_week":
        ordered = sorted(times)
        return float(max((bisect.bisect_left(ordered, t + check.days) - i for i, t in enumerate(ordered)), default=0))
    if check.statistic == "share_sized":
        low, high = check.sizes
        return sum(1 for r in inside if low <= r.count <= high) / len(inside) if inside else math.nan
    if check.statistic == "attacks":
        return float(len({r.attack for r in inside}))
    if check.statistic == "dispersion":
        spans = int((end - begin) / check.days + 0.5)
        counts = [0] * spans
        for t in times:
            k = int((t - begin) / check.days)
            if k < spans:
                counts[k] += 1
        mean = sum(counts) / spans if spans else 0.0
        return sum((c - mean) ** 2 for c in counts) / (spans - 1) / mean if spans > 1 and mean > 0 else math.nan
    raise ValueError(f"unknown statistic {check.statistic!r}")


def listed(records: Sequence[Record], kinds: frozenset[RecordKind], coverage, calendar: Calendar) -> list[Record]:
    """The records of ``kinds`` that an incomplete record would list (the module docstring's
    observation model); records of other kinds are kept as they are."""
    spans = [(calendar.day_of(a), calendar.day_of(b) + 1.0, p) for a, b, p in coverage]
    kept = []
    for r in records:
        if r.kind in kinds:
            chance = next((p for a, b, p in spans if a <= r.time_d < b), 1.0)
            if listing_uniform(r) >= chance:
                continue
        kept.append(r)
    return kept


def listing_uniform(record: Record) -> float:
    """A uniform in [0, 1) fixed by a record's attack and time (not by any random stream, so
    that measuring a log never changes what the model draws)."""
    digest = hashlib.blake2b(f"{record.attack}@{record.time_d!r}".encode(), digest_size=8).digest()
    return struct.unpack("<Q", digest)[0] / 2.0**64


def _kinds(names: tuple[str, ...]) -> frozenset[RecordKind]:
    return frozenset(record_kind_named(name) for name in names)
