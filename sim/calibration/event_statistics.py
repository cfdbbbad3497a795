"""Summary statistics of the event-level record of the fit window, for the calibration.

The quarterly totals of the public record say how many attacks there were; the event record
(:mod:`sim.calibration.event_record`) says when they came, how large the salvos were, whom they
hurt and what followed the U.S. strikes. It is a sample: it lists some of the attacks the
totals count. Each statistic here is a :class:`~sim.replication.checks.Check` measured the same
way on a simulated log and on the record, with the record's observation model applied to the
simulated log (``coverage``: the share of each quarter's attacks the record lists, from the
fitted totals), so that a sample is compared with a sample.

The statistics, each over the fit window (the dates of the fitted totals):

- ``monthly.<group>.<yyyy-mm>``: attacks of each group (rockets and drones; see ``GROUPS`` for why
  not convoys) in each calendar month: the timing within a quarter, the burstiness of the regimes;
- ``busiest_week.<group>``: the most attacks of the group in any 7 days: how bursty;
- ``dispersion.<group>``: the variance over the mean of its attacks per month (1 for a Poisson
  process): how far the regimes and the self-excitation spread the monthly counts;
- ``followed.rocket_drone``: the share of listed rocket salvos followed by another listed
  rocket or drone attack within 3 days: the short-range clustering of self-excitation;
- ``after_strike.<date>.<from>-<to>``: rocket and drone attacks in the days after each dated U.S.
  strike of the window (days 0-13 and 14-41): revenge, capacity loss or a pause;
- ``salvos.<low>-<high>``: the share of salvos of known size with 1-2, 3-5 and 6-13 rockets
  (no coverage: the sizes a record reports are taken as a sample of all salvos' sizes; an
  assumption, since large salvos are likelier to be reported with their size). The observed
  range is the 68% Jeffreys interval of the share, the record's own sampling error;
- ``casualty_attacks``: attacks that killed or wounded U.S. or coalition personnel (no
  coverage: every such attack is taken to be in the record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from scipy import stats

from sim.calibration.event_record import ObservedRecord, load_events, observed_records
from sim.calibration.public_record import Observation
from sim.config.calendar import DAYS_PER_MONTH, Calendar
from sim.config.scenario import Scenario
from sim.model.records import Record, record_kind_named
from sim.project import shown_path
from sim.replication.checks import Check, measure

# Groups of attacks whose timing the record informs. Convoy attacks are left out: the record lists
# 3 of the 41 of the first half of 2020, and for the third quarter more rows than the published
# total, most from one partisan list of a few August days (docs/event_record.md): a different
# count basis, which would teach the model a burst that the published series does not hold.
GROUPS = {"rocket_drone": ("attack_rocket", "attack_drone")}
SALVO_BINS = ((1, 2), (3, 5), (6, 13))
STRIKE_SPANS = ((0, 13), (14, 41))  # days after a strike
WEEK_DAYS = 7.0
FOLLOW_DAYS = 3.0
SHARE_INTERVAL = 0.68  # the Jeffreys interval of an observed share: about one standard error either side
STRIKE_EVENT = "us_strike"


@dataclass(frozen=True)
class EventRecord:
    """The event record as a log of the model's records, and what it covers."""

    path: Path
    records: tuple[ObservedRecord, ...]

    def log(self, calendar: Calendar, known_sizes_only: bool = False) -> list[Record]:
        """The records as a replication's log (each at midday of its date); a salvo of unknown
        size counts 0 rockets, or is left out with ``known_sizes_only``."""
        out = []
        for r in self.records:
            if known_sizes_only and r.kind == "attack_rocket" and r.count is None:
                continue
            out.append(
                Record(calendar.day_of(r.day) + 0.5, record_kind_named(r.kind), attack=r.event, count=r.count or 0)
            )
        return out


def load_event_record(path: str | Path) -> EventRecord:
    return EventRecord(Path(path), tuple(observed_records(load_events(path))))


