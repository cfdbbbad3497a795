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
    return Log(records, calendar).measure(check)


def measure_all(checks: Sequence[Check], records: Sequence[Record], calendar: Calendar) -> list[float]:
    """The value of each of ``checks`` in one replication's log: the log is sorted by kind once
    and each record's listing uniform drawn once, whatever the number of checks (a calibration
    measures thirty of them on every simulation)."""
    log = Log(records, calendar)
    return [log.measure(check) for check in checks]


class Log:
    """One replication's records by kind, for measuring checks on it.

    Every statistic reads only the records of its kinds (and its trigger's), so each check scans
    those lists rather than the whole log; no statistic depends on the order of the records
    beyond their times (``first_after`` takes the earliest, the others count, sum or sort)."""

    def __init__(self, records: Sequence[Record], calendar: Calendar) -> None:
        self.calendar = calendar
        self.by_kind: dict[RecordKind, list[Record]] = {}
        for r in records:
            of_kind = self.by_kind.get(r.kind)
            if of_kind is None:
                of_kind = self.by_kind[r.kind] = []
            of_kind.append(r)
        self._days: dict[date, float] = {}
        self._listed: dict[tuple, list[Record]] = {}  # (kind, coverage) -> the records of kind listed
        self._uniforms: dict[tuple, float] = {}  # (attack, time) -> its listing uniform

    def day(self, when: date) -> float:
        day = self._days.get(when)
        if day is None:
            day = self._days[when] = self.calendar.day_of(when)
        return day

    def of_kind(self, kind: RecordKind, coverage: tuple = ()) -> list[Record]:
        """The records of ``kind`` in time order; with ``coverage``, those an incomplete record
        would list (the module docstring's observation model)."""
        records = self.by_kind.get(kind, [])
        if not coverage or not records:
            return records
        key = (kind, coverage)
        kept = self._listed.get(key)
        if kept is None:
            spans = [(self.day(a), self.day(b) + 1.0, p) for a, b, p in coverage]
            uniforms = self._uniforms
            kept = []
            for r in records:
                chance = next((p for a, b, p in spans if a <= r.time_d < b), 1.0)
                u = uniforms.get((r.attack, r.time_d))
                if u is None:
                    u = uniforms[(r.attack, r.time_d)] = listing_uniform(r)
                if u < chance:
                    kept.append(r)
            self._listed[key] = kept
        return kept

    def measure(self, check: Check) -> float:
        """The value of ``check`` on this log."""
        begin, end = self.day(check.start), self.day(check.end) + 1.0
        kinds = _kinds(check.kinds)
        coverage = check.coverage
        inside = [r for kind in kinds for r in self.of_kind(kind, coverage) if begin <= r.time_d < end]
        times = sorted(r.time_d for r in inside)
        statistic = check.statistic
        if statistic == "count":
            return float(len(times))
        if statistic == "sum":
            return float(sum(r.count for r in inside))
        if statistic == "none":
            return 0.0 if times else 1.0
        if statistic == "first_after":
            return (times[0] - begin) if times else (end - begin)
        if statistic == "followed_within":
            trigger = record_kind_named(check.trigger)
            thinned = coverage if trigger in kinds else ()
            triggers = [r.time_d for r in self.of_kind(trigger, thinned) if begin <= r.time_d < end]
            if not triggers:
                return math.nan
            later = sorted(r.time_d for kind in kinds for r in self.of_kind(kind, coverage))
            followed = sum(
                1 for t in triggers if bisect.bisect_right(later, t + check.days) > bisect.bisect_right(later, t)
            )
            return followed / len(triggers)
        if statistic == "busiest_week":
            return float(max((bisect.bisect_left(times, t + check.days) - i for i, t in enumerate(times)), default=0))
        if statistic == "share_sized":
            low, high = check.sizes
            return sum(1 for r in inside if low <= r.count <= high) / len(inside) if inside else math.nan
        if statistic == "attacks":
            return float(len({r.attack for r in inside}))
        if statistic == "dispersion":
            spans = int((end - begin) / check.days + 0.5)
            counts = [0] * spans
            for t in times:
                k = int((t - begin) / check.days)
                if k < spans:
                    counts[k] += 1
            mean = sum(counts) / spans if spans else 0.0
            return sum((c - mean) ** 2 for c in counts) / (spans - 1) / mean if spans > 1 and mean > 0 else math.nan
        raise ValueError(f"unknown statistic {statistic!r}")


def listing_uniform(record: Record) -> float:
    """A uniform in [0, 1) fixed by a record's attack and time (not by any random stream, so
    that measuring a log never changes what the model draws)."""
    digest = hashlib.blake2b(f"{record.attack}@{record.time_d!r}".encode(), digest_size=8).digest()
    return struct.unpack("<Q", digest)[0] / 2.0**64


def _kinds(names: tuple[str, ...]) -> frozenset[RecordKind]:
    return frozenset(record_kind_named(name) for name in names)
