"""The dynamics the public record needs: truces and pauses, relapse, salvo classes and
casualties, escalation without a loop, revenge or deterrence after a strike, drones that grow,
and an embassy that closes only by a policy option's rule.

Each dynamic has a deterministic test (degenerate parameters, exact outcomes) and a
statistical one (a closed form, with a tolerance from a confidence interval at level
1 - ALPHA; with the seeds fixed the tests are deterministic, and were the seeds drawn at random
each statistical check would fail wrongly about once in a thousand runs).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pytest
from builders import (
    TEST,
    Kind,
    finish,
    one_site,
    quiet,
    run_replications,
    start,
    world_of,
)
from scipy import stats

from sim.config.calendar import DAYS_PER_YEAR, seconds
from sim.config.levers import HistoryEvent
from sim.config.schema import FrozenMap
from sim.model.campaign import launch_attack, pause_campaign, sojourn_days
from sim.model.draws import poisson_quantile
from sim.model.records import Record
from sim.model.threats import threat_named, threats
from sim.model.threats.rocket import rocket_salvo
from sim.replication.simulate import simulate

ALPHA = 0.001
Z = stats.norm.ppf(1 - ALPHA / 2)
AT_US = [t.name for t in threats() if t.targets_us_sites]  # the threats a truce pauses: rocket, drone, ...
SEED = 20201010


def with_history(scenario, **events):
    history = {
        name: HistoryEvent(date=e[0], event=e[1], value=e[2] if len(e) > 2 else None) for name, e in events.items()
    }
    return dataclasses.replace(scenario, history=FrozenMap(history))


def of_kind(records, *kinds):
    return [r for r in records if r.kind in kinds]


def regime_spans(records, threat: str):
    """(regime, start, end) of a threat's campaign from its REGIME records (the first starts at 0)."""
    marks = [
        (r.time_d, r.detail.split(": ", 1)[1].split(" (")[0])
        for r in of_kind(records, Kind.REGIME)
        if r.detail.startswith(f"{threat}: ")
    ]
    return [(name, t, marks[i + 1][0] if i + 1 < len(marks) else math.inf) for i, (t, name) in enumerate(marks)]


# --- truces: every campaign pauses until the truce ends, nothing gets through, then a relapse ---

TRUCE_WORLD = {
    "threats.rocket.base_rate_per_day": 4.0,
    "threats.convoy_ied.base_rate_per_day": 4.0,
    "campaign.regimes.pause.multiplier": 0.0,
    "campaign.relapse_fraction": 0.5,
    "campaign.relapse_recovery_days": 10.0,
    "campaign.branching_ratio": 0.5,
    "militia.decision.review_mean_days": 30.0,
    "militia.decision.review_log_sd": 0.5,
    "scenario.end_date": date(2020, 6, 30),
}


def test_a_truce_stops_every_attack_on_us_sites_until_its_term_ends_unrenewed_then_attacks_relapse():
    """A dated truce in a quiet world: the campaigns of attacks on U.S. sites (rockets, drones)
    pause on day 31, the roadside bombs on convoys go on; the militias' resolve is 0 (no
    weights, no noise), below the keep level, so the first term is not renewed."""
    scenario = with_history(quiet(TRUCE_WORLD), truce=(date(2020, 2, 1), "truce"))  # day 31
    world = world_of(scenario, SEED)
    start(world)
    finish(world)
    records = world.ledger.records
    assert [t.time_d for t in of_kind(records, Kind.TRUCE_START)] == [31.0]
    (end,) = of_kind(records, Kind.TRUCE_END)
    assert end.detail == "dropped after a review" and end.time_d > 31.0
    for threat in AT_US:
        pause = [s for s in regime_spans(records, threat) if s[0] == "pause"]
        assert [(p[1], p[2]) for p in pause] == [(31.0, end.time_d)], (threat, pause)  # both, the same span
    rockets = [r.time_d for r in of_kind(records, Kind.ATTACK_ROCKET)]
    assert not [t for t in rockets if 31.0 <= t < end.time_d], "rocket attacks during the truce"
    assert any(t < 31.0 for t in rockets) and any(t > end.time_d for t in rockets)
    for threat in (t.name for t in threats() if not t.targets_us_sites):
        assert not [s for s in regime_spans(records, threat) if s[0] == "pause"], threat
    assert [r for r in of_kind(records, Kind.ATTACK_CONVOY) if 31.0 <= r.time_d < end.time_d]  # the convoy bombs go on


