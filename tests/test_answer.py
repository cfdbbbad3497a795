"""The first screen of a report: each option's wins and losses, how sure, and where the answer
reverses, on synthetic result tables.

Every sample is drawn with a fixed seed, so each test is deterministic. Where a check compares an
estimate with a known value, the tolerance is the estimate's own interval at ALPHA = 0.001: were
the seed drawn at random, such a check would fail wrongly about once in a thousand runs.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.answer import (
    POSTERIOR_EXPERIMENT,
    ROBUSTNESS_EXPERIMENT,
    answer_section,
    option_answers,
    reversal_section,
)
from sim.analysis.compare import paired_differences
from sim.analysis.decision import decision_table
from sim.analysis.reversal import FADES, HOLDS, REVERSES, Line, classify, find_reversals, fit_line
from sim.project import PROJECT_ROOT
from sim.replication.outcomes import better_direction, binary_outcomes, label

ALPHA = 0.001
SEED = 20201001
PERIOD = "1 Oct 2020 - 30 Sep 2021"
# A p-value or any number in scientific notation, which the first screen must not show.
P_VALUE = re.compile(r"\bp\s*[=<]|\d[eE][+-]?\d")


def comparison_row(scenario: str, outcome: str, mean: float, low: float, high: float, p: float) -> dict:
    return {
        "scenario": scenario,
        "reference": "continuity",
        "outcome": outcome,
        "n_pairs": 100,
        "mean_diff": mean,
        "diff_ci95_low": low,
        "diff_ci95_high": high,
        "n_higher": 40,
        "n_tied": 20,
        "n_lower": 40,
        "p_wilcoxon_holm": p,
        "p_sign_holm": p,
    }


def small_decisions() -> pd.DataFrame:
    """Two options, four outcomes: a clear win, a weak win, a loss and no clear difference."""
    rows = [
        comparison_row("tougher_love", "attacks_rocket", -28.4, -30.2, -26.7, 1e-9),  # fewer is better: a win
        comparison_row("tougher_love", "us_killed", -0.15, -0.27, -0.03, 0.08),  # a win the test does not confirm
        comparison_row("tougher_love", "us_strikes_retaliatory", 10.8, 9.8, 11.7, 1e-12),  # a loss
        comparison_row("tougher_love", "embassy_closed", 0.0, -0.01, 0.01, 1.0),  # no clear difference
        comparison_row("separation", "attacks_rocket", -1.0, -3.0, 1.0, 0.5),
        comparison_row("separation", "us_killed", 0.01, -0.1, 0.12, 1.0),
        comparison_row("separation", "us_strikes_retaliatory", -0.2, -0.4, 0.1, 0.3),
        comparison_row("separation", "embassy_closed", 0.985, 0.97, 1.0, 1e-30),  # less likely is better: a loss
    ]
    return decision_table(pd.DataFrame(rows), better_direction, binary_outcomes())


# --- wins, losses and how sure -------------------------------------------------------------------


def test_wins_and_losses_follow_the_verdicts_of_a_small_decision_table():
    first, second = option_answers(small_decisions())
    assert first.option == "tougher_love"
    assert first.wins == ("attacks_rocket", "us_killed") and first.losses == ("us_strikes_retaliatory",)
    assert first.unclear == ("embassy_closed",) and first.weak == frozenset({"us_killed"})
    assert second.option == "separation"
    assert second.wins == () and second.losses == ("embassy_closed",)
    assert second.unclear == ("attacks_rocket", "us_killed", "us_strikes_retaliatory") and second.weak == frozenset()


def test_the_answer_names_outcomes_by_their_labels_and_shows_no_p_value():
    text = answer_section(small_decisions(), None, "continuity", None, PERIOD, label, binary_outcomes())
    lines = text.splitlines()
    assert lines[0] == "## The answer: each option against continuity"
    assert lines[-2] == (
        "- **tougher_love** wins on rocket attacks (-28.4) and U.S. personnel killed (-0.150, weak evidence); "
        "loses on U.S. retaliatory strikes (+10.8); no clear difference on 1 other."
    )
    assert lines[-1] == "- **separation** loses on embassy closure (+98.5 pp); no clear difference on 3 others."
    assert not P_VALUE.search(text), P_VALUE.search(text)
    for column in ("attacks_rocket", "us_killed", "us_strikes_retaliatory", "embassy_closed"):
        assert column not in text


def test_with_fixed_parameters_the_answer_holds_at_one_point_and_names_where_to_look():
    text = answer_section(small_decisions(), None, "continuity", None, PERIOD, label, binary_outcomes())
    assert "Monte Carlo error only" in text and "one point of parameter space" in text
    assert f"`{POSTERIOR_EXPERIMENT}`" in text and f"`{ROBUSTNESS_EXPERIMENT}`" in text
    assert (PROJECT_ROOT / POSTERIOR_EXPERIMENT).is_file() and (PROJECT_ROOT / ROBUSTNESS_EXPERIMENT).is_file()
    assert "posterior range" not in text  # no claim about where it reverses


def test_an_option_with_no_win_or_loss_says_so():
    rows = [comparison_row("ultimatum", o, 0.0, -1.0, 1.0, 1.0) for o in ("attacks_rocket", "us_killed")]
    text = answer_section(
        decision_table(pd.DataFrame(rows), better_direction), None, "continuity", None, PERIOD, label, ()
    )
    assert text.splitlines()[-1] == "- **ultimatum**: no clear difference on any of the 2 outcomes."


# --- the line and its crossing -------------------------------------------------------------------


def test_the_line_and_its_crossing_match_least_squares_and_fiellers_definition():
    """y = 2 (x - 0.4) + noise: the crossing's interval at ALPHA holds 0.4, the line agrees with
    scipy's least squares, and at both ends of the interval the fitted value's band just reaches
    0 (the definition of Fieller's interval)."""
    rng = np.random.default_rng(SEED)
    k, crossing = 200, 0.4
    x = rng.uniform(0.0, 1.0, k)
    y = 2.0 * (x - crossing) + rng.normal(0.0, 0.3, k)
    line = fit_line(x, y, ALPHA)
    reference = stats.linregress(x, y)
    assert (line.slope, line.intercept, line.correlation, line.p) == pytest.approx(
        (reference.slope, reference.intercept, reference.rvalue, reference.pvalue), rel=1e-9, abs=1e-300
    )
    assert line.crossing_low < crossing < line.crossing_high
    assert abs(line.crossing - crossing) <= line.crossing_high - line.crossing_low
    s2 = ((y - line.at(x)) ** 2).sum() / (k - 2)
    q = stats.t.ppf(1 - ALPHA / 2, k - 2)
    for end in (line.crossing_low, line.crossing_high):
        band = q * math.sqrt(s2 * (1 / k + (end - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum()))
        assert abs(line.at(end)) == pytest.approx(band, rel=1e-9)


def test_the_crossing_has_no_bounded_interval_when_the_slope_is_not_significant():
    rng = np.random.default_rng(SEED)
    x = rng.uniform(0.0, 1.0, 30)
    line = fit_line(x, rng.normal(0.0, 1.0, 30), ALPHA)
    assert line.p > ALPHA and math.isnan(line.crossing_low) and math.isnan(line.crossing_high)
    with pytest.raises(ValueError, match="constant"):
        fit_line(np.ones(5), np.arange(5.0))


def test_a_crossing_is_a_reversal_only_when_its_interval_ends_inside_the_drawn_range():
    # The answer: lower (a win on an outcome where fewer is better); the line rises through 0 at 0.5.
    def line(low: float, high: float, crossing: float = 0.5) -> Line:
        return Line(-1.0, 2.0, 0.9, 1e-6, crossing, low, high)

    assert classify(line(0.4, 0.6), 0.0, 1.0, -0.3, True) == (REVERSES, ">")
    assert classify(line(0.4, 1.2), 0.0, 1.0, -0.3, True) == (FADES, ">")  # no significant reversal at the edge
    assert classify(line(-0.2, 0.6), 0.0, 1.0, -0.3, True) == (REVERSES, ">")  # only the far end must be inside
    assert classify(line(0.4, 0.6), 0.0, 1.0, -0.3, True, False) == (FADES, ">")  # the draws beyond do not agree
    assert classify(line(0.4, 0.6), 0.0, 1.0, -0.3, False) == (HOLDS, ">")  # the slope fails the corrected test
    assert classify(line(1.1, 1.3, 1.2), 0.0, 1.0, -0.3, True) == (HOLDS, "")  # crosses beyond the drawn range
    assert classify(line(0.4, 0.6), 0.0, 1.0, 0.3, True) == (REVERSES, "<")  # a positive answer reverses below


# --- the search over a posterior's draws ---------------------------------------------------------


def posterior_runs(effect, draws: int = 100, per_draw: int = 2, noise: float = 1.0) -> pd.DataFrame:
    """Runs of continuity and tougher_love over ``draws`` posterior draws of five parameters,
    ``per_draw`` replications each: the paired difference in us_killed of a replication is
    ``effect(kill_prob)`` plus Normal(0, ``noise``) noise; the other four parameters do nothing."""
    rng = np.random.default_rng(SEED)
    values = {
        "cram.kill_prob": rng.uniform(0.3, 0.9, draws),
        **{f"campaign.noise_{i}": rng.uniform(0.0, 1.0, draws) for i in range(4)},
    }
    n = draws * per_draw
    replication = np.arange(n)
    draw = replication // per_draw
    base = rng.poisson(5.0, n).astype(float)
    difference = effect(values["cram.kill_prob"][draw]) + rng.normal(0.0, noise, n)
    parameters = {f"parameter.{p}": v[draw] for p, v in values.items()}
    frames = [
        pd.DataFrame(
            {
                "scenario": scenario,
                "replication": replication,
                "seed": SEED,
                "draw": draw,
                "us_killed": base + shift,
                **parameters,
            }
        )
        for scenario, shift in (("continuity", 0.0), ("tougher_love", difference))
    ]
    return pd.concat(frames, ignore_index=True)


def reversals_of(runs: pd.DataFrame, per_draw: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    decisions = decision_table(paired_differences(runs, "continuity", ["us_killed"]), better_direction)
    return decisions, find_reversals(runs, decisions, "continuity", per_draw, ALPHA)


def test_the_search_finds_the_parameter_that_reverses_the_answer_and_where():
    """The difference is 8 (kill_prob - 0.7), kill_prob uniform on [0.3, 0.9]: tougher_love wins
    on average (-0.8) and loses when kill_prob > 0.7. The crossing's interval, at ALPHA corrected
    for the five lines tried, holds 0.7."""
    runs = posterior_runs(lambda kill_prob: 8.0 * (kill_prob - 0.7))
    decisions, reversals = reversals_of(runs)
    assert decisions.loc[0, "verdict"] == "better"
    row = reversals.iloc[0]
    assert (row["parameter"], row["status"], row["side"], row["tests"], row["draws"]) == (
        "cram.kill_prob",
        REVERSES,
        ">",
        5,
        100,
    )
    assert row["crossing_low"] < 0.7 < row["crossing_high"] and row["p_corrected"] < ALPHA
    drawn = runs.loc[runs["scenario"] == "continuity", "parameter.cram.kill_prob"].to_numpy()[::2]
    assert row["share_beyond"] == pytest.approx((drawn > row["crossing"]).mean())
    text = answer_section(
        decisions,
        reversals,
        "continuity",
        {"file": "posterior.parquet", "parameters": ["a"] * 5, "draws": 100, "replications_per_draw": 2},
        PERIOD,
        label,
        (),
    )
    found = re.search(
        r"Reverses on U\.S\. personnel killed when `cram\.kill_prob` > ([0-9.]+) \[([0-9.]+), "
        r"([0-9.]+)\] \((\d+)% of the draws\); the rest holds over the whole posterior range\.",
        text,
    )
    assert found, text
    assert float(found.group(2)) < 0.7 < float(found.group(3))
    assert "the parameters' uncertainty" in text and not P_VALUE.search(text)
    detail = reversal_section(reversals, "continuity", label, ())
    assert "| tougher_love | U.S. personnel killed | -1." in detail and "| reverses |" in detail


def test_pure_noise_claims_no_reversal():
    """The difference is -1 whatever the parameters: no line may claim a reversal."""
    decisions, reversals = reversals_of(posterior_runs(lambda kill_prob: -1.0 + 0.0 * kill_prob))
    assert decisions.loc[0, "verdict"] == "better"
    assert list(reversals["status"]) == [HOLDS] and reversals.loc[0, "p_corrected"] > ALPHA
    text = answer_section(
        decisions,
        reversals,
        "continuity",
        {"file": "posterior.parquet", "parameters": ["a"] * 5, "draws": 100, "replications_per_draw": 2},
        PERIOD,
        label,
        (),
    )
    assert text.endswith("Holds over the whole posterior range of the parameters.")


def test_a_line_through_an_effect_that_bends_claims_no_reversal_the_draws_do_not_show():
    """The difference is -15 max(0, kill_prob - 0.5): 0 below 0.5, never positive. The straight
    line through it crosses 0 near 0.4 and overshoots below, steeply and surely enough that its own
    interval would call that a reversal; the draws below the crossing, all of difference 0 but for
    the noise, do not, so the answer only fades there."""
    runs = posterior_runs(lambda kill_prob: -15.0 * np.maximum(0.0, kill_prob - 0.5), noise=0.5)
    decisions, reversals = reversals_of(runs)
    row = reversals.iloc[0]
    assert row["parameter"] == "cram.kill_prob" and row["p_corrected"] < ALPHA and row["side"] == "<"
    assert row["low"] < row["crossing_low"] < row["crossing"] < 0.5  # the line alone would claim it
    assert row["status"] == FADES
    text = answer_section(
        decisions,
        reversals,
        "continuity",
        {"file": "posterior.parquet", "parameters": ["a"] * 5, "draws": 100, "replications_per_draw": 2},
        PERIOD,
        label,
        (),
    )
    assert "Fades to no clear difference on U.S. personnel killed when `cram.kill_prob` < " in text
    assert "Reverses" not in text.splitlines()[-1]


def test_fixed_parameter_runs_have_nothing_to_search():
    runs = posterior_runs(lambda kill_prob: -1.0 + 0.0 * kill_prob).filter(regex=r"^(?!parameter\.)")
    _, reversals = reversals_of(runs)
    assert reversals.empty
