"""Scenario comparison (sim.compare) and the report (sim.report), on synthetic result tables.

Statistical checks use a tolerance of Z standard errors, Z the two-sided normal quantile at
ALPHA = 0.001: with the seed fixed they are deterministic; were it drawn at random, each would
fail wrongly about once in a thousand runs.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.compare import holm, paired_differences
from sim.analysis.report import write_report
from sim.analysis.summary import summarise
from sim.analysis.sweep import sweep_plots
from sim.replication.outcomes import label

ALPHA = 0.001
Z = stats.norm.ppf(1 - ALPHA / 2)
SEED = 20201001
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

N_REPS = 400
SD_COMMON, SD_NOISE, DELTA = 3.0, 1.0, 0.5


def crn_runs(n: int = N_REPS, seed: int = SEED) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Two scenarios sharing a strong common component: x_r = c_r + e_r, y_r = c_r + delta + f_r."""
    rng = np.random.default_rng(seed)
    common = rng.normal(10.0, SD_COMMON, n)
    noise_x, noise_y = rng.normal(0.0, SD_NOISE, n), rng.normal(0.0, SD_NOISE, n)
    x, y = common + noise_x, common + DELTA + noise_y
    reps = np.arange(n)
    runs = pd.DataFrame(
        {
            "scenario": ["baseline"] * n + ["policy"] * n,
            "replication": np.concatenate([reps, reps]),
            "seed": SEED,
            "cost": np.concatenate([x, y]),
        }
    )
    return runs, {"x": x, "y": y, "noise_x": noise_x, "noise_y": noise_y}


def row_of(table: pd.DataFrame, scenario: str, outcome: str) -> pd.Series:
    rows = table[(table["scenario"] == scenario) & (table["outcome"] == outcome)]
    assert len(rows) == 1
    return rows.iloc[0]


# --- paired differences under common random numbers -------------------------------------------


def test_paired_interval_is_narrower_than_unpaired_and_covers_delta():
    runs, _ = crn_runs()
    row = row_of(paired_differences(runs, "baseline", ["cost"]), "policy", "cost")
    assert row["n_pairs"] == N_REPS
    assert row["diff_ci95_low"] <= DELTA <= row["diff_ci95_high"]
    # The mean difference is within Z standard errors of delta (sd of the difference known).
    assert abs(row["mean_diff"] - DELTA) <= Z * SD_NOISE * math.sqrt(2 / N_REPS)
    paired_width = row["diff_ci95_high"] - row["diff_ci95_low"]
    unpaired_width = row["unpaired_ci95_high"] - row["unpaired_ci95_low"]
    # Analytic ratio sqrt(2 sd_noise^2 / (2 (sd_common^2 + sd_noise^2))) = 0.316.
    assert paired_width < 0.5 * unpaired_width
    assert row["ci_width_ratio"] == pytest.approx(paired_width / unpaired_width)


def test_intervals_equal_scipy_paired_and_welch_intervals():
    runs, parts = crn_runs(n=50)
    row = row_of(paired_differences(runs, "baseline", ["cost"]), "policy", "cost")
    paired = stats.ttest_rel(parts["y"], parts["x"]).confidence_interval(0.95)
    welch = stats.ttest_ind(parts["y"], parts["x"], equal_var=False).confidence_interval(0.95)
    assert (row["diff_ci95_low"], row["diff_ci95_high"]) == pytest.approx((paired.low, paired.high), rel=1e-12)
    assert (row["unpaired_ci95_low"], row["unpaired_ci95_high"]) == pytest.approx((welch.low, welch.high), rel=1e-12)
    assert row["mean_diff"] == pytest.approx(parts["y"].mean() - parts["x"].mean(), rel=1e-12)


def test_variance_reduction_near_analytic_value():
    runs, parts = crn_runs()
    row = row_of(paired_differences(runs, "baseline", ["cost"]), "policy", "cost")
    x, y = parts["x"], parts["y"]
    # Exactly the sample identity: y - x = delta + (noise_y - noise_x).
    sample_value = 1 - np.var(parts["noise_y"] - parts["noise_x"], ddof=1) / (np.var(x, ddof=1) + np.var(y, ddof=1))
    assert row["variance_reduction"] == pytest.approx(sample_value, rel=1e-12)
    # Population value 1 - 2 sd_noise^2 / (2 (sd_common^2 + sd_noise^2)) = rho = 0.9; the
    # estimator 2 cov / (var x + var y) has standard error about (1 - rho^2) / sqrt(n).
    rho = SD_COMMON**2 / (SD_COMMON**2 + SD_NOISE**2)
    assert abs(row["variance_reduction"] - rho) <= Z * (1 - rho**2) / math.sqrt(N_REPS)


