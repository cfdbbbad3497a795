"""The naive baselines of `validate`: the event record, what the fit window gives, the baselines
against their analytic distributions, and the skill columns and option of `validate`.

Statistical checks use a fixed seed and a tolerance of Z standard errors, Z = 4.417, the
two-sided normal quantile of 1e-5: drawn with a random seed, each such assertion would fail by
chance at most once in 100,000 runs (the standard errors are the analytic ones of the
distribution under test, from scipy's moments).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import call_main
from scipy import stats

import sim.api.validation
from sim import api
from sim.analysis.baselines import (
    BASELINES,
    MAIN_BASELINE,
    FitWindow,
    KindGroup,
    KindRate,
    Marks,
    baseline_rng,
    baseline_values,
    fit_window,
    synthetic_logs,
)
from sim.analysis.baselines.fit_window import ATTACKS, HARM
from sim.analysis.validation import censored_crps, score_checks, skill_table
from sim.calibration.event_record import ObservedAttack, load_events, observed_records
from sim.calibration.public_record import USES, Observation, load_record
from sim.config.errors import ConfigError
from sim.model.threats import threats
from sim.replication.checks import Check

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "configs" / "data" / "public_record.csv"
REPLAY = ROOT / "configs" / "scenarios" / "history_2020_2021.toml"
EVENTS = ROOT / "tests" / "data" / "events_fixture.csv"  # fabricated rows, a test fixture
Z = 4.417  # two-sided normal quantile of 1e-5
N = 4000  # baseline replications in the statistical checks
RATE = 0.2  # attacks per day


def window(
    rate: float = RATE,
    last_rate: float = 0.1,
    monthly_k: float = 2.0,
    level_k: float = 3.0,
    rockets=(3, 5),
    killed=(0, 0, 2, 0),
    kinds=ATTACKS,
) -> FitWindow:
    """A fit window given outright: every kind of attack in ``kinds`` at ``rate`` (the others
    at 0), each its own group."""
    rates = {k: KindRate(k, 10, 1.0, rate if k in kinds else 0.0, last_rate) for k in ATTACKS}
    groups = tuple(KindGroup((k,), (), monthly_k, level_k) for k in ATTACKS)
    harm = {field: np.array(killed if field == "us_killed" else [0] * len(killed), np.int64) for field in HARM}
    marks = {k: Marks(k, np.array(rockets if k == "attack_rocket" else [], np.int64), harm) for k in ATTACKS}
    return FitWindow(date(2020, 1, 1), date(2020, 9, 30), date(2020, 7, 1), rates, groups, marks)


def count_check(start: date, end: date, statistic: str = "count", kinds=("attack_rocket",)) -> Check:
    return Check(f"{statistic}-{start}-{end}", statistic, tuple(kinds), start, end)


def assert_moments(values: np.ndarray, distribution) -> None:
    """Sample mean and variance within Z standard errors of ``distribution``'s."""
    mean, var, _, kurtosis = (float(v) for v in distribution.stats(moments="mvsk"))
    n = len(values)
    assert abs(values.mean() - mean) <= Z * math.sqrt(var / n), (values.mean(), mean)
    mu4 = (kurtosis + 3) * var**2  # fourth central moment
    se_var = math.sqrt((mu4 - var**2 * (n - 3) / (n - 1)) / n)  # of the sample variance
    assert abs(values.var(ddof=1) - var) <= Z * se_var, (values.var(ddof=1), var)


# ------------------------------------------------------------------------ the event record


def test_the_fixture_reads_into_the_models_records_keeping_unknown_apart_from_zero():
    attacks = {a.event: a for a in load_events(EVENTS)}
    assert attacks["fx-04"].rockets_fired is None and attacks["fx-04"].us_killed is None  # blank: not reported
    assert attacks["fx-02"].us_killed == 0 and attacks["fx-02"].civilian_casualties == 0  # reported none
    assert attacks["fx-05"].us_killed == 3 and attacks["fx-05"].us_wounded == 12  # U.S. plus coalition
    assert attacks["fx-09"].kind == "attack_drone" and attacks["fx-09"].count is None  # drones per attack not given
    records = [(r.event, r.kind, r.count) for r in observed_records(list(attacks.values()))]
    assert ("fx-05", "us_killed", 3) in records and ("fx-05", "us_fatal_attack", 1) in records
    assert ("fx-04", "attack_rocket", None) in records and ("fx-06", "civilian_casualties", 1) in records
    assert not any(e == "fx-02" and k != "attack_rocket" for e, k, _ in records)  # no harm reported: no harm record