def test_a_relapse_starts_at_its_fraction_and_recovers_linearly_in_daily_steps():
    world = world_of(quiet(TRUCE_WORLD), SEED)
    start(world)
    world.env.run(until=5.0)
    pause_campaign(world, "rocket", 20.0, "test")
    rocket = world.intensity["rocket"]
    observed = {}
    for t in (10.0, 25.5, 30.5, 34.5, 36.0):
        world.env.run(until=t)
        observed[t] = (rocket.paused, rocket.relapse, rocket.restraint)
    assert observed[10.0] == (True, 1.0, 0.0)  # paused: the pause multiplier (0) holds everything back
    assert observed[25.5] == (False, 0.5, 0.5)  # day 0 of the relapse
    assert observed[30.5][1] == pytest.approx(0.5 + 0.5 * 5 / 10) and observed[34.5][1] == pytest.approx(
        0.5 + 0.5 * 9 / 10
    )
    assert observed[36.0][1] == 1.0


def test_revenge_vowed_just_before_a_truce_is_held_back_by_it():
    scenario = quiet(
        {
            **TRUCE_WORLD,
            "threats.rocket.base_rate_per_day": 0.0,
            "threats.convoy_ied.base_rate_per_day": 0.0,
            "policy.us.strikes.revenge_prob": 1.0,
            "policy.us.strikes.revenge_attacks_mean": 30.0,
            "policy.us.strikes.revenge_decay_days": 5.0,
            "militia.decision.review_mean_days": 400.0,
            "militia.decision.review_log_sd": 0.3,
        }
    )
    with_truce = with_history(scenario, strike=(date(2020, 2, 1), "us_strike"), truce=(date(2020, 2, 2), "truce"))
    without = with_history(scenario, strike=(date(2020, 2, 1), "us_strike"))
    revenge = lambda records: [r for r in records if r.origin is not None and r.origin.value == "revenge"]  # noqa: E731
    held, free = (
        revenge(simulate(with_truce, 0, SEED).ledger.records),
        revenge(simulate(without, 0, SEED).ledger.records),
    )
    assert len(free) > 10 and all(r.time_d < 32.0 for r in held) and len(held) < len(free)


@pytest.mark.slow
def test_truce_lengths_follow_the_lognormal_and_have_little_mass_at_short_times():
    mean, sigma, n = 60.0, 0.6, 20_000
    rng = np.random.default_rng(SEED)
    days = np.array([sojourn_days(mean, sigma, rng) for _ in range(n)])
    sd = mean * math.sqrt(math.exp(sigma**2) - 1)  # of a lognormal with this mean
    assert abs(days.mean() - mean) <= Z * sd / math.sqrt(n)
    p14 = stats.lognorm.cdf(14.0, sigma, scale=mean * math.exp(-(sigma**2) / 2))
    short = int((days < 14.0).sum())
    assert abs(short / n - p14) <= Z * math.sqrt(p14 * (1 - p14) / n) and p14 < 0.02


# --- the pause regime entered by chance: its share of time --------------------------------------


