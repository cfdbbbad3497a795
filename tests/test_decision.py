"""Paired tests, the decision view, the trade-off table and their files, on synthetic result tables.

Every sample is drawn with a fixed seed, so each test is deterministic. Where a check compares an
estimate with an analytic value, the tolerance is Z standard errors, Z the two-sided normal
quantile at ALPHA = 0.001: were the seed drawn at random, such a check would fail wrongly about
once in a thousand runs. The cases that compare a test's verdict with an interval's are built so
that the answer is not near a boundary (the effect is about nine paired standard errors from 0,
or the differences are exactly symmetric about 0).
"""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import api
from sim.analysis.compare import paired_differences
from sim.analysis.decision import (
    BETTER,
    UNCLEAR,
    WORSE,
    decision_table,
    percent,
    period_label,
    sentence,
    tradeoff_table,
)
from sim.analysis.summary import wilson_interval
from sim.analysis.tables import EMPTY, fmt
from sim.cli.batch import format_decisions
from sim.config.calendar import Calendar
from sim.replication.outcomes import (
    Better,
    Outcome,
    better_direction,
    binary_outcomes,
    label,
    outcome_columns,
    outcomes,
)

ALPHA = 0.001
Z = stats.norm.ppf(1 - ALPHA / 2)
SEED = 20201001
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def runs_of(values: dict[str, np.ndarray], outcome: str = "us_killed") -> pd.DataFrame:
    """A runs table: replication r of every scenario paired."""
    frames = [
        pd.DataFrame({"scenario": name, "replication": np.arange(len(v)), "seed": SEED, outcome: v})
        for name, v in values.items()
    ]
    return pd.concat(frames, ignore_index=True)


def only_row(table: pd.DataFrame) -> pd.Series:
    assert len(table) == 1
    return table.iloc[0]


# --- paired tests agree with the paired interval --------------------------------------------------


def test_paired_tests_reject_where_the_paired_interval_excludes_zero_and_unpaired_tests_do_not():
    """A large common component (sd 10) hides a small effect (-1) from two-sample tests, but not
    from the pairs: the paired sd is 0.5 * sqrt(2), so the effect is about 14 paired standard
    errors from 0 with 200 pairs, while the two samples' means are 1 / (10 sqrt(2 / 200)) = 1
    unpaired standard error apart."""
    rng = np.random.default_rng(SEED)
    common = rng.normal(50.0, 10.0, 200)
    x, y = common + rng.normal(0, 0.5, 200), common - 1.0 + rng.normal(0, 0.5, 200)
    row = only_row(paired_differences(runs_of({"continuity": x, "iz_security": y}), "continuity", ["us_killed"]))
    assert row["diff_ci95_high"] < 0  # the paired interval excludes 0
    assert row["p_wilcoxon"] < 0.05 and row["p_sign"] < 0.05  # and the paired tests agree
    # The two-sample tests the comparison used to report do not see it.
    assert stats.mannwhitneyu(x, y, alternative="two-sided").pvalue > 0.05
    assert stats.ks_2samp(x, y).pvalue > 0.05
    assert row["unpaired_ci95_low"] < 0 < row["unpaired_ci95_high"]


def test_paired_tests_and_interval_agree_on_no_difference():
    """Differences exactly symmetric about 0 (each one and its negative, and ties): the mean is 0,
    the signed ranks balance and as many pairs are higher as lower, so neither may reject."""
    rng = np.random.default_rng(SEED)
    x = rng.poisson(5.0, 120).astype(float)
    half = rng.poisson(2.0, 50).astype(float) + 1.0
    diff = np.concatenate([half, -half, np.zeros(20)])
    row = only_row(paired_differences(runs_of({"continuity": x, "separation": x + diff}), "continuity", ["us_killed"]))
    assert row["mean_diff"] == pytest.approx(0.0, abs=1e-12)
    assert row["diff_ci95_low"] < 0 < row["diff_ci95_high"]
    assert row["p_wilcoxon"] == pytest.approx(1.0) and row["p_sign"] == pytest.approx(1.0)
    assert (row["n_higher"], row["n_tied"], row["n_lower"]) == (50, 20, 50)