BAD_EVENTS = {
    "bad date": ("date", "2020-02-30", "must be a date"),
    "date outside the record": ("date", "2020-10-01", "must be within 2019-10-01 .. 2020-09-30"),
    "unknown kind": (
        "kind",
        "no_such_kind",
        f"must be one of {', '.join(t.name for t in threats())}",
    ),  # rocket, drone, ...
    "negative count": ("us_killed", "-1", "must be a whole number >= 0"),
    "non-integer count": ("rockets_fired", "2.5", "must be a whole number >= 0"),
    "duplicate id": ("event", "fx-02", "appears twice"),
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_malformed_event_is_one_line_naming_file_row_column_value_and_rule(case, tmp_path):
    column, value, rule = BAD_EVENTS[case]
    frame = pd.read_csv(EVENTS, dtype=str, keep_default_na=False)
    frame.loc[3, column] = value  # row 5 of the file
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ConfigError) as caught:
        load_events(path)
    message = str(caught.value)
    assert (
        "\n" not in message and f"row 5: {column} = {value!r}" in message and rule in message and str(path) in message
    )


def test_a_set_row_is_accepted_and_the_project_record_uses_the_four_labels(tmp_path):
    assert USES == ("fit", "set", "overlap", "held-out")
    frame = pd.read_csv(RECORD, dtype=str, keep_default_na=False)
    frame.loc[6, "use"] = "set"
    path = tmp_path / "record.csv"
    frame.to_csv(path, index=False)
    assert load_record(path)[6].use == "set"
    assert {o.use for o in load_record(RECORD)} <= set(USES)


# ------------------------------------------------------------------------ the fit window


def attack(day: str, kind: str, n: int, rockets: int | None = None) -> ObservedAttack:
    return ObservedAttack(f"{kind}-{day}-{n}", date.fromisoformat(day), kind, rockets, None, None, None)


def fit_row(check_id: str, kinds: tuple[str, ...], start: str, end: str, total: float) -> Observation:
    check = Check(check_id, "count", kinds, date.fromisoformat(start), date.fromisoformat(end))
    return Observation(check, total, total, "test", "fit")


def test_the_fit_rows_make_the_event_record_complete():
    """20 convoy attacks counted in Q1 2020 and 10 in the event record: the rate is twice the
    record's. Rockets and drones split the fit rows' total as the record splits them; the
    security details, counted by no fit row, take the record as it stands."""
    rows = [
        fit_row("convoy_q1", ("attack_convoy",), "2020-01-01", "2020-03-31", 20),
        fit_row("rd_q1", ("attack_rocket", "attack_drone"), "2020-01-01", "2020-03-31", 30),
    ]
    attacks = (
        [attack(f"2020-01-{d + 1:02d}", "attack_convoy", d) for d in range(10)]
        + [attack(f"2020-02-{d + 1:02d}", "attack_rocket", d, 4) for d in range(6)]
        + [attack(f"2020-03-{d + 1:02d}", "attack_drone", d) for d in range(3)]
        + [attack("2020-03-15", "attack_security_detail", 0), attack("2019-12-15", "attack_convoy", 99)]
    )
    fit = fit_window(rows, attacks, "test")
    days = 91  # 1 Jan .. 31 Mar 2020
    assert fit.rates["attack_convoy"].rate == pytest.approx(2 * 10 / days)  # the 2019 attack is outside the window
    assert fit.rates["attack_rocket"].rate == pytest.approx(6 * 30 / 9 / days)
    assert fit.rates["attack_drone"].rate == pytest.approx(3 * 30 / 9 / days)
    assert fit.rates["attack_security_detail"].rate == pytest.approx(1 / days)
    assert fit.group_of("attack_drone").rows == ("rd_q1",) and fit.group_of("attack_security_detail").rows == ()


def test_the_dispersion_is_the_method_of_moments_on_the_scaled_monthly_and_the_fit_rows_counts():
    rows = [
        fit_row(f"c{q}", ("attack_convoy",), s, e, t)
        for q, (s, e, t) in enumerate(
            [("2020-01-01", "2020-03-31", 10), ("2020-04-01", "2020-06-30", 30), ("2020-07-01", "2020-09-30", 20)]
        )
    ]
    monthly = [1, 1, 1, 4, 4, 4, 1, 2, 3]  # events per month, 21 in all
    attacks = [
        attack(f"2020-{m + 1:02d}-{d + 1:02d}", "attack_convoy", d) for m, n in enumerate(monthly) for d in range(n)
    ]
    fit = fit_window(rows, attacks, "test")
    scaled = np.array(monthly) * 60 / 21
    k = scaled.mean() ** 2 / (scaled.var(ddof=1) - scaled.mean())
    assert fit.group_of("attack_convoy").monthly_k == pytest.approx(k)
    quarterly = np.array([10.0, 30.0, 20.0])
    assert fit.group_of("attack_convoy").level_k == pytest.approx(
        quarterly.mean() ** 2 / (quarterly.var(ddof=1) - quarterly.mean())
    )
    assert fit.rates["attack_convoy"].last_rate == pytest.approx(20 / 92)  # the Q3 fit row
    even = fit_window(rows, [attack(f"2020-{m:02d}-01", "attack_convoy", m) for m in range(1, 10)], "test")
    assert math.isinf(even.group_of("attack_convoy").monthly_k)  # one a month: var <= mean, Poisson