@pytest.mark.slow
def test_the_share_of_time_in_each_regime_is_the_semi_markov_stationary_share():
    """Regimes chosen in proportion to weight among the others, with mean sojourn m: the embedded
    chain's stationary vector pi gives time shares pi_i m_i / sum_j pi_j m_j."""
    scenario = quiet({"scenario.end_date": date(2029, 12, 31), "threats.rocket.base_rate_per_day": 0.0})
    regimes = {"calm": (0.3, 40.0, 0.0, 1.0), "surge": (2.0, 20.0, 0.0, 0.6), "pause": (0.0, 50.0, 0.7, 0.5)}
    table = FrozenMap(
        {
            n: dataclasses.replace(
                scenario.campaign.regimes["pause"],
                multiplier=m,
                mean_duration_days=d,
                duration_log_sd=s,
                entry_weight=w,
            )
            for n, (m, d, s, w) in regimes.items()
        }
    )
    scenario = dataclasses.replace(scenario, campaign=dataclasses.replace(scenario.campaign, regimes=table))
    names = list(regimes)
    weights = np.array([regimes[n][3] for n in names])
    jump = np.array([[0 if i == j else weights[j] / (weights.sum() - weights[i]) for j in range(3)] for i in range(3)])
    values, vectors = np.linalg.eig(jump.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    pi /= pi.sum()
    expected = pi * np.array([regimes[n][1] for n in names])
    expected /= expected.sum()
    shares = []
    for rep in range(60):
        records = simulate(scenario, rep, SEED).ledger.records
        horizon = scenario.scenario.horizon_days
        time = {n: 0.0 for n in names}
        for name, begin, end in regime_spans(records, "convoy"):
            time[name] += min(end, horizon) - begin
        first = min((r.time_d for r in records if r.detail.startswith("convoy: ")), default=horizon)
        shares.append([time[n] / (horizon - first) for n in names])
    shares = np.array(shares)
    for i, name in enumerate(names):
        half = Z * shares[:, i].std(ddof=1) / math.sqrt(len(shares))
        assert abs(shares[:, i].mean() - expected[i]) <= half + 0.01, (name, shares[:, i].mean(), expected[i])


# --- after a strike: revenge, and the militias' decision ---------------------------------------


def test_a_strike_that_weighs_enough_decides_a_truce_and_one_that_weighs_against_ends_it():
    decided = {
        "threats.rocket.base_rate_per_day": 2.0,
        "policy.us.strikes.revenge_prob": 0.0,
        "militia.decision.strike_weight": 1.5,
        "militia.decision.deliberation_days": 0.0,
        "scenario.end_date": date(2020, 4, 30),
    }
    records = simulate(with_history(quiet(decided), strike=(date(2020, 2, 1), "us_strike")), 0, SEED).ledger.records
    paused = [r for r in of_kind(records, Kind.REGIME) if "(truce, until resumed)" in r.detail]
    assert sorted(r.detail.split(":")[0] for r in paused) == sorted(AT_US)
    assert all(r.time_d == 31.0 for r in paused) and [r.time_d for r in of_kind(records, Kind.TRUCE_START)] == [31.0]
    grievance = {
        **decided,
        "militia.decision.strike_weight": -1.0,
        "militia.decision.review_mean_days": 1e6,
        "militia.decision.review_log_sd": 0.0,
    }
    scenario = with_history(
        quiet(grievance), truce=(date(2020, 1, 11), "truce"), strike=(date(2020, 2, 1), "us_strike")
    )
    records = simulate(scenario, 0, SEED).ledger.records
    assert [(r.time_d, r.detail) for r in of_kind(records, Kind.TRUCE_END)] == [
        (31.0, "dropped after us_strike_retaliatory")
    ]
    assert any(r.time_d > 31.0 for r in of_kind(records, Kind.ATTACK_ROCKET))


@pytest.mark.slow
def test_revenge_and_truces_after_a_strike_follow_their_probabilities():
    """Revenge with probability revenge_prob (the strike's stream); a truce decided with the
    random-utility probability 1 / (1 + exp(-(w - 1) / s)) (the decision stream): independent."""
    revenge, weight, scale, n = 0.4, 0.8, 0.3, 400
    scenario = quiet(
        {
            "policy.us.strikes.revenge_prob": revenge,
            "militia.decision.strike_weight": weight,
            "militia.decision.noise_scale": scale,
            "scenario.end_date": date(2020, 2, 1),
        }
    )
    scenario = with_history(scenario, strike=(date(2020, 1, 11), "us_strike"))
    vowed = decided = both = 0
    for rep in range(n):
        records = simulate(scenario, rep, SEED).ledger.records
        v, d = bool(of_kind(records, Kind.REVENGE)), bool(of_kind(records, Kind.TRUCE_DECIDED))
        vowed, decided, both = vowed + v, decided + d, both + (v and d)
    truce = 1 / (1 + math.exp(-(weight - 1) / scale))
    for count, p in ((vowed, revenge), (decided, truce), (both, revenge * truce)):
        assert abs(count / n - p) <= Z * math.sqrt(p * (1 - p) / n), (count, p)


# --- salvo classes and casualties ---------------------------------------------------------------

ONE_ROCKET_INSIDE = {
    "threats.rocket.launch_failure_prob": 0.0,
    "threats.rocket.dud_prob": 0.0,
    "threats.rocket.inside_perimeter_prob": 1.0,
    "threats.rocket.heavy_salvo_min": 1,
    "threats.rocket.heavy_salvo_max": 1,
    "damage.us_killed_per_impact": 40.0,
    "damage.harassment_casualty_factor": 0.2,
    "damage.alert_exposure": 1.0,
}


def killed_by_one_rocket(heavy: bool) -> int:
    world = world_of(
        one_site(
            quiet(
                {
                    **ONE_ROCKET_INSIDE,
                    "threats.rocket.heavy_salvo_prob": 1.0 if heavy else 0.0,
                    "threats.rocket.harassment_mean_rockets": 1.0,
                }
            ),
            cram_fire_units=0,
        )
    )
    rocket_salvo(world, "rocket-0", np.random.default_rng(5), TEST)
    world.env.run(until=seconds(120))
    return sum(r.count for r in of_kind(world.ledger.records, Kind.US_KILLED))


def test_a_harassment_impact_harms_its_factor_of_what_a_heavy_salvo_impact_harms():
    exposure = 1 - quiet().sites["embassy"].hardening

    def u_killed(heavy: bool) -> float:  # the salvo's draws in order: target, class, size, then the rocket's
        rng = np.random.default_rng(5)
        rng.random(3)
        return rng.random((1, 11))[0][7]

    assert killed_by_one_rocket(True) == poisson_quantile(40.0 * exposure, u_killed(True))
    assert killed_by_one_rocket(False) == poisson_quantile(40.0 * exposure * 0.2, u_killed(False))


@pytest.mark.slow
def test_mean_killed_per_inside_impact_by_salvo_class_matches_the_rates():
    factor, rate = 0.2, 0.5
    base = {
        **ONE_ROCKET_INSIDE,
        "damage.us_killed_per_impact": rate,
        "damage.harassment_casualty_factor": factor,
        "threats.rocket.base_rate_per_day": 3.0,
        "scenario.end_date": date(2020, 3, 31),
    }
    site_exposure = 1 - quiet().sites["embassy"].hardening
    for heavy, scale in ((True, 1.0), (False, factor)):
        scenario = one_site(
            quiet(
                {
                    **base,
                    "threats.rocket.heavy_salvo_prob": 1.0 if heavy else 0.0,
                    "threats.rocket.harassment_mean_rockets": 1.0,
                }
            ),
            cram_fire_units=0,
        )
        runs = run_replications(scenario, 20, SEED)
        impacts, killed = int(runs["rockets_impact_inside"].sum()), int(runs["us_killed"].sum())
        mean = rate * scale * site_exposure
        assert impacts > 3000 and abs(killed / impacts - mean) <= Z * math.sqrt(mean / impacts), (
            heavy,
            killed,
            impacts,
        )


# --- escalation of severity without a loop ------------------------------------------------------


def test_casualties_during_an_escalation_window_neither_extend_nor_restart_it():
    world = world_of(quiet({"militia.escalation_heavy_boost": 2.0, "militia.escalation_days": 30.0}), SEED)
    actors = start(world)
    wounded = lambda t: Record(t, Kind.US_WOUNDED, "embassy", None, 1)  # noqa: E731
    actors.militia.observe(wounded(1.0))
    assert world.severity.heavy_salvo_factor(20.0) == 2.0 and world.severity.until_d == 31.0
    actors.militia.observe(wounded(10.0))  # inside the window: no extension
    assert world.severity.until_d == 31.0 and world.severity.heavy_salvo_factor(35.0) == 1.0
    actors.militia.observe(wounded(40.0))  # after it: a new window
    assert world.severity.until_d == 70.0


# --- the embassy closes only by an option's rule -----------------------------------------------


def test_a_dated_ultimatum_never_closes_the_embassy_but_the_options_rule_does():
    attacks = {
        "threats.rocket.base_rate_per_day": 3.0,
        "threats.rocket.inside_perimeter_prob": 0.0,
        "policy.us.ultimatum.closure_attacks": 1,
        "policy.us.ultimatum.deadline_days": 10.0,
        "policy.start_date": date(2020, 1, 1),
        "scenario.end_date": date(2020, 3, 31),
        "policy.us.closure.evacuation_days": 1.0,
    }
    dated = with_history(quiet(attacks), threat=(date(2020, 1, 10), "ultimatum"))
    records = simulate(dated, 0, SEED).ledger.records
    assert of_kind(records, Kind.ULTIMATUM) and not of_kind(records, Kind.EMBASSY_CLOSED)
    rule = quiet({**attacks, "policy.us.ultimatum.enabled": True, "policy.us.ultimatum.trigger_attacks": 3})
    assert of_kind(simulate(rule, 0, SEED).ledger.records, Kind.EMBASSY_CLOSED)


@pytest.mark.slow
def test_no_run_of_the_replay_or_the_2020_world_closes_the_embassy():
    from builders import ROOT

    from sim.config.loader import load_scenario

    for path in ("configs/calibrated.toml", "configs/scenarios/history_2020_2021.toml"):
        runs = run_replications(load_scenario(ROOT / path), 200, SEED, workers=2)
        assert not runs["embassy_closed"].any(), path


# --- drones grow ---------------------------------------------------------------------------------


def test_drone_intensity_grows_linearly_in_weekly_steps():
    world = world_of(quiet({"threats.drone.base_rate_per_day": 0.01, "militia.drone_growth_per_year": 4.0}), SEED)
    start(world)
    drone = world.intensity["drone"]
    for week in (0, 10, 40):
        world.env.run(until=7.0 * week + 1.0)
        assert drone.rate_per_day == pytest.approx(0.01 * (1 + 4.0 * 7.0 * week / DAYS_PER_YEAR))


@pytest.mark.slow
def test_drone_attacks_in_a_year_match_the_growing_intensity():
    base, growth, reps = 0.05, 3.0, 200
    scenario = quiet(
        {
            "threats.drone.base_rate_per_day": base,
            "militia.drone_growth_per_year": growth,
            "threats.drone.inside_perimeter_prob": 0.0,
        }
    )
    horizon = scenario.scenario.horizon_days
    weeks = np.arange(0.0, horizon, 7.0)
    expected = sum(base * (1 + growth * t / DAYS_PER_YEAR) * (min(t + 7.0, horizon) - t) for t in weeks)
    counts = run_replications(scenario, reps, SEED, workers=2)["attacks_drone"].to_numpy()
    assert abs(counts.mean() - expected) <= Z * math.sqrt(expected / reps), (counts.mean(), expected)


# --- attacks launched by hand keep going through the pause machinery -----------------------------


def test_a_follow_up_is_held_back_in_a_pause_by_the_restraint():
    world = world_of(
        quiet(
            {
                "campaign.branching_ratio": 0.9,
                "campaign.excitation_decay_days": 1.0,
                "campaign.regimes.pause.multiplier": 0.0,
            }
        ),
        SEED,
    )
    start(world)
    world.env.run(until=1.0)
    launch_attack(world, threat_named("rocket"), TEST)
    pause_campaign(world, "rocket", 200.0, "test")
    world.env.run(until=100.0)
    assert len(of_kind(world.ledger.records, Kind.ATTACK_ROCKET)) == 1  # its follow-ups never came


# --- salvo sizes ---------------------------------------------------------------------------------


def test_harassment_and_heavy_salvo_sizes_by_inverse_cdf():
    from sim.model.threats.rocket import salvo_size

    # mean 2, shape 1: one plus a geometric count with p = 1/2, so sizes 1, 2, 3, 4 have chances
    # 1/2, 1/4, 1/8, 1/16 (renormalised after the cut at 13 rockets: a factor 1 / (1 - 2^-13))
    threat = quiet(
        {"threats.rocket.harassment_mean_rockets": 2.0, "threats.rocket.harassment_size_shape": 1.0}
    ).threats.rocket
    cumulative = np.cumsum(threat.harassment_size_pmf)
    for u, size in ((0.0, 1), (0.49, 1), (0.51, 2), (0.74, 2), (0.76, 3), (0.87, 3), (0.88, 4), (0.9999, 13)):
        assert salvo_size(threat, 1.0, 0.5, u) == (size, False), (u, cumulative)
    assert salvo_size(threat, 1.0, 0.01, 0.0) == (14, True)
    assert salvo_size(threat, 1.0, 0.039, 0.999) == (33, True)
    assert salvo_size(threat, 2.5, 0.09, 0.5)[1]  # escalation: below 0.04 x 2.5


def test_harassment_salvo_size_is_one_plus_a_negative_binomial():
    from scipy import stats

    from sim.config.scenario import salvo_size_pmf

    # far from the cut, the table is 1 + NB(mean - 1, shape): its mean and variance are analytic
    for mean, shape in ((1.45, 1.0), (3.0, 0.3), (2.2, 8.0)):
        pmf = np.array(salvo_size_pmf(mean, shape, 2000))
        sizes = np.arange(1, 2001)
        extra = mean - 1
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert (pmf * sizes).sum() == pytest.approx(mean, rel=1e-9)
        assert (pmf * (sizes - mean) ** 2).sum() == pytest.approx(extra + extra**2 / shape, rel=1e-6)
        nb = stats.nbinom(shape, shape / (shape + extra))
        assert pmf[:20] == pytest.approx(nb.pmf(np.arange(20)), rel=1e-9)
    # the cut renormalises: nothing above the largest harassment salvo, mass kept in proportion
    cut = np.array(salvo_size_pmf(3.0, 0.3, 13))
    assert len(cut) == 13 and cut.sum() == pytest.approx(1.0)
    assert cut / cut[0] == pytest.approx(
        np.array(salvo_size_pmf(3.0, 0.3, 2000))[:13] / salvo_size_pmf(3.0, 0.3, 2000)[0]
    )
    # a small shape puts real weight on salvos of 6-13 rockets, as the record has them
    assert cut[5:].sum() > 0.1
    assert salvo_size_pmf(1.0, 0.5, 5) == (1.0, 0.0, 0.0, 0.0, 0.0)