@pytest.mark.slow
def test_zero_differences_are_ranked_as_pratt_proposed():
    diff = np.array([0, 0, 0, 0, 1, 2, 3, -1, 4, 5, 0, 2], dtype=float)
    x = np.arange(len(diff), dtype=float)
    row = only_row(paired_differences(runs_of({"a": x, "b": x + diff}), "a", ["us_killed"]))
    assert row["p_wilcoxon"] == stats.wilcoxon(diff, zero_method="pratt").pvalue
    assert row["p_sign"] == stats.binomtest(6, 7, 0.5).pvalue  # the tied pairs left out


# --- the decision view ---------------------------------------------------------------------------


def test_verdict_and_shares_follow_the_declared_direction():
    """us_killed: fewer is better; iraqi_operations: more is better. The same lower values are
    better on one and worse on the other."""
    rng = np.random.default_rng(SEED)
    x = rng.poisson(20.0, 100).astype(float)
    y = x - rng.poisson(3.0, 100)  # never higher; tied where the draw is 0
    tied = int((y == x).sum())
    for outcome, expected in (("us_killed", BETTER), ("iraqi_operations", WORSE)):
        comparison = paired_differences(runs_of({"continuity": x, "tougher_love": y}, outcome), "continuity", [outcome])
        row = only_row(decision_table(comparison, better_direction))
        assert row["verdict"] == expected
        share_lower = (100 - tied) / 100
        better, worse = (share_lower, 0.0) if expected == BETTER else (0.0, share_lower)
        assert (row["share_better"], row["share_tied"], row["share_worse"]) == pytest.approx(
            (better, tied / 100, worse)
        )
        low, high = wilson_interval(100 - tied, 100)
        name = "better" if expected == BETTER else "worse"
        assert (row[f"share_{name}_low"], row[f"share_{name}_high"]) == pytest.approx((low, high))
        assert row["sentence"].startswith(f"tougher_love lowers {outcome} by ")


def test_share_better_estimates_the_analytic_probability():
    """y - x ~ Normal(-0.5, 1) per pair: P(better) = Phi(0.5); the share of 2,000 pairs lies within
    Z binomial standard errors of it."""
    n, rng = 2000, np.random.default_rng(SEED)
    x = rng.normal(10.0, 3.0, n)
    y = x + rng.normal(-0.5, 1.0, n)
    comparison = paired_differences(runs_of({"continuity": x, "separation": y}), "continuity", ["us_killed"])
    row = only_row(decision_table(comparison, better_direction))
    p = stats.norm.cdf(0.5)
    assert abs(row["share_better"] - p) <= Z * math.sqrt(p * (1 - p) / n)
    assert row["share_tied"] == 0 and row["share_better"] + row["share_worse"] == pytest.approx(1.0)
    assert row["share_better_low"] < row["share_better"] < row["share_better_high"]


