"""Statistical validation against closed forms, under fixed seeds.

Each tolerance is a two-sided confidence interval at level 1 - ALPHA around the analytic
value (ALPHA = 0.001: with the seeds fixed the tests are deterministic; were the seeds
drawn at random, each check would fail wrongly about once in a thousand runs).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pytest
from builders import Kind, one_site, quiet, run_replications
from scipy import integrate, stats

from sim.config.scenario import Regime
from sim.config.schema import FrozenMap
from sim.replication.simulate import event_log

ALPHA = 0.001
Z = stats.norm.ppf(1 - ALPHA / 2)
SEED = 20200101

pytestmark = pytest.mark.slow


def quarter_run(overrides: dict) -> dict:
    """A 91-day world (Q1 2020) with only the activity the test switches on."""
    return {"scenario.end_date": date(2020, 3, 31), **overrides}


def assert_mean_within_ci(sample: np.ndarray, expected: float, sd: float | None = None) -> None:
    """|mean - expected| within Z standard errors (the known sd, or the sample's)."""
    sd = float(np.std(sample, ddof=1)) if sd is None else sd
    half = Z * sd / math.sqrt(len(sample))
    assert abs(sample.mean() - expected) <= half, f"mean {sample.mean():.4f} vs {expected:.4f} +- {half:.4f}"


def assert_variance_within_ci(sample: np.ndarray, expected: float) -> None:
    """|sample variance - expected| within Z standard errors of the sample variance,
    se^2 = (mu4 - sigma^4 (n - 3) / (n - 1)) / n with the sample's fourth central moment."""
    n, s2 = len(sample), float(sample.var(ddof=1))
    mu4 = float(np.mean((sample - sample.mean()) ** 4))
    half = Z * math.sqrt((mu4 - expected**2 * (n - 3) / (n - 1)) / n)
    assert abs(s2 - expected) <= half, f"variance {s2:.2f} vs {expected:.2f} +- {half:.2f}"


def assert_proportion_within_ci(successes: int, trials: int, p: float) -> None:
    half = Z * math.sqrt(p * (1 - p) / trials)
    assert abs(successes / trials - p) <= half, (
        f"{successes}/{trials} = {successes / trials:.4f} vs {p:.4f} +- {half:.4f}"
    )


def test_attack_counts_are_poisson_without_regimes_or_self_excitation():
    rate = 0.5
    scenario = quiet(quarter_run({"threats.rocket.base_rate_per_day": rate, "threats.rocket.heavy_salvo_prob": 0.0}))
    counts = run_replications(scenario, 300, SEED, workers=1)["attacks_rocket"].to_numpy()
    mean = rate * scenario.scenario.horizon_days
    assert_mean_within_ci(counts, mean, sd=math.sqrt(mean))
    dispersion = (len(counts) - 1) * counts.var(ddof=1) / mean  # chi-square(R - 1) under Poisson
    lo, hi = stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], len(counts) - 1)
    assert lo <= dispersion <= hi


def test_self_excitation_matches_the_hawkes_mean():
    mu, n, tau = 0.2, 0.5, 10.0
    scenario = quiet(
        {
            "threats.convoy_ied.base_rate_per_day": mu,
            "campaign.branching_ratio": n,
            "campaign.excitation_decay_days": tau,
        }
    )
    counts = run_replications(scenario, 300, SEED, workers=1)["attacks_convoy"].to_numpy()
    horizon = scenario.scenario.horizon_days
    # E N(T) for a Hawkes process with kernel (n / tau) exp(-s / tau), started empty
    expected = mu * horizon / (1 - n) - mu * n * tau / (1 - n) ** 2 * (1 - math.exp(-(1 - n) * horizon / tau))
    assert_mean_within_ci(counts, expected)
    assert counts.var(ddof=1) > counts.mean()  # clustering: more variable than Poisson


def test_regime_switching_matches_the_two_state_markov_mean():
    base, d1, d2, m1, m2 = 0.4, 20.0, 40.0, 0.25, 2.0
    scenario = quiet({"threats.convoy_ied.base_rate_per_day": base})
    regimes = FrozenMap(
        {
            "calm": Regime(multiplier=m1, mean_duration_days=d1, duration_log_sd=0.0, entry_weight=1.0),
            "surge": Regime(multiplier=m2, mean_duration_days=d2, duration_log_sd=0.0, entry_weight=1.0),
            "pause": scenario.campaign.regimes["pause"],  # never entered: no weight, no truce, no strike
        }
    )
    scenario = dataclasses.replace(scenario, campaign=dataclasses.replace(scenario.campaign, regimes=regimes))
    counts = run_replications(scenario, 300, SEED, workers=1)["attacks_convoy"].to_numpy()
    # P(calm at t) = pi + (p0 - pi) exp(-(a + b) t), a = 1/d1, b = 1/d2, pi = d1 / (d1 + d2), p0 = 1/2
    a, b, horizon = 1 / d1, 1 / d2, scenario.scenario.horizon_days
    pi = d1 / (d1 + d2)
    calm_time = pi * horizon + (0.5 - pi) * (1 - math.exp(-(a + b) * horizon)) / (a + b)
    expected = base * (m1 * calm_time + m2 * (horizon - calm_time))
    assert_mean_within_ci(counts, expected)
    # Variance: the count is Poisson given the calm time C, so Var N = E N + (base (m1 - m2))^2 Var C,
    # with Var C = 2 int_0^T int_s^T p(s) [q(t - s) - p(t)] dt ds, q(u) = pi + (1 - pi) exp(-(a + b) u)
    # the chance of calm u days after calm.
    lam = a + b

    def calm(t):
        return pi + (0.5 - pi) * math.exp(-lam * t)

    def covariance(t, s):
        return calm(s) * (pi + (1 - pi) * math.exp(-lam * (t - s)) - calm(t))

    var_calm = 2 * integrate.dblquad(covariance, 0, horizon, lambda s: s, lambda s: horizon)[0]
    variance = expected + (base * (m1 - m2)) ** 2 * var_calm
    assert variance > 3 * expected  # the regimes make counts far more variable than Poisson
    assert_variance_within_ci(counts, variance)