def test_independent_scenarios_show_no_variance_reduction():
    rng = np.random.default_rng(SEED)
    n = N_REPS
    runs = pd.DataFrame(
        {
            "scenario": ["a"] * n + ["b"] * n,
            "replication": np.tile(np.arange(n), 2),
            "seed": 0,
            "v": rng.normal(0, 1, 2 * n),
        }
    )
    row = row_of(paired_differences(runs, "a", ["v"]), "b", "v")
    # rho = 0: standard error about 1 / sqrt(n).
    assert abs(row["variance_reduction"]) <= Z / math.sqrt(n)


def test_paired_test_p_values_equal_scipy():
    runs, parts = crn_runs(n=60)
    row = row_of(paired_differences(runs, "baseline", ["cost"]), "policy", "cost")
    diff = parts["y"] - parts["x"]
    higher, lower = int((diff > 0).sum()), int((diff < 0).sum())
    assert (row["n_higher"], row["n_tied"], row["n_lower"]) == (higher, 0, lower)
    assert row["p_wilcoxon"] == stats.wilcoxon(diff, zero_method="pratt").pvalue
    assert row["p_sign"] == stats.binomtest(higher, higher + lower, 0.5).pvalue


def test_constant_identical_samples_give_p_one_without_warnings():
    n = 20
    runs = pd.DataFrame(
        {
            "scenario": ["a"] * n + ["b"] * n,
            "replication": np.tile(np.arange(n), 2),
            "seed": 0,
            "zero": np.zeros(2 * n, dtype=np.int64),
            "closed": np.zeros(2 * n, dtype=bool),
            "never": pd.array([pd.NA] * (2 * n), dtype="Float64"),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = paired_differences(runs, "a", ["zero", "closed", "never"])
        summary = summarise(runs, ["zero", "closed", "never"])
    for outcome in ("zero", "closed"):
        row = row_of(table, "b", outcome)
        assert (row["p_wilcoxon"], row["p_sign"]) == (1.0, 1.0)
        assert (row["n_higher"], row["n_tied"], row["n_lower"]) == (0, n, 0)
        assert (row["mean_diff"], row["diff_ci95_low"], row["diff_ci95_high"]) == (0.0, 0.0, 0.0)
        assert np.isnan(row["variance_reduction"]) and np.isnan(row["ci_width_ratio"])
    never = row_of(table, "b", "never")
    assert never["n_pairs"] == 0 and np.isnan(never["p_wilcoxon"]) and np.isnan(never["p_wilcoxon_holm"])
    assert row_of(summary, "a", "never")["p_positive"] == 0.0


# --- Holm correction ----------------------------------------------------------------------------


def test_holm_matches_hand_computed_values():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max
    # 0.02, 0.03, 0.06, 0.06; back in the given order:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([0.02, 0.02, 0.9]) == pytest.approx([0.06, 0.06, 0.9])
    assert holm([]).shape == (0,)


def test_holm_skips_missing_p_values():
    adjusted = holm([0.01, np.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02) and np.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)


def test_holm_never_decreases_and_is_monotone_in_sorted_order():
    rng = np.random.default_rng(SEED)
    for size in (1, 2, 5, 17, 60):
        p = rng.uniform(0, 1, size) ** 3  # plenty of small p-values
        p[rng.uniform(0, 1, size) < 0.2] = p[0]  # and ties
        adjusted = holm(p)
        assert np.all(adjusted >= p) and np.all(adjusted <= 1)
        order = np.argsort(p, kind="stable")
        assert np.all(np.diff(adjusted[order]) >= 0)


def test_holm_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match="1.2"):
        holm([0.1, 1.2])


def test_comparison_table_holm_columns_correct_across_all_rows():
    runs, _ = crn_runs(n=80)
    runs["other"] = runs["cost"] ** 2
    extra = runs[runs["scenario"] == "policy"].assign(scenario="third", cost=lambda d: d["cost"] + 1.0)
    table = paired_differences(pd.concat([runs, extra]), "baseline", ["cost", "other"])
    assert len(table) == 4
    np.testing.assert_allclose(table["p_wilcoxon_holm"], holm(table["p_wilcoxon"]))
    np.testing.assert_allclose(table["p_sign_holm"], holm(table["p_sign"]))


# --- missing values and pairing ------------------------------------------------------------------


def test_missing_values_are_paired_by_replication():
    runs = pd.DataFrame(
        {
            "scenario": ["ref"] * 5 + ["alt"] * 5,
            "replication": [0, 1, 2, 3, 4, 4, 3, 2, 1, 5],  # alt out of order; 0 only in ref, 5 only in alt
            "seed": 1,
            "first_day": pd.array([10.0, pd.NA, 30.0, 40.0, 50.0, 55.0, pd.NA, 33.0, 12.0, 99.0], dtype="Float64"),
        }
    )
    row = row_of(paired_differences(runs.sample(frac=1.0, random_state=3), "ref", ["first_day"]), "alt", "first_day")
    # Pairs with a value in both: replication 2 (30 -> 33) and 4 (50 -> 55); 1 and 3 miss one side.
    assert row["n_pairs"] == 2
    assert row["mean_reference"] == pytest.approx(40.0) and row["mean_scenario"] == pytest.approx(44.0)
    assert row["mean_diff"] == pytest.approx(4.0)


def test_bad_reference_and_duplicate_rows_are_refused():
    runs, _ = crn_runs(n=5)
    with pytest.raises(ValueError, match="nowhere"):
        paired_differences(runs, "nowhere", ["cost"])
    with pytest.raises(ValueError, match="more than one row"):
        paired_differences(pd.concat([runs, runs.iloc[:1]]), "baseline", ["cost"])
    with pytest.raises(KeyError, match="missing_outcome"):
        summarise(runs, ["missing_outcome"])


# --- summary per scenario -------------------------------------------------------------------------


def test_summarise_scenarios_matches_numpy():
    runs = pd.DataFrame(
        {
            "scenario": ["a"] * 6 + ["b"] * 6,
            "replication": np.tile(np.arange(6), 2),
            "seed": 7,
            "killed": np.array([0, 2, 0, 5, 1, 0, 3, 3, 0, 0, 0, 0], dtype=np.int64),
            "closed": [False, True, False, False, True, True] + [False] * 6,
            "closure_day": pd.array([pd.NA, 100.0, pd.NA, pd.NA, 250.0, 30.0] + [pd.NA] * 6, dtype="Float64"),
        }
    )
    summary = summarise(runs, ["killed", "closed", "closure_day"])
    assert list(summary.columns[:4]) == ["scenario", "outcome", "n_runs", "n"]
    assert len(summary) == 6
    killed = np.array([0, 2, 0, 5, 1, 0], dtype=float)
    row = row_of(summary, "a", "killed")
    half = stats.t.ppf(0.975, 5) * killed.std(ddof=1) / math.sqrt(6)
    assert row["n"] == 6 and row["mean"] == pytest.approx(killed.mean())
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((killed.mean() - half, killed.mean() + half))
    assert [row["p05"], row["p50"], row["p95"]] == pytest.approx(np.percentile(killed, [5, 50, 95]))
    assert row["p_positive"] == pytest.approx(3 / 6)
    assert row["p_positive_low"] < 0.5 < row["p_positive_high"]
    assert row_of(summary, "a", "closed")["mean"] == pytest.approx(0.5)
    day = row_of(summary, "a", "closure_day")
    assert (day["n_runs"], day["n"]) == (6, 3)
    assert day["mean"] == pytest.approx(np.mean([100.0, 250.0, 30.0]))
    assert day["p50"] == pytest.approx(100.0)
    assert day["p_positive"] == pytest.approx(3 / 6)  # missing counted as not > 0
    empty = row_of(summary, "b", "closure_day")
    assert empty["n"] == 0 and np.isnan(empty["mean"]) and empty["p_positive"] == 0.0


# --- report and plots -----------------------------------------------------------------------------


def report_runs() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    n, frames = 40, []
    common = rng.poisson(3.0, n)
    for shift, scenario in enumerate(["continuity", "tougher love", "separation/alt"]):
        killed = common + rng.poisson(0.5 * shift, n)
        day = pd.array([float(d) if k > 0 else pd.NA for d, k in zip(rng.uniform(0, 600, n), killed)], dtype="Float64")
        frames.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "replication": np.arange(n),
                    "seed": 5,
                    "us_killed": killed.astype(np.int64),
                    "first_us_fatality_day": day,
                    "embassy_closed": rng.uniform(0, 1, n) < 0.2 * shift,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def assert_valid_pngs(paths: list[Path]) -> None:
    for path in paths:
        assert path.is_file(), path
        assert path.read_bytes()[:8] == PNG_MAGIC, path


def leftover_temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]