def test_sentence_gives_the_numbers_of_its_row():
    comparison = pd.DataFrame(
        [
            {
                "scenario": "tougher_love",
                "reference": "continuity",
                "outcome": "attacks_rocket",
                "n_pairs": 100,
                "mean_diff": -28.43,
                "diff_ci95_low": -30.2,
                "diff_ci95_high": -26.7,
                "n_higher": 12,
                "n_tied": 7,
                "n_lower": 81,
                "p_wilcoxon_holm": 1e-9,
                "p_sign_holm": 1e-9,
            },
            {
                "scenario": "separation",
                "reference": "continuity",
                "outcome": "us_killed",
                "n_pairs": 100,
                "mean_diff": -0.05,
                "diff_ci95_low": -0.13,
                "diff_ci95_high": 0.02,
                "n_higher": 3,
                "n_tied": 93,
                "n_lower": 4,
                "p_wilcoxon_holm": 0.8,
                "p_sign_holm": 1.0,
            },
            {
                "scenario": "ultimatum",
                "reference": "continuity",
                "outcome": "embassy_closed",
                "n_pairs": 100,
                "mean_diff": 0.05,
                "diff_ci95_low": 0.01,
                "diff_ci95_high": 0.09,
                "n_higher": 5,
                "n_tied": 95,
                "n_lower": 0,
                "p_wilcoxon_holm": 0.2,
                "p_sign_holm": 0.3,
            },
        ]
    )
    rows = decision_table(comparison, better_direction, binary_outcomes())
    assert list(rows["verdict"]) == [BETTER, UNCLEAR, WORSE]
    assert rows["sentence"][0] == (
        "tougher_love lowers attacks_rocket by 28.4 (95% CI 26.7 to 30.2) against continuity and does better in "
        "81% of paired futures, worse in 12%, tied in 7%."
    )
    assert rows["sentence"][1] == (
        "no clear difference between separation and continuity on us_killed: -0.0500 (95% CI -0.130 to +0.0200); "
        "separation does better in 4% of paired futures, worse in 3%, tied in 93%."
    )
    assert rows["sentence"][2].startswith(
        "ultimatum raises the chance of embassy_closed by 5.00 percentage points (95% CI 1.00 to 9.00)"
    )
    assert rows["sentence"][2].endswith(
        "weak evidence: the paired test corrected for every comparison of the table gives p = 0.200."
    )
    table = tradeoff_table(rows, ["attacks_rocket", "us_killed", "embassy_closed"], binary_outcomes())
    assert list(table.columns) == ["option", "attacks_rocket", "us_killed", "embassy_closed"]
    assert list(table["option"]) == ["tougher_love", "separation", "ultimatum"]
    assert table.loc[0, "attacks_rocket"] == "-28.4 [-30.2, -26.7] ✔ better"
    assert table.loc[1, "us_killed"] == "-0.0500 [-0.130, +0.0200] ≈ no clear difference"
    assert table.loc[2, "embassy_closed"] == "+5.00 pp [+1.00, +9.00] ✘ worse"
    assert table.loc[0, "us_killed"] == "–"  # not compared


def test_an_unknown_direction_is_refused():
    comparison = paired_differences(runs_of({"a": np.zeros(5), "b": np.ones(5)}), "a", ["us_killed"])
    with pytest.raises(ValueError, match="better = 'sideways' must be 'lower' or 'higher'"):
        decision_table(comparison, lambda outcome: "sideways")


# --- directions declared with the outcomes -------------------------------------------------------


def test_every_outcome_column_declares_a_direction():
    calendar = Calendar(date(2020, 1, 1), date(2021, 9, 30), date(2020, 10, 1))
    columns = outcome_columns(calendar)
    assert {better_direction(c) for c in columns} == {"lower", "higher"}
    fewer = [
        "attacks_rocket",
        "attacks_drone",
        "attacks_convoy",
        "attacks_security_detail",
        "us_killed",
        "us_wounded",
        "iraqi_civilian_casualties",
        "us_strikes_retaliatory",
        "us_strikes_preemptive",
        "escalation_chain_max",
        "embassy_closed",
        "rocket_drone_attacks_q3",
        "us_casualties_q7",
    ]
    more = ["rockets_intercepted", "attacks_prevented", "truce_days", "iraqi_operations"]
    assert [better_direction(c) for c in fewer] == ["lower"] * len(fewer)
    assert [better_direction(c) for c in more] == ["higher"] * len(more)
    assert "embassy_closed" in binary_outcomes() and "us_killed" not in binary_outcomes()
    with pytest.raises(KeyError, match="no_such_outcome"):
        better_direction("no_such_outcome")
    with pytest.raises(KeyError):
        better_direction("us_casualties_qx")
    with pytest.raises(TypeError, match="better"):
        Outcome("truces", "truces declared", counts=outcomes()[0].counts)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="truces: better = 'sideways' must be Better.LOWER or Better.HIGHER"):
        Outcome("truces", "truces declared", label="truces", counts=outcomes()[0].counts, better="sideways")  # type: ignore[arg-type]