def test_unlimited_fire_units_intercept_engage_prob_times_kill_prob():
    engage, kill = 0.8, 0.6
    scenario = quiet(
        quarter_run(
            {
                "threats.rocket.base_rate_per_day": 1.0,
                "threats.rocket.heavy_salvo_prob": 0.0,
                "threats.rocket.inside_perimeter_prob": 1.0,
                "threats.rocket.dud_prob": 0.0,
                "cram.engage_prob": engage,
                "cram.kill_prob": kill,
                "cram.magazine_rounds": 10**9,
                "cram.rounds_per_engagement": 1,
                "cram.stray_round_prob": 0.0,
            }
        )
    )
    scenario = one_site(scenario, cram_fire_units=10_000)
    runs = run_replications(scenario, 60, SEED, workers=1)
    launched, intercepted = int(runs["rockets_launched"].sum()), int(runs["rockets_intercepted"].sum())
    assert runs["cram_saturated"].sum() == 0 and runs["cram_magazine_empty"].sum() == 0
    assert launched > 3000
    assert_proportion_within_ci(intercepted, launched, engage * kill)
    assert_proportion_within_ci(int(runs["rockets_engaged"].sum()), launched, engage)


def test_drones_are_downed_at_drone_engage_prob_times_drone_kill_prob():
    engage, kill = 0.7, 0.65
    scenario = quiet(
        quarter_run(
            {
                "threats.drone.base_rate_per_day": 2.0,
                "threats.drone.inside_perimeter_prob": 1.0,
                "cram.drone_engage_prob": engage,
                "cram.drone_kill_prob": kill,
                "cram.magazine_rounds": 10**9,
                "cram.rounds_per_engagement": 1,
            }
        )
    )
    runs = run_replications(one_site(scenario, cram_fire_units=10_000), 30, SEED, workers=1)
    launched, downed = int(runs["drones_launched"].sum()), int(runs["drones_downed"].sum())
    assert launched > 3000
    assert_proportion_within_ci(downed, launched, engage * kill)


def test_mean_salvo_size_matches_the_configured_mixture():
    scenario = quiet(quarter_run({"threats.rocket.base_rate_per_day": 3.0, "threats.rocket.heavy_salvo_prob": 0.1}))
    sizes = np.array(
        [r.count for rep in range(25) for r in event_log(scenario, rep, SEED) if r.kind is Kind.ATTACK_ROCKET]
    )
    assert len(sizes) > 5000
    assert_mean_within_ci(sizes, scenario.threats.rocket.mean_salvo_size)
    threat = scenario.threats.rocket
    assert sizes.min() >= 1 and sizes.max() <= threat.heavy_salvo_max
    heavy = int((sizes >= threat.heavy_salvo_min).sum())
    assert_proportion_within_ci(heavy, len(sizes), threat.heavy_salvo_prob)


def test_convoy_hits_and_damaged_trucks_match_their_probabilities():
    p_hit, extra, trucks = 0.4, 0.2, 10
    scenario = quiet(
        quarter_run(
            {
                "threats.convoy_ied.base_rate_per_day": 3.0,
                "threats.convoy_ied.hit_prob_initial": p_hit,
                "threats.convoy_ied.hit_prob_growth_per_year": 0.0,
                "threats.convoy_ied.extra_truck_prob": extra,
                "convoys.trucks_per_convoy": trucks,
            }
        )
    )
    records = [r for rep in range(15) for r in event_log(scenario, rep, SEED)]
    attacks = sum(r.kind is Kind.ATTACK_CONVOY for r in records)
    damaged = np.array([r.count for r in records if r.kind is Kind.TRUCKS_DAMAGED])
    assert attacks > 3000
    assert_proportion_within_ci(len(damaged), attacks, p_hit)
    assert_mean_within_ci(damaged, 1 + (trucks - 1) * extra, sd=math.sqrt((trucks - 1) * extra * (1 - extra)))