@pytest.mark.slow
def test_write_report_links_to_valid_pngs_and_leaves_no_temporary_files(tmp_path):
    runs = report_runs()
    outcomes = ["us_killed", "first_us_fatality_day", "embassy_closed"]
    summary = summarise(runs, outcomes)
    comparison = paired_differences(runs, "continuity", outcomes)
    out = tmp_path / "report"
    path = write_report(out, runs, summary, comparison, outcomes, "continuity", "Policy options, 2020-21")
    assert path == out / "report.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Policy options, 2020-21\n\n## The answer: each option against continuity\n")
    assert "continuity (reference)" in text and "tougher love" in text
    links = re.findall(r"\]\(([^)]+\.png)\)", text)
    # The forest plot, an ECDF per outcome but the yes-or-no one, the probabilities, the box plot.
    assert len(links) == 1 + (len(outcomes) - 1) + 1 + 1
    assert all(link.startswith("plots/") and "/" not in link[len("plots/") :] for link in links)
    assert_valid_pngs([out / link for link in links])
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(Path(link).name for link in links)
    assert leftover_temporary_files(out) == []
    # Tables: a header row per table, every outcome in the means table, every comparison row shown.
    lines = text.splitlines()
    assert sum(line.startswith("| outcome | continuity |") for line in lines) == 1
    assert sum(line.startswith("| scenario | outcome | pairs |") for line in lines) == 1
    for scenario in ("tougher love", "separation/alt"):
        assert all(sum(line.startswith(f"| {scenario} | {label(o)} | ") for line in lines) == 1 for o in outcomes)
    # Deterministic: the same tables give the same report and file names.
    again = write_report(
        tmp_path / "again", runs, summary, comparison, outcomes, "continuity", "Policy options, 2020-21"
    )
    assert again.read_text(encoding="utf-8") == text


