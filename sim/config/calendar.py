"""Simulation time is in days since the scenario's start date (t = 0 at 00:00 of day one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

SECONDS_PER_DAY = 86_400.0
HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = 30.44  # a mean month, for monthly rates and steps


def seconds(s: float) -> float:
    """A duration in seconds, as simulation days."""
    return s / SECONDS_PER_DAY


def hours(h: float) -> float:
    """A duration in hours, as simulation days."""
    return h / HOURS_PER_DAY


@dataclass(frozen=True)
class Calendar:
    """Converts between dates and simulation days, and splits a run into calendar quarters."""

    start: date
    end: date
    count_from: date | None = None  # outcomes count events from 00:00 of this date (default: start)

    @property
    def count_from_day(self) -> float:
        return 0.0 if self.count_from is None else self.day_of(self.count_from)

    def day_of(self, when: date) -> float:
        """Simulation time at 00:00 of ``when``."""
        return float((when - self.start).days)

    def datetime_of(self, t_days: float) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day) + timedelta(days=t_days)

    @property
    def horizon_days(self) -> float:
        """Length of the run: from 00:00 of the start date to 24:00 of the end date."""
        return float((self.end - self.start).days + 1)

    def quarter_starts(self) -> list[float]:
        """Simulation times at which each calendar quarter of the run begins (the first
        quarter may be partial and begins at 0)."""
        starts = [0.0]
        first = date(self.start.year, 3 * ((self.start.month - 1) // 3) + 1, 1)
        year, month = first.year, first.month + 3
        while True:
            if month > 12:
                year, month = year + 1, month - 12
            q = date(year, month, 1)
            if q > self.end:
                return starts
            starts.append(self.day_of(q))
            month += 3

    def quarter_labels(self) -> list[str]:
        """``2020Q1``-style labels, one per quarter of the run."""
        labels = []
        for t in self.quarter_starts():
            d = self.datetime_of(t)
            labels.append(f"{d.year}Q{(d.month - 1) // 3 + 1}")
        return labels