def test_every_outcome_column_has_a_plain_label_declared_beside_it():
    """Reports name outcomes by their labels: every column (the quarterly ones too) has one, in
    words rather than snake_case, and no two share one; an outcome without one, or with one in
    snake_case, is refused."""
    calendar = Calendar(date(2020, 1, 1), date(2021, 9, 30), date(2020, 10, 1))
    columns = outcome_columns(calendar)
    labels = [label(c) for c in columns]
    assert all(text.strip() and "_" not in text for text in labels)  # "ultimatums" may stay as it is
    assert len(set(labels)) == len(labels)
    assert [label(c) for c in ("attacks_rocket", "us_killed", "embassy_closed", "rocket_drone_attacks_q3")] == [
        "rocket attacks",
        "U.S. personnel killed",
        "embassy closure",
        "rocket and drone attacks, quarter 3",
    ]
    assert all(o.label == label(o.column) for o in outcomes())
    with pytest.raises(KeyError, match="no_such_outcome"):
        label("no_such_outcome")
    with pytest.raises(TypeError, match="label"):
        Outcome("truces", "truces declared", counts=outcomes()[0].counts, better=Better.HIGHER)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="truces: label = 'truce_count' must be plain words"):
        Outcome("truces", "truces declared", label="truce_count", counts=outcomes()[0].counts, better=Better.HIGHER)


# --- files and the console -----------------------------------------------------------------------


def test_analyse_folder_writes_the_answer_first_then_the_tables_and_decision_csv(tmp_path):
    rng = np.random.default_rng(SEED)
    n = 40
    common = rng.poisson(30.0, n)
    frames = []
    for shift, scenario in enumerate(["continuity", "tougher_love", "separation"]):
        frames.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "replication": np.arange(n),
                    "seed": SEED,
                    "attacks_rocket": (common - 5 * shift + rng.poisson(1.0, n)).astype(np.int64),
                    "us_killed": rng.poisson(0.5, n).astype(np.int64),
                    "embassy_closed": rng.uniform(0, 1, n) < 0.3 * shift,
                }
            )
        )
    runs = pd.concat(frames, ignore_index=True)
    outcomes_shown = ["attacks_rocket", "us_killed", "embassy_closed"]
    period = period_label(date(2020, 10, 1), date(2021, 9, 30))
    assert period == "1 Oct 2020 - 30 Sep 2021"
    manifest = {"reference": "continuity", "outcomes": outcomes_shown, "title": "Options", "period": period}
    result = api.analyse_folder(tmp_path, runs, manifest)
    decision = pd.read_csv(tmp_path / "decision.csv")
    assert list(decision.columns) == ["option", *outcomes_shown]
    assert list(decision["option"]) == ["tougher_love", "separation"]
    assert decision.loc[1, "attacks_rocket"].endswith("✔ better")
    assert len(result.decisions) == 2 * len(outcomes_shown)
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[:4] == [
        "## The answer: each option against continuity",
        "## Contents",
        "## Trade-offs",
        "## Decision view: each option against continuity",
    ]
    assert (
        "### rocket attacks (fewer is better; column `attacks_rocket`)" in text
        and "over 1 Oct 2020 - 30 Sep 2021" in text
    )
    assert "### embassy closure (less likely is better; column `embassy_closed`)" in text
    for _, row in result.decisions.iterrows():  # the console's sentences, with the outcomes' labels
        labelled = sentence(row.to_dict(), row["outcome"] in binary_outcomes(), label(row["outcome"]))
        assert f"- {labelled}" in text and row["outcome"] not in labelled
    links = re.findall(r"\]\((plots/[^)]+\.png)\)", text)
    assert links[0] == "plots/forest_differences.png" and "plots/probabilities.png" in links
    assert "plots/ecdf_embassy_closed.png" not in links  # a yes-or-no outcome gets a probability, not an ECDF
    for link in links:
        assert (tmp_path / link).read_bytes()[:8] == PNG_MAGIC
    assert "KS p" not in text and "MWU p" not in text
    console = format_decisions(result.decisions, ["attacks_rocket"])
    assert console.splitlines()[2:] == list(
        result.decisions["sentence"][result.decisions["outcome"] == "attacks_rocket"]
    )


