"""`validate`: checks over a replication's log, the public-record file, the scores and the command."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import call_main
from statsmodels.stats.proportion import proportion_confint

from sim.analysis.validation import (
    EVENT_COLUMNS,
    censored_crps,
    event_probability,
    midrank_percentile,
    quiet_period,
    score_checks,
    skill_table,
    summary_line,
    write_validation,
)
from sim.batch.cells import neutralise_cells
from sim.calibration.public_record import Observation, load_record
from sim.config.calendar import Calendar
from sim.config.errors import ConfigError
from sim.model.records import Record, record_kind_named
from sim.replication.checks import Check, measure

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "configs" / "data" / "public_record.csv"
REPLAY = ROOT / "configs" / "scenarios" / "history_2020_2021.toml"
CALENDAR = Calendar(date(2020, 1, 1), date(2020, 12, 31))


def rec(day: float, name: str, count: int = 1) -> Record:
    return Record(day, record_kind_named(name), None, None, count)


LOG = [
    rec(1.5, "attack_rocket", 3),
    rec(2.0, "us_strike_retaliatory"),
    rec(3.9, "attack_rocket", 1),
    rec(40.0, "attack_drone"),
    rec(41.0, "attack_rocket", 30),
    rec(45.0, "us_strike_retaliatory"),
]


@pytest.mark.parametrize(
    "check, expected",
    [
        (Check("a", "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31)), 2.0),
        (
            Check("b", "count", ("attack_rocket", "attack_drone"), date(2020, 1, 2), date(2020, 2, 10)),
            3.0,
        ),  # 41.0 is 11 Feb
        (Check("c", "sum", ("attack_rocket",), date(2020, 1, 1), date(2020, 12, 31)), 34.0),
        (Check("d", "none", ("attack_drone",), date(2020, 1, 1), date(2020, 2, 8)), 1.0),  # day 40 is 10 Feb
        (Check("e", "none", ("attack_drone",), date(2020, 2, 10), date(2020, 2, 10)), 0.0),
        (Check("f", "first_after", ("attack_rocket",), date(2020, 1, 3), date(2020, 3, 31)), 1.9),
        (Check("g", "first_after", ("attack_drone",), date(2020, 3, 1), date(2020, 3, 10)), 10.0),  # censored
        (
            Check(
                "h",
                "followed_within",
                ("us_strike_retaliatory",),
                date(2020, 1, 1),
                date(2020, 12, 31),
                "attack_rocket",
                1.0,
            ),
            1 / 3,
        ),
        (
            Check("i", "followed_within", ("attack_rocket",), date(2020, 3, 1), date(2020, 3, 31), "attack_drone", 5.0),
            math.nan,
        ),
    ],
)
def test_each_statistic_on_a_hand_built_log(check, expected):
    value = measure(check, LOG, CALENDAR)
    assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected)


def test_the_censored_crps_of_a_point_is_the_crps():
    """For a closed range of one point, the censored form equals E|X - y| - E|X - X'| / 2."""
    rng = np.random.default_rng(3)
    sample = rng.poisson(7.0, 400).astype(float)
    for y in (0.0, 4.0, 7.5, 20.0):
        expected = np.abs(sample - y).mean() - 0.5 * np.abs(sample[:, None] - sample[None, :]).mean()
        assert censored_crps(sample, y, y) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_the_censored_crps_charges_nothing_inside_the_range_and_grows_outside():
    sample = np.array([10.0, 12.0, 14.0])
    assert censored_crps(sample, 9.0, 15.0) == 0.0
    assert censored_crps(sample, 0.0, None) == 0.0  # "at least 0": always met
    assert 0 < censored_crps(sample, 11.0, None) < censored_crps(sample, 13.0, None) < censored_crps(sample, 20.0, None)
    # a sharper forecast around the truth scores better than a wide one with the same median
    sharp, wide = np.full(100, 20.0) + np.linspace(-1, 1, 100), np.full(100, 20.0) + np.linspace(-15, 15, 100)
    assert censored_crps(sharp, 20.0, 20.0) < censored_crps(wide, 20.0, 20.0)


