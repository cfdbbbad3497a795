"""The event record's statistics and the held-out split.

- The split: no row marked held-out may reach into anything the calibration reads (the fitted
  rows, the event record, the simulated window of a particle), and what the calibration reads
  holds nothing the militias did on or after 1 October 2020. Rows marked ``overlap`` really do
  overlap; rows marked ``fit`` are exactly the record's rows in the distance.
- The observation model: thinning keeps each attack with its coverage (a binomial test), and
  the same attack is kept or dropped by every check of a replication.
- The new statistics on tiny logs with known answers.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.calibration.event_record import load_events
from sim.calibration.event_statistics import coverage, event_observations, load_event_record
from sim.calibration.settings import load_calibration
from sim.config.calendar import Calendar
from sim.model.records import Record, record_kind_named
from sim.replication.checks import Check, Log, measure

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "configs" / "calibration.toml"
HELD_OUT_FROM = date(2020, 10, 1)  # what the militias did from this day on is held out
CALENDAR = Calendar(date(2020, 1, 1), date(2020, 12, 31))


def read_window(calibration) -> tuple[date, date]:
    """The first and last day of everything the calibration reads: the simulated window, the
    fitted rows, the event record."""
    events = load_events(calibration.events_path)
    scenario = calibration.scenario.scenario
    starts = [scenario.start_date, *(o.check.start for o in calibration.fitted), *(e.day for e in events)]
    ends = [scenario.end_date, *(o.check.end for o in calibration.fitted), *(e.day for e in events)]
    return min(starts), max(ends)


def read_kinds(calibration) -> set[str]:
    """The kinds of record whose simulated values the calibration's distance reads."""
    events = event_observations(load_event_record(calibration.events_path), calibration.fitted, calibration.scenario)
    checks = [o.check for o in (*calibration.fitted, *events)]
    return {k for c in checks for k in (*c.kinds, *([c.trigger] if c.trigger else []))}


def test_no_held_out_row_reaches_into_what_the_calibration_reads():
    """A held-out row starts after everything the calibration reads, unless it reads only kinds
    of record the calibration never reads (the truce the militias declared within 60 days of
    the threat of 20 Sep 2020: no truce is fitted, and the window's record holds none)."""
    calibration = load_calibration(CALIBRATION)
    first, last = read_window(calibration)
    assert last < HELD_OUT_FROM, f"the calibration reads militia actions of {last}"
    held_out = [o for o in calibration.observations if o.use == "held-out"]
    assert len(held_out) >= 10
    read = read_kinds(calibration)
    assert "attack_rocket" in read and "truce_start" not in read
    for obs in held_out:
        unread = not set(obs.check.kinds) & read
        assert obs.check.start > last or unread, (
            f"{obs.check.id} starts {obs.check.start}, inside what the calibration reads (to {last})"
        )
        assert obs.check.end >= HELD_OUT_FROM


def test_record_labels_say_what_each_row_was_used_for():
    calibration = load_calibration(CALIBRATION)
    first, last = read_window(calibration)
    fitted_ids = {o.check.id for o in calibration.fitted}
    for obs in calibration.observations:
        overlaps = obs.check.start <= last and obs.check.end >= first
        if obs.use == "fit":
            assert obs.check.id in fitted_ids and obs.check.end < HELD_OUT_FROM
        else:
            assert obs.check.id not in fitted_ids
        if obs.use == "overlap":
            assert overlaps, f"{obs.check.id} is marked overlap but lies outside {first}..{last}"
        if obs.use == "set":
            assert obs.note, f"{obs.check.id} is marked set but its note does not say what it set"


def test_a_held_out_row_inside_the_read_window_fails_the_split(tmp_path):
    """The split test above can fail: a record with a held-out row in the fit window."""
    record = (ROOT / "configs" / "data" / "public_record.csv").read_text()
    planted = (
        record
        + "planted,count,attack_rocket,2020-09-01,2020-09-30,,,1,,held-out,docs/sources.md#public-record,planted\n"
    )
    (tmp_path / "record.csv").write_text(planted)
    calibration = load_calibration(CALIBRATION, tmp_path / "record.csv")
    _, last = read_window(calibration)
    read = read_kinds(calibration)
    offending = [
        o.check.id
        for o in calibration.observations
        if o.use == "held-out" and o.check.start <= last and set(o.check.kinds) & read
    ]
    assert offending == ["planted"]


def test_the_event_record_holds_nothing_after_the_fit_window():
    events = load_events(ROOT / "configs" / "data" / "events_2019_2020.csv")
    assert events and max(e.day for e in events) < HELD_OUT_FROM


def attacks_at(days: list[float], kind: str = "attack_rocket", counts: list[int] | None = None) -> list[Record]:
    counts = counts or [1] * len(days)
    return [Record(t, record_kind_named(kind), attack=f"a-{i}", count=c) for i, (t, c) in enumerate(zip(days, counts))]


