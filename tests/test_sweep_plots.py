"""Sweep plots: a scatter of the design points with a smoother, a title with the outcome's
period, the parameter's unit, and the smoothed level at the parameter's base value."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sweep import (
    SweepContext,
    smoother,
    sweep_context,
    sweep_figure,
    sweep_figures,
)
from sim.config.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def line_points(n: int = 9) -> pd.DataFrame:
    x = np.linspace(0.1, 0.9, n)
    return pd.DataFrame(
        {"cram.kill_prob": x, "us_killed": 2 * x + 1, "us_killed_ci95_low": 2 * x, "us_killed_ci95_high": 2 * x + 2}
    )


def test_the_smoother_follows_a_straight_line_and_averages_repeated_values():
    points = line_points()
    x, y = smoother(points["cram.kill_prob"].to_numpy(), points["us_killed"].to_numpy())
    assert y == pytest.approx(2 * x + 1, abs=1e-9)  # LOWESS fits local lines: exact on a line
    x, y = smoother(np.array([0.0, 0.0, 1.0, 1.0]), np.array([1.0, 3.0, 5.0, 7.0]))  # too few values for LOWESS
    assert x.tolist() == [0.0, 1.0] and y.tolist() == [2.0, 6.0]


def test_a_sweep_figure_is_a_scatter_with_a_smoother_a_title_a_unit_and_the_base_level():
    context = SweepContext(
        {"cram.kill_prob": "probability"},
        {"cram.kill_prob": 0.5},
        {"us_killed": "U.S. personnel killed"},
        {"us_killed": "counted from 2020-10-01 to 2021-09-30"},
    )
    fig = sweep_figure(line_points(), "cram.kill_prob", "us_killed", context)
    ax = fig.axes[0]
    assert ax.get_title() == "U.S. personnel killed against kill_prob\ncounted from 2020-10-01 to 2021-09-30"
    assert ax.get_xlabel() == "cram.kill_prob (probability)"
    assert len(ax.collections) >= 1 and ax.collections[-1].get_offsets().shape == (9, 2)  # the scatter
    smooth, base_level, _ = ax.get_lines()[-3:]  # smoother, horizontal base level, vertical base value
    assert base_level.get_label() == "smoothed level at the base value 0.5: 2"
    assert smooth.get_ydata() == pytest.approx(2 * np.asarray(smooth.get_xdata()) + 1, abs=1e-9)
    assert base_level.get_ydata() == pytest.approx([2.0, 2.0])  # 2 * 0.5 + 1


def test_a_base_value_outside_the_design_draws_no_base_line_and_figures_are_returned_by_file_name():
    context = SweepContext(base_values={"cram.kill_prob": 5.0})
    figures = sweep_figures(line_points(), ["cram.kill_prob"], ["us_killed"], context)
    assert list(figures) == ["sweep_us_killed_vs_cram.kill_prob.png"]
    ax = figures["sweep_us_killed_vs_cram.kill_prob.png"].axes[0]
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] == ["LOWESS smoother"]
    assert ax.get_title() == "us_killed against kill_prob"


def test_the_context_comes_from_the_base_scenario():
    base = load_scenario(ROOT / "configs" / "scenarios" / "tougher_love.toml", {"scenario.end_date": date(2021, 3, 31)})
    context = sweep_context(base, ["policy.us.strikes.revenge_prob"], ["attacks_rocket", "rocket_drone_attacks_q2"])
    assert context.units["policy.us.strikes.revenge_prob"] == "probability"
    assert context.base_values["policy.us.strikes.revenge_prob"] == base.policy.us.strikes.revenge_prob
    assert context.periods == {
        "attacks_rocket": "counted from 2020-10-01 to 2021-03-31",
        "rocket_drone_attacks_q2": "in 2020Q2",
    }
    assert context.outcome_docs["attacks_rocket"] == "rocket attacks"
