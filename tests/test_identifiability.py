"""The study of what the statistics can tell about a parameter
(:mod:`sim.calibration.identifiability`), against cases whose answer is known.

A parameter whose normal score is z, and a statistic s = z + noise of standard deviation
sigma: the best predictor of z from s explains R^2 = 1 / (1 + sigma^2) of its variance. With
n = 4000 draws the cross-validated R^2 has a standard error below 0.01; the tolerance of 0.04 is
over 4 standard errors (a false failure about once in 30,000 seeds; the seed is fixed). A
parameter no statistic depends on has R^2 near 0 (at most 0.02: the best of five penalties over
noise, which can only go slightly above 0 by chance) and an attainable width ratio near 1.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.calibration.identifiability import attainable_widths
from sim.calibration.priors import Prior, Uniform
from sim.calibration.public_record import Observation
from sim.design.posterior import PARAMETER_PREFIX
from sim.replication.checks import Check

N = 4000


def observation(name: str, statistic: str = "share_sized") -> Observation:
    return Observation(
        Check(name, statistic, ("attack_rocket",), date(2020, 1, 1), date(2020, 3, 31)), 0.0, 1.0, "test"
    )


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_a_statistic_that_measures_the_parameter_with_noise_gives_its_analytic_r2(sigma):
    rng = np.random.default_rng(7)
    prior = Prior("campaign.branching_ratio", "uniform", Uniform(0.2, 0.6), "offspring per attack")
    values = prior.distribution().ppf(rng.random(N))
    z = stats.norm.ppf(prior.distribution().cdf(values))
    runs = pd.DataFrame(
        {
            PARAMETER_PREFIX + prior.path: values,
            "check.s": z + sigma * rng.standard_normal(N),
            "check.noise": rng.standard_normal(N),
        }
    )
    table = attainable_widths(runs, [prior], [observation("s"), observation("noise")]).set_index("parameter")
    expected = 1 / (1 + sigma**2)
    assert table.loc[prior.path, "r2_cv"] == pytest.approx(expected, abs=0.04)
    assert table.loc[prior.path, "attainable_width_ratio"] == pytest.approx(np.sqrt(1 - expected), abs=0.04)


def test_a_parameter_nothing_depends_on_cannot_be_informed():
    rng = np.random.default_rng(8)
    prior = Prior("cram.kill_prob", "uniform", Uniform(0.3, 0.9), "probability")
    runs = pd.DataFrame(
        {
            PARAMETER_PREFIX + prior.path: prior.distribution().ppf(rng.random(N)),
            **{f"check.s{i}": rng.poisson(5.0, N).astype(float) for i in range(10)},
        }
    )
    table = attainable_widths(runs, [prior], [observation(f"s{i}", "count") for i in range(10)])
    assert table["r2_cv"].iloc[0] < 0.02
    assert table["attainable_width_ratio"].iloc[0] > 0.98


def test_a_statistic_blind_to_the_side_does_not_locate_the_parameter():
    """A statistic that is largest in the middle of the range says how far from the middle the
    parameter is, not on which side: it halves no interval, and the study says so."""
    rng = np.random.default_rng(9)
    prior = Prior("campaign.branching_ratio", "uniform", Uniform(0.2, 0.6), "offspring per attack")
    values = prior.distribution().ppf(rng.random(N))
    z = stats.norm.ppf(prior.distribution().cdf(values))
    runs = pd.DataFrame({PARAMETER_PREFIX + prior.path: values, "check.s": -(z**2) + 0.1 * rng.standard_normal(N)})
    table = attainable_widths(runs, [prior], [observation("s")])
    assert abs(stats.spearmanr(values, runs["check.s"]).statistic) < 0.1
    assert table["r2_cv"].iloc[0] < 0.05


def test_the_projected_distance_compares_what_the_statistics_say_about_the_parameters():
    """Semi-automatic ABC: with a statistic that measures the parameter and one that is noise,
    the distance is the gap between the two predicted normal scores (plus the shortfall of an
    'at least' row), and moving the noise statistic hardly moves it."""
    from sim.calibration.distance import Summary
    from sim.calibration.identifiability import fit_projection

    rng = np.random.default_rng(10)
    prior = Prior("campaign.branching_ratio", "uniform", Uniform(0.2, 0.6), "offspring per attack")
    values = prior.distribution().ppf(rng.random(N))
    z = stats.norm.ppf(prior.distribution().cdf(values))
    runs = pd.DataFrame(
        {
            PARAMETER_PREFIX + prior.path: values,
            "check.s": z + 0.3 * rng.standard_normal(N),
            "check.noise": rng.standard_normal(N),
            "check.floor": rng.poisson(30, N).astype(float),
        }
    )
    floor = Observation(
        Check("floor", "count", ("attack_rocket",), date(2020, 1, 1), date(2020, 3, 31)), 25.0, None, "test"
    )
    observed = [observation("s"), observation("noise"), floor]
    observed[0] = Observation(observed[0].check, 0.5, 0.5, "test")
    observed[1] = Observation(observed[1].check, 0.0, 0.0, "test")
    projection = fit_projection(runs, [prior], observed)
    assert projection.features.ids == ("s", "noise")  # the 'at least' row is not projected
    summary = Summary(tuple(observed), (1.0, 1.0, 1.0), projection)
    assert summary.distance({"s": 0.5, "noise": 0.0, "floor": 30.0}) == pytest.approx(0.0, abs=1e-12)
    near = summary.distance({"s": 1.5, "noise": 0.0, "floor": 30.0})
    gap = projection.project({"s": 1.5, "noise": 0.0}) - projection.project({"s": 0.5, "noise": 0.0})
    assert near == pytest.approx(float(np.abs(gap[0])))
    assert near == pytest.approx(1.0 / (1 + 0.3**2), rel=0.1)  # the regression's slope: cov(z, s) / var(s)
    assert summary.distance({"s": 0.5, "noise": 2.0, "floor": 30.0}) < 0.1 * near
    short = summary.distance({"s": 0.5, "noise": 0.0, "floor": 16.0})  # below the bound: its scaled shortfall
    assert short == pytest.approx(2 * np.sqrt(25.375) - 2 * np.sqrt(16.375))
