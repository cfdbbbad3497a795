"""Checks measured together (:func:`sim.replication.checks.measure_all`, the log sorted by kind
once, each listing uniform drawn once) give exactly the values of the plain definition of the
module docstring, written out here one check at a time over the whole log: on the logs of real
replications, for every statistic a calibration and validate read, with and without the
observation model's thinning."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from sim.calibration.event_statistics import event_observations, load_event_record
from sim.calibration.settings import load_calibration
from sim.model.records import record_kind_named
from sim.replication.checks import Check, listing_uniform, measure, measure_all
from sim.replication.simulate import event_log

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "configs" / "calibration.toml"


def plain_measure(check: Check, records, calendar) -> float:
    """The definition, one pass over the whole log per check."""
    begin, end = calendar.day_of(check.start), calendar.day_of(check.end) + 1.0
    kinds = {record_kind_named(k) for k in check.kinds}
    if check.coverage:
        spans = [(calendar.day_of(a), calendar.day_of(b) + 1.0, p) for a, b, p in check.coverage]

        def chance(t):
            return next((p for a, b, p in spans if a <= t < b), 1.0)

        records = [r for r in records if r.kind not in kinds or listing_uniform(r) < chance(r.time_d)]
    inside = [r for r in records if r.kind in kinds and begin <= r.time_d < end]
    times = [r.time_d for r in inside]
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
        triggers = [r.time_d for r in records if r.kind is trigger and begin <= r.time_d < end]
        if not triggers:
            return math.nan
        later = sorted(r.time_d for r in records if r.kind in kinds)
        return sum(1 for t in triggers if any(t < u <= t + check.days for u in later)) / len(triggers)
    if statistic == "busiest_week":
        return float(max((sum(1 for u in times if t <= u < t + check.days) for t in times), default=0))
    if statistic == "share_sized":
        low, high = check.sizes
        return sum(1 for r in inside if low <= r.count <= high) / len(inside) if inside else math.nan
    if statistic == "attacks":
        return float(len({r.attack for r in inside}))
    if statistic == "dispersion":
        spans = int((end - begin) / check.days + 0.5)
        counts = [sum(1 for t in times if int((t - begin) / check.days) == k) for k in range(spans)]
        mean = sum(counts) / spans if spans else 0.0
        return sum((c - mean) ** 2 for c in counts) / (spans - 1) / mean if spans > 1 and mean > 0 else math.nan
    raise ValueError(statistic)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.fixture(scope="module")
def calibration_checks():
    calibration = load_calibration(CALIBRATION)
    events = event_observations(load_event_record(calibration.events_path), calibration.fitted, calibration.scenario)
    checks = [o.check for o in (*calibration.fitted, *events)]
    assert any(c.coverage for c in checks) and {c.statistic for c in checks} >= {
        "count",
        "sum",
        "busiest_week",
        "dispersion",
        "followed_within",
        "share_sized",
    }
    return calibration.scenario, checks


def extra_checks() -> list[Check]:
    """The statistics the calibration does not read, and a trigger outside the thinned kinds."""
    a, b = date(2020, 1, 1), date(2020, 9, 30)
    cover = ((date(2020, 1, 1), date(2020, 4, 30), 0.4), (date(2020, 5, 1), date(2020, 9, 30), 0.9))
    rockets = ("attack_rocket", "attack_drone")
    return [
        Check("none", "none", ("attack_drone",), a, date(2020, 1, 20)),
        Check("first", "first_after", rockets, date(2020, 2, 1), b),
        Check("first_listed", "first_after", rockets, date(2020, 2, 1), b, coverage=cover),
        Check("attacks", "attacks", ("us_wounded",), a, b),
        Check(
            "followed", "followed_within", ("attack_convoy",), a, b, trigger="attack_rocket", days=2.0, coverage=cover
        ),
        Check("busiest", "busiest_week", rockets, a, b, days=7.0),
        Check("dispersion", "dispersion", ("attack_convoy",), a, b, days=30.0, coverage=cover),
    ]


@pytest.mark.parametrize("replication", range(4))
def test_checks_measured_together_equal_the_plain_definition(calibration_checks, replication):
    scenario, checks = calibration_checks
    checks = [*checks, *extra_checks()]
    records = event_log(scenario, replication, 5)
    calendar = scenario.scenario.calendar
    together = measure_all(checks, records, calendar)
    differ = [
        (c.id, got, want)
        for c, got in zip(checks, together, strict=True)
        if not same(got, want := plain_measure(c, records, calendar))
    ]
    assert not differ, differ
    assert all(same(measure(c, records, calendar), v) for c, v in zip(checks, together, strict=True))
    assert sum(1 for c, v in zip(checks, together, strict=True) if v and not math.isnan(v)) > len(checks) / 2