def coverage(
    record: EventRecord, fitted: Sequence[Observation], calendar: Calendar
) -> dict[str, tuple[tuple[date, date, float], ...]]:
    """Per group, the share of each fitted total's attacks the record lists (at most 1), over
    that total's dates. A group no fitted count covers is taken as listed in full."""
    log = record.log(calendar)
    out = {}
    for group, kinds in GROUPS.items():
        spans = []
        for obs in fitted:
            if obs.check.statistic == "count" and set(obs.check.kinds) == set(kinds) and obs.point > 0:
                listed = measure(obs.check, log, calendar)
                spans.append((obs.check.start, obs.check.end, min(1.0, listed / obs.point)))
        out[group] = tuple(sorted(spans))
    return out


def event_observations(record: EventRecord, fitted: Sequence[Observation], scenario: Scenario) -> list[Observation]:
    """The statistics of the module docstring, observed on ``record``, over the dates of the
    fitted totals (``fitted``: the record file's fitted rows)."""
    calendar = scenario.scenario.calendar
    spans = coverage(record, fitted, calendar)
    covered = [s for group in spans.values() for s in group]
    if not covered:
        return []
    start, end = min(s[0] for s in covered), max(s[1] for s in covered)
    source = f"{shown_path(record.path)} (the event record of the fit window; see docs/event_record.md)"
    log, sized = record.log(calendar), record.log(calendar, known_sizes_only=True)
    out: list[Observation] = []

    def add(check: Check, note: str, on: list[Record] | None = None) -> None:
        value = measure(_as_listed(check), on if on is not None else log, calendar)
        out.append(Observation(check, value, value, source, "fit", note))

    for group, kinds in GROUPS.items():
        if not spans[group]:
            continue
        cover = spans[group]
        for first, last in _months(start, end):
            add(
                Check(f"monthly.{group}.{first:%Y-%m}", "count", kinds, first, last, coverage=cover),
                "listed attacks in the month; the model's log thinned to the record's coverage",
            )
        add(
            Check(f"busiest_week.{group}", "busiest_week", kinds, start, end, days=WEEK_DAYS, coverage=cover),
            "the most listed attacks in any 7 days",
        )
        add(
            Check(f"dispersion.{group}", "dispersion", kinds, start, end, days=DAYS_PER_MONTH, coverage=cover),
            "variance over mean of the listed attacks per month (1: Poisson)",
        )
    rocket_drone = GROUPS["rocket_drone"]
    cover = spans["rocket_drone"]
    if cover:
        add(
            Check(
                "followed.rocket_drone",
                "followed_within",
                rocket_drone,
                start,
                end,
                trigger="attack_rocket",
                days=FOLLOW_DAYS,
                coverage=cover,
            ),
            "share of listed salvos followed within 3 days by a listed attack",
        )
        for name, event in sorted(scenario.history.items(), key=lambda item: item[1].date):
            if event.event != STRIKE_EVENT or not start <= event.date <= end:
                continue
            for a, b in STRIKE_SPANS:
                first, last = event.date + timedelta(days=a), min(end, event.date + timedelta(days=b))
                add(
                    Check(
                        f"after_strike.{event.date:%Y-%m-%d}.{a}-{b}",
                        "count",
                        rocket_drone,
                        first,
                        last,
                        coverage=cover,
                    ),
                    f"listed rocket and drone attacks on days {a}-{b} after the strike of {event.date} ({name})",
                )
    window = Check("salvos", "count", ("attack_rocket",), start, end)
    known = int(measure(window, sized, calendar))
    for low, high in SALVO_BINS:
        check = Check(f"salvos.{low}-{high}", "share_sized", ("attack_rocket",), start, end, sizes=(low, high))
        share = measure(check, sized, calendar)
        if known:
            lo, hi = stats.beta(share * known + 0.5, (1 - share) * known + 0.5).interval(SHARE_INTERVAL)
            out.append(
                Observation(
                    check,
                    float(lo),
                    float(hi),
                    source,
                    "fit",
                    f"share of the {known} salvos of known size; range: 68% Jeffreys interval",
                )
            )
    add(
        Check("casualty_attacks", "attacks", ("us_killed", "us_wounded"), start, end),
        "attacks that killed or wounded U.S. or coalition personnel",
    )
    return out


def _as_listed(check: Check) -> Check:
    """The check as measured on the record itself, which is already a sample."""
    return replace(check, coverage=())


def _months(start: date, end: date) -> list[tuple[date, date]]:
    months, first = [], start
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        months.append((first, min(end, following - timedelta(days=1))))
        first = following
    return months