def test_busiest_week_share_sized_and_attacks_on_known_logs():
    log = attacks_at([0.5, 1.5, 3.0, 6.9, 7.1, 20.0, 21.0], counts=[1, 2, 3, 6, 13, 14, 1])
    week = Check("w", "busiest_week", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31), days=7.0)
    assert measure(week, log, CALENDAR) == 5.0  # 0.5 to 7.1 lie within 7 days (6.6 apart); 20 and 21 are two
    shares = {
        size: Check("s", "share_sized", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31), sizes=size)
        for size in ((1, 2), (3, 5), (6, 13))
    }
    assert [measure(c, log, CALENDAR) for c in shares.values()] == pytest.approx([3 / 7, 1 / 7, 2 / 7])
    hurt = [
        Record(2.0, record_kind_named("us_wounded"), attack="x", count=3),
        Record(2.0, record_kind_named("us_killed"), attack="x", count=1),
        Record(9.0, record_kind_named("us_wounded"), attack="y", count=1),
    ]
    casualty = Check("c", "attacks", ("us_killed", "us_wounded"), date(2020, 1, 1), date(2020, 1, 31))
    assert measure(casualty, hurt, CALENDAR) == 2.0


def test_thinning_keeps_each_attack_with_its_coverage_and_the_same_attacks_for_every_check():
    rng = np.random.default_rng(11)
    days = np.sort(rng.uniform(0, 90, 4000)).tolist()
    log = attacks_at(days)
    rocket = record_kind_named("attack_rocket")
    cover = ((date(2020, 1, 1), date(2020, 2, 14), 0.3), (date(2020, 2, 15), date(2020, 3, 31), 0.8))
    kept = Log(log, CALENDAR).of_kind(rocket, cover)
    for a, b, p in cover:
        lo, hi = CALENDAR.day_of(a), CALENDAR.day_of(b) + 1
        n = sum(1 for r in log if lo <= r.time_d < hi)
        k = sum(1 for r in kept if lo <= r.time_d < hi)
        # two-sided binomial test at 0.1%: a fixed seed, so this fails by chance once in a thousand seeds
        assert stats.binomtest(k, n, p).pvalue > 0.001, (a, k, n, p)
    again = Log(log, CALENDAR).of_kind(rocket, cover)
    assert [r.attack for r in again] == [r.attack for r in kept]
    count = Check("n", "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 3, 31), coverage=cover)
    assert measure(count, log, CALENDAR) == len(kept)


def test_event_observations_of_the_project_record():
    calibration = load_calibration(CALIBRATION)
    record = load_event_record(calibration.events_path)
    fitted_rows = [o for o in calibration.fitted if o.check.id in {x.check.id for x in calibration.observations}]
    spans = coverage(record, fitted_rows, calibration.scenario.scenario.calendar)
    assert all(0.0 <= p <= 1.0 for group in spans.values() for _, _, p in group)
    derived = event_observations(record, fitted_rows, calibration.scenario)
    ids = [o.check.id for o in derived]
    assert len(ids) == len(set(ids)) and all(o.use == "fit" for o in derived)
    months = [i for i in ids if i.startswith("monthly.rocket_drone.")]
    assert len(months) == 9  # January-September 2020
    strikes = sorted({i.split(".")[1] for i in ids if i.startswith("after_strike.")})
    assert strikes == ["2020-01-03", "2020-03-12"]
    shares = [o for o in derived if o.check.statistic == "share_sized"]
    assert len(shares) == 3 and all(0 <= o.low <= o.high <= 1 for o in shares)
    # the monthly counts of a group add up to what the record lists over the fitted quarters
    log = record.log(calibration.scenario.scenario.calendar)
    total = Check("t", "count", ("attack_rocket", "attack_drone"), date(2020, 1, 1), date(2020, 9, 30))
    assert sum(o.low for o in derived if o.check.id in months) == measure(
        total, log, calibration.scenario.scenario.calendar
    )
    assert all(d.check.end <= date(2020, 9, 30) for d in derived)
    assert max(o.check.end for o in derived) < HELD_OUT_FROM - timedelta(days=0)


def test_the_calibration_page_counts_the_rows_of_each_use_as_the_record_has_them():
    import re

    page = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    calibration = load_calibration(CALIBRATION)
    for use in ("fit", "set", "overlap", "held-out"):
        m = re.search(rf"^\| `{use}` \| (\d+):", page, re.MULTILINE)
        assert m, f"docs/calibration.md: no row for use {use}"
        assert int(m.group(1)) == sum(1 for o in calibration.observations if o.use == use), use


def test_dispersion_is_variance_over_mean_of_the_counts_per_span():
    # spans of 10 days over 30 days: counts 3, 0, 1 -> mean 4/3, variance (25/9 + 16/9 + 1/9) / 2 = 7/3
    log = attacks_at([0.5, 2.0, 9.9, 25.0])
    check = Check("d", "dispersion", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 30), days=10.0)
    assert measure(check, log, CALENDAR) == pytest.approx((7 / 3) / (4 / 3))
    assert np.isnan(measure(check, [], CALENDAR))
    # a Poisson process has dispersion 1: the mean over many replications of 30 spans is near 1
    rng = np.random.default_rng(12)
    year = Check("y", "dispersion", ("attack_rocket",), date(2020, 1, 1), date(2020, 12, 25), days=12.0)
    values = [
        measure(year, attacks_at(np.sort(rng.uniform(0, 360, rng.poisson(360))).tolist()), CALENDAR) for _ in range(400)
    ]
    # the sample index of dispersion of 30 Poisson counts has mean 1 and sd sqrt(2/29) = 0.26;
    # over 400 replications the mean's sd is 0.013: 0.05 is about 4 sd (false failure < 1 in 10,000 seeds)
    assert np.mean(values) == pytest.approx(1.0, abs=0.05)