def test_scores_and_bands_of_hand_made_runs():
    obs = [
        Observation(Check("x", "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31)), 5, 5, "s"),
        Observation(Check("y", "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31)), 50, None, "s"),
        Observation(Check("z", "none", ("us_killed",), date(2020, 1, 1), date(2020, 1, 31)), 1, 1, "s"),
    ]
    runs = pd.DataFrame(
        {"check.x": np.arange(100.0) % 10, "check.y": np.arange(100.0) % 10, "check.z": [1.0] * 3 + [0.0] * 97}
    )
    table = score_checks(obs, runs).set_index("check")
    assert table.loc["x", "inside_90"] and not table.loc["y", "inside_90"]  # nothing reaches 50
    assert table.loc["x", "percentile"] == pytest.approx(midrank_percentile(5.0, runs["check.x"].to_numpy()))
    assert table.loc["z", "p_observed"] == pytest.approx(0.03) and not table.loc["z", "inside_90"]
    assert table.loc["z", "score"] == pytest.approx(np.mean((runs["check.z"] - 1) ** 2))


def test_the_probability_of_an_event_and_its_wilson_interval_by_hand():
    """3 of 20 replications saw the event (value 0): P = 1 - mean = 0.15. By hand, z = 1.959964:
    centre (0.15 + z^2/40) / (1 + z^2/20) = 0.206394, half-width
    z sqrt(0.15 * 0.85 / 20 + z^2 / 1600) / (1 + z^2/20) = 0.154025."""
    values = np.array([0.0] * 3 + [1.0] * 17)
    p, low, high = event_probability(values)
    assert p == pytest.approx(0.15)
    assert (low, high) == pytest.approx((0.052369, 0.360419), abs=1e-6)
    assert (low, high) == pytest.approx(proportion_confint(3, 20, method="wilson"), abs=1e-12)
    assert event_probability(np.ones(10))[0] == 0.0 and event_probability(np.ones(10))[1] == 0.0
    assert all(np.isnan(v) for v in event_probability(np.array([])))


def test_validation_tables_give_p_event_for_none_checks_only():
    obs = [
        Observation(Check("x", "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31)), 5, 5, "s"),
        Observation(Check("z", "none", ("us_killed",), date(2020, 1, 1), date(2020, 1, 31)), 1, 1, "s"),
    ]
    runs = pd.DataFrame({"check.x": np.arange(40.0) % 10, "check.z": [0.0] * 10 + [1.0] * 30})
    table = score_checks(obs, runs).set_index("check")
    assert list(table.columns[-3:]) == list(EVENT_COLUMNS)
    assert table.loc["x", list(EVENT_COLUMNS)].isna().all()
    assert table.loc["z", "p_event"] == pytest.approx(0.25)
    assert (table.loc["z", "p_event_lo"], table.loc["z", "p_event_hi"]) == pytest.approx(
        proportion_confint(10, 40, method="wilson")
    )


def test_the_row_filter_of_the_skill_table_narrows_the_held_out_rows():
    checks = {
        c: Check(c, s, ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31))
        for c, s in (("a", "none"), ("b", "first_after"), ("c", "count"), ("d", "none"))
    }
    obs = [
        Observation(checks["a"], 1, 1, "s", "held-out"),
        Observation(checks["b"], 5, 5, "s", "held-out"),
        Observation(checks["c"], 5, 5, "s", "held-out"),
        Observation(checks["d"], 1, 1, "s", "fit"),
    ]
    runs = pd.DataFrame({c.column: np.array([0.0, 1.0, 1.0, 1.0, 9.0] * 4) for c in checks.values()})
    table = score_checks(obs, runs, {"poisson": {c: np.array([0.0, 3.0] * 10) for c in checks}})
    quiet = skill_table(table, quiet_period(table)).set_index("baseline")
    by_hand = skill_table(table[table["check"].isin(["a", "b"])]).set_index("baseline")  # d is not held-out
    assert quiet.loc["poisson", "held_out_checks"] == 2
    assert quiet.loc["poisson", "skill"] == pytest.approx(by_hand.loc["poisson", "skill"])
    assert skill_table(table).equals(skill_table(table, None))
    assert skill_table(table, pd.Series(True, index=table.index)).equals(skill_table(table))


def test_the_project_record_loads():
    observations = load_record(RECORD)
    assert len(observations) >= 15 and {o.use for o in observations} == {"fit", "set", "overlap", "held-out"}
    assert all(o.source.startswith(("docs/sources.md#", "docs/heldout_2020_2021.md")) for o in observations)


BAD_ROWS = {
    "unknown statistic": ("statistic", "mean", "must be one of count, sum, none, first_after, followed_within"),
    "unknown kind": ("kinds", "attack_rockt", "must name record kinds"),
    "bad date": ("from", "2020-13-01", "must be a date"),
    "to before from": ("to", "2019-12-01", "must not be before from"),
    "trigger where none belongs": ("trigger", "attack_drone", "must be empty for count"),
    "high below low": ("observed_high", "5", "observed_low <= observed_high"),
    "no source": ("source", "", "must name where the observation was published"),
    "low not a number": ("observed_low", "many", "must be a number"),
    "an id of validate's own": ("check", "month.convoy.2020-07", "must not start with 'month.'"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_malformed_row_is_one_line_naming_row_column_and_rule(case, tmp_path):
    column, value, rule = BAD_ROWS[case]
    frame = pd.read_csv(RECORD, dtype=str, keep_default_na=False)
    frame.loc[2, column] = value
    path = tmp_path / "record.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ConfigError) as caught:
        load_record(path)
    assert f"row 4: {column}" in str(caught.value) and rule in str(caught.value) and str(path) in str(caught.value)
    code, stdout, stderr = call_main(
        ["validate", REPLAY, "--record", path, "--replications", "2", "--quiet", "--out", tmp_path / "out"]
    )
    assert code == 2 and stderr.count("\n") == 1 and f"row 4: {column}" in stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_validate_writes_its_report_and_the_same_seed_gives_the_same_table(tmp_path):
    argv = ["validate", REPLAY, "--replications", "40", "--workers", "2", "--quiet"]
    code, stdout, stderr = call_main([*argv, "--out", tmp_path / "a"])
    assert code == 0, stderr
    for name in (
        "validation.md",
        "validation.html",
        "validation.csv",
        "runs.parquet",
        "manifest.json",
        "plots/fan_chart.png",
    ):
        assert (tmp_path / "a" / name).exists(), name
    table = pd.read_csv(tmp_path / "a" / "validation.csv")
    assert len(table) == len(load_record(RECORD)) and f"of {len(table)} checks inside the 90% band" in stdout
    assert call_main([*argv, "--workers", "1", "--out", tmp_path / "b"])[0] == 0
    assert (tmp_path / "a" / "validation.csv").read_bytes() == (tmp_path / "b" / "validation.csv").read_bytes()
    assert (tmp_path / "a" / "runs.parquet").read_bytes() == (tmp_path / "b" / "runs.parquet").read_bytes()
    assert (tmp_path / "a" / "validation.html").read_bytes() == (tmp_path / "b" / "validation.html").read_bytes()


def test_an_empty_simulated_distribution_scores_nan_not_a_division_by_zero():
    assert math.isnan(censored_crps(np.array([]), 0.0, 1.0)) and math.isnan(censored_crps(np.array([]), 2.0, None))
    check = Check("fw", "followed_within", ("attack_rocket",), date(2020, 7, 1), date(2020, 7, 2), "truce_start", 5.0)
    runs = pd.DataFrame({check.column: [math.nan, math.nan]})  # the trigger never happened
    table = score_checks([Observation(check, 0.0, 1.0, "x")], runs)
    assert math.isnan(table.loc[0, "score"]) and not table.loc[0, "inside_90"]


def test_a_record_wholly_outside_the_horizon_is_reported_as_not_scored(tmp_path):
    table = score_checks([], pd.DataFrame({"replication": [0, 1]}), {"poisson": {}})
    assert "use" in table.columns and "score_poisson" in table.columns and table.empty
    assert "not scored" in summary_line(table)
    check = Check("far", "count", ("attack_rocket",), date(2030, 1, 1), date(2030, 3, 31))
    text = write_validation(tmp_path, table, [Observation(check, 1.0, 1.0, "x")], "t", None).read_text()
    assert "not scored" in text and "outside this scenario's horizon): far" in text and "nan" not in text


@pytest.mark.slow
def test_validate_of_a_record_outside_the_horizon_finishes_and_says_not_scored(tmp_path):
    frame = pd.read_csv(RECORD, dtype=str, keep_default_na=False)
    frame = frame[frame["use"] == "fit"].head(1).assign(**{"from": "2030-01-01", "to": "2030-03-31"})
    path = tmp_path / "record.csv"
    frame.to_csv(path, index=False)
    code, stdout, stderr = call_main(
        ["validate", REPLAY, "--record", path, "--replications", "2", "--quiet", "--out", tmp_path / "out"]
    )
    assert code == 0, stderr
    assert "not scored" in stdout and (tmp_path / "out" / "validation.md").exists()


def test_free_text_a_spreadsheet_would_run_is_neutralised_in_every_csv_written():
    table = pd.DataFrame(
        {
            "source": ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain", "-3", "+1.5e-2"],
            "value": [-1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    safe = neutralise_cells(table)
    assert list(safe["source"]) == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "-3",
        "+1.5e-2",
    ]
    assert safe["value"].equals(table["value"]) and table["source"][0].startswith("=")


@pytest.mark.slow
def test_validation_csv_does_not_copy_a_formula_from_the_record(tmp_path):
    frame = pd.read_csv(RECORD, dtype=str, keep_default_na=False)
    frame = frame[frame["use"] == "fit"].head(1).assign(source='=HYPERLINK("http://example.com","x")')
    path = tmp_path / "record.csv"
    frame.to_csv(path, index=False)
    code, stdout, stderr = call_main(
        ["validate", REPLAY, "--record", path, "--replications", "2", "--quiet", "--out", tmp_path / "out"]
    )
    assert code == 0, stderr
    written = pd.read_csv(tmp_path / "out" / "validation.csv", dtype=str, keep_default_na=False)
    assert list(written["source"]) == ['\'=HYPERLINK("http://example.com","x")']