# ------------------------------------------------------------------------ the baselines against analytic values


def test_the_poisson_count_has_mean_and_variance_rate_times_days():
    values = baseline_values("poisson", window(), count_check(date(2021, 1, 1), date(2021, 4, 2)), N, 7)
    assert_moments(values, stats.poisson(RATE * 92))


def test_the_negbin_monthly_count_of_one_month_has_variance_m_plus_m2_over_k():
    k, m = 2.0, RATE * 31
    values = baseline_values(
        "negbin_monthly", window(monthly_k=k), count_check(date(2021, 3, 1), date(2021, 3, 31)), N, 7
    )
    assert_moments(values, stats.nbinom(k, k / (k + m)))  # mean m, variance m + m^2 / k


def test_the_random_level_count_is_negative_binomial_over_the_whole_window():
    """One level per replication, shared by every month: over a quarter, variance m + m^2 / k."""
    k, m = 3.0, RATE * 92
    values = baseline_values("random_level", window(level_k=k), count_check(date(2021, 1, 1), date(2021, 4, 2)), N, 7)
    assert_moments(values, stats.nbinom(k, k / (k + m)))


def test_persistence_uses_the_last_quarters_rate():
    values = baseline_values(
        "persistence", window(last_rate=0.05), count_check(date(2021, 1, 1), date(2021, 4, 2)), N, 7
    )
    assert_moments(values, stats.poisson(0.05 * 92))


def test_the_probability_of_none_is_exp_minus_rate_times_days():
    values = baseline_values("poisson", window(), count_check(date(2021, 1, 1), date(2021, 1, 5), "none"), N, 7)
    p = math.exp(-RATE * 5)
    assert abs(values.mean() - p) <= Z * math.sqrt(p * (1 - p) / N)


def test_the_crps_of_the_poisson_baseline_matches_the_analytic_crps():
    """CRPS(Poisson(m), y) = sum over z of (F(z) - 1{z >= y})^2; the score from the samples, the
    V-statistic E|X - y| - E|X - X'| / 2, has a bias of E|X - X'| / (2n) and a standard error
    sd(|X - y| - E|X - X'| given X) / sqrt(n)."""
    m = RATE * 92
    values = baseline_values("poisson", window(), count_check(date(2021, 1, 1), date(2021, 4, 2)), N, 11)
    z = np.arange(0, 200)
    pmf, cdf = stats.poisson(m).pmf(z), stats.poisson(m).cdf(z)
    for y in (10, 18, 30):
        analytic = float(np.sum((cdf - (z >= y)) ** 2))
        gap = np.abs(z[:, None] - z[None, :]) @ pmf  # E|x - X'| for each x
        influence = np.abs(z - y) - gap
        se = math.sqrt(float(pmf @ influence**2 - (pmf @ influence) ** 2) / N)
        bias = float(pmf @ gap) / (2 * N)
        assert abs(censored_crps(values, y, y) - analytic) <= Z * se + bias, y


def test_marks_are_resampled_from_the_reported_values_and_harm_comes_with_the_attacks():
    """Salvos of 3 or 5 rockets (the reported ones), each about half the time; deaths only from
    an attack, a fatal attack per attack with deaths."""
    check = Check("m", "count", ("attack_rocket", "us_killed", "us_fatal_attack"), date(2021, 1, 1), date(2021, 1, 31))
    logs = synthetic_logs("poisson", window(kinds=("attack_rocket",)), check, 1000, baseline_rng(3, "poisson", "m"))
    sizes = np.array([r.count for log in logs for r in log if r.kind.name == "attack_rocket"])
    assert set(sizes.tolist()) == {3, 5}
    share = (sizes == 3).mean()
    assert abs(share - 0.5) <= Z * math.sqrt(0.25 / len(sizes))
    for log in logs:
        kinds = [r.kind.name for r in log]
        assert kinds.count("us_fatal_attack") == kinds.count("us_killed") <= kinds.count("attack_rocket")
        assert all(r.count == 2 for r in log if r.kind.name == "us_killed")  # the one reported death toll
    deaths = sum(r.kind.name == "us_fatal_attack" for log in logs for r in log)
    assert abs(deaths / len(sizes) - 0.25) <= Z * math.sqrt(0.25 * 0.75 / len(sizes))  # 1 of the 4 reported attacks