# --- small defects of the decision view, each with the case that showed it ------------------------


def test_holm_counts_only_the_comparisons_that_test_something():
    """Rows whose pairs are all tied keep p = 1 and are not among Holm's m: with two real
    p-values and three all-tied rows, the adjusted values are Holm's over two."""
    from sim.analysis.compare import holm

    rng = np.random.default_rng(5)
    n = 40
    base = rng.poisson(5, n).astype(float)
    runs = pd.DataFrame(
        {
            "scenario": ["ref"] * n + ["opt"] * n,
            "replication": list(range(n)) * 2,
            "a": np.concatenate([base, base + rng.integers(0, 3, n)]),
            "b": np.concatenate([base, base - rng.integers(0, 2, n)]),
            "t1": 0.0,
            "t2": 0.0,
            "t3": 1.0,
        }
    )
    table = paired_differences(runs, "ref", ["a", "b", "t1", "t2", "t3"]).set_index("outcome")
    assert (table.loc[["t1", "t2", "t3"], "p_wilcoxon_holm"] == 1.0).all()
    expected = holm(table.loc[["a", "b"], "p_wilcoxon"].to_numpy())
    assert table.loc[["a", "b"], "p_wilcoxon_holm"].tolist() == expected.tolist()
    assert expected.tolist() != holm(table["p_wilcoxon"].to_numpy())[:2].tolist()  # m = 5 would give other values


def test_a_half_percent_prints_as_one_percent_and_tiny_shares_as_below_one():
    assert percent(0.005) == "1%" and percent(0.0049) == "<1%" and percent(0.025) == "3%" and percent(0.815) == "82%"
    assert percent(0.995) == ">99%" and percent(1.0) == "100%" and percent(0.0) == "0%"


def test_p_values_that_underflow_print_as_below_the_floor():
    from sim.analysis.tables import p_value

    assert (
        p_value(0.0) == "<1e-16"
        and p_value(3e-300) == "<1e-16"
        and p_value(0.0123) == "0.0123"
        and p_value(np.nan) == EMPTY
    )


def test_a_variance_reduction_of_zero_prints_as_zero():
    from sim.analysis.compare import variance_reduction

    x = np.array([3.0, 8.0, 5.0, 0.0, 7.0])
    y = np.array([7.0, 7.0, 7.0, 7.0, 7.0])  # constant: the pairing removes nothing (was 2.22e-16)
    assert variance_reduction(x, y) == 0.0 and fmt(variance_reduction(x, y)) == "0"


def test_the_sentence_calls_the_evidence_weak_when_the_tests_see_what_the_interval_does_not():
    row = {
        "scenario": "opt",
        "outcome": "us_killed",
        "reference": "ref",
        "n_pairs": 400,
        "mean_diff": -0.05,
        "diff_ci95_low": -0.11,
        "diff_ci95_high": 0.01,
        "share_better": 0.06,
        "share_worse": 0.01,
        "share_tied": 0.93,
        "p_wilcoxon_holm": 0.012,
        "verdict": UNCLEAR,
    }
    text = sentence(row, binary=False)
    assert text.startswith("no clear difference") and "weak evidence" in text and "p = 0.0120" in text
    assert "weak evidence" not in sentence({**row, "p_wilcoxon_holm": 0.2}, binary=False)