def test_sweep_plots_write_one_png_per_outcome_and_parameter(tmp_path):
    points = pd.DataFrame(
        {
            "cram.kill_prob": [0.6, 0.7, 0.8, 0.6, 0.7, 0.8],
            "policy.us.doctrine": ["continuity"] * 3 + ["separation"] * 3,
            "us_killed": [4.0, 3.0, 2.5, 3.5, 2.0, 1.0],
            "us_killed_ci95_low": [3.0, 2.2, 1.9, 2.9, 1.5, 0.6],
            "us_killed_ci95_high": [5.0, 3.8, 3.1, 4.1, 2.5, 1.4],
            "attacks_rocket": [50.0, 50.0, 51.0, 40.0, 41.0, 40.0],
        }
    )
    paths = sweep_plots(tmp_path, points, ["cram.kill_prob", "policy.us.doctrine"], ["us_killed", "attacks_rocket"])
    assert [p.name for p in paths] == [
        "sweep_us_killed_vs_cram.kill_prob.png",
        "sweep_us_killed_vs_policy.us.doctrine.png",
        "sweep_attacks_rocket_vs_cram.kill_prob.png",
        "sweep_attacks_rocket_vs_policy.us.doctrine.png",
    ]
    assert_valid_pngs(paths)
    assert leftover_temporary_files(tmp_path) == []
    with pytest.raises(KeyError, match="no_such_outcome"):
        sweep_plots(tmp_path, points, ["cram.kill_prob"], ["no_such_outcome"])