def test_the_same_seed_gives_the_same_values_and_baselines_differ():
    check = count_check(date(2021, 1, 1), date(2021, 6, 30))
    first = {name: baseline_values(name, window(), check, 200, 5) for name in BASELINES}
    assert all(np.array_equal(first[name], baseline_values(name, window(), check, 200, 5)) for name in BASELINES)
    assert not np.array_equal(first["poisson"], baseline_values("poisson", window(), check, 200, 6))


# ------------------------------------------------------------------------ scores and the command


def test_skill_is_one_minus_the_ratio_of_scores_and_the_overall_skill_uses_held_out_rows_only():
    checks = [Check(c, "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 1, 31)) for c in "xyz"]
    obs = [
        Observation(checks[0], 5, 5, "s", "held-out"),
        Observation(checks[1], 5, 5, "s", "held-out"),
        Observation(checks[2], 5, 5, "s", "fit"),
    ]
    runs = pd.DataFrame({c.column: np.full(10, 5.0) + np.arange(10) % 2 for c in checks})
    far = {c.id: np.full(10, 9.0) for c in checks}
    exact = {c.id: np.full(10, 5.0) for c in checks}
    table = score_checks(obs, runs, {"poisson": far, "persistence": exact}).set_index("check")
    assert table.loc["x", "skill_poisson"] == pytest.approx(
        1 - table.loc["x", "score"] / table.loc["x", "score_poisson"]
    )
    assert math.isnan(table.loc["x", "skill_persistence"])  # the baseline scores 0
    assert table.loc["x", "poisson_p05"] == 9.0 and table.loc["x", "poisson_p95"] == 9.0
    skills = skill_table(table.reset_index()).set_index("baseline")
    assert skills.loc["poisson", "held_out_checks"] == 2
    held = table.loc[["x", "y"]]
    assert skills.loc["poisson", "skill"] == pytest.approx(1 - held["score"].mean() / held["score_poisson"].mean())


@pytest.mark.slow
def test_validate_scores_every_baseline_and_the_same_seed_gives_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        result = api.validate(
            REPLAY,
            RECORD,
            tmp_path / name,
            api.ValidationOptions(10, 4, events=EVENTS),
            batch=api.BatchOptions(workers=1),
        )
    table = pd.read_csv(tmp_path / "a" / "validation.csv")
    expected = [f"{s}_{n}" for n in BASELINES for s in ("score", "skill")] + [
        f"{MAIN_BASELINE}_p05",
        f"{MAIN_BASELINE}_p95",
    ]
    assert set(expected) <= set(table.columns) and table[[f"score_{n}" for n in BASELINES]].notna().all().all()
    assert (tmp_path / "a" / "validation.csv").read_bytes() == (tmp_path / "b" / "validation.csv").read_bytes()
    assert result.skill.startswith(f"skill on {(table['use'] == 'held-out').sum()} held-out checks")
    report = (tmp_path / "a" / "validation.md").read_text()
    assert (
        report.index("Skill on the held-out checks")
        < report.index("## Held-out checks")
        < report.index("## In-sample checks")
    )


def test_events_given_but_missing_stop_with_one_line_before_any_folder(tmp_path):
    argv = [
        "validate",
        REPLAY,
        "--events",
        tmp_path / "missing.csv",
        "--replications",
        "2",
        "--quiet",
        "--out",
        tmp_path / "out",
    ]
    code, stdout, stderr = call_main(argv)
    assert code == 2 and stderr.count("\n") == 1 and "missing.csv" in stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_without_the_default_event_record_validate_runs_and_says_no_baseline_was_scored(tmp_path, monkeypatch):
    monkeypatch.setattr(sim.api.validation, "DEFAULT_EVENTS", tmp_path / "events_2019_2020.csv")
    code, stdout, stderr = call_main(
        ["validate", REPLAY, "--replications", "2", "--workers", "1", "--quiet", "--out", tmp_path / "out"]
    )
    assert code == 0, stderr
    assert sum("no baseline was scored" in line for line in stdout.splitlines()) == 1
    assert not any(c.startswith("skill_") for c in pd.read_csv(tmp_path / "out" / "validation.csv").columns)
