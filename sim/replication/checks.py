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
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from sim.config.calendar import Calendar
from sim.model.records import Record, RecordKind, record_kind_named

STATISTICS = ("count", "sum", "none", "first_after", "followed_within")


@dataclass(frozen=True)
class Check:
    id: str
    statistic: str
    kinds: tuple[str, ...]
    start: date
    end: date
    trigger: str | None = None
    days: float | None = None

    @property
    def column(self) -> str:
        """The column of a runs table that holds this check's value per replication."""
        return f"check.{self.id}"


def measure(check: Check, records: Sequence[Record], calendar: Calendar) -> float:
    """The value of ``check`` in one replication's log (see the module docstring)."""
    begin, end = calendar.day_of(check.start), calendar.day_of(check.end) + 1.0
    kinds = _kinds(check.kinds)
    times = [r.time_d for r in records if r.kind in kinds and begin <= r.time_d < end]
    if check.statistic == "count":
        return float(len(times))
    if check.statistic == "sum":
        return float(sum(r.count for r in records if r.kind in kinds and begin <= r.time_d < end))
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
        followed = sum(1 for t in triggers if bisect.bisect_right(later, t + check.days) > bisect.bisect_right(later, t))
        return followed / len(triggers)
    raise ValueError(f"unknown statistic {check.statistic!r}")


def _kinds(names: tuple[str, ...]) -> frozenset[RecordKind]:
    return frozenset(record_kind_named(name) for name in names)
