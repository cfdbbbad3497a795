"""Deterministic process tests: degenerate parameters (probabilities 0 or 1, fixed times)
make every event certain, so the exact sequence of (event, time) can be asserted."""

from __future__ import annotations

import numpy as np
import pytest
from builders import TEST, Kind, finish, one_site, quiet, start, timeline, world_of
from scipy import stats

from sim.config.calendar import SECONDS_PER_DAY, seconds
from sim.model.campaign import launch_attack
from sim.model.draws import binomial_quantile, poisson_quantile
from sim.model.threats import threat_named
from sim.model.threats.convoy import Roads, convoy_attack
from sim.model.threats.rocket import rocket_salvo
from sim.model.world import Phase

CERTAIN_SALVO = {
    "threats.rocket.heavy_salvo_prob": 1.0,
    "threats.rocket.launch_failure_prob": 0.0,
    "threats.rocket.dud_prob": 0.0,
    "threats.rocket.inside_perimeter_prob": 1.0,
    "threats.rocket.launch_spacing_s": 4.0,
    "threats.rocket.flight_time_s": 40.0,
    "cram.detection_delay_s": 3.0,
    "cram.engage_prob": 1.0,
    "cram.stray_round_prob": 0.0,
}


def salvo_world(n_rockets: int, fire_units: int, overrides: dict):
    overrides = {
        **CERTAIN_SALVO,
        "threats.rocket.heavy_salvo_min": n_rockets,
        "threats.rocket.heavy_salvo_max": n_rockets,
        **overrides,
    }
    world = world_of(one_site(quiet(overrides), cram_fire_units=fire_units))
    rocket_salvo(world, "rocket-0", np.random.default_rng(0), TEST)
    world.env.run(until=seconds(3600 * 3))
    return world


def test_one_fire_unit_busy_longer_than_the_flight_engages_exactly_one_rocket():
    world = salvo_world(5, 1, {"cram.engagement_time_s": 100.0, "cram.kill_prob": 0.0})
    assert timeline(world.ledger.records) == [
        ("attack_rocket", 0.0),
        ("rocket_launched", 0.0),
        ("rocket_engaged", 3.0),
        ("rocket_launched", 4.0),
        ("rocket_launched", 8.0),
        ("rocket_launched", 12.0),
        ("rocket_launched", 16.0),
        ("rocket_impact_inside", 40.0),
        ("saturated", 44.0),
        ("rocket_impact_inside", 44.0),
        ("saturated", 48.0),
        ("rocket_impact_inside", 48.0),
        ("saturated", 52.0),
        ("rocket_impact_inside", 52.0),
        ("saturated", 56.0),
        ("rocket_impact_inside", 56.0),
    ]


def test_a_fire_unit_freed_before_impact_engages_the_waiting_rocket():
    # engagement 6 s: rocket 2 asks at 7 s, the unit frees at 9 s (< its impact at 44 s)
    world = salvo_world(2, 1, {"cram.engagement_time_s": 6.0, "cram.kill_prob": 1.0})
    assert timeline(world.ledger.records) == [
        ("attack_rocket", 0.0),
        ("rocket_launched", 0.0),
        ("rocket_engaged", 3.0),
        ("rocket_intercepted", 3.0),
        ("rocket_launched", 4.0),
        ("rocket_engaged", 9.0),
        ("rocket_intercepted", 9.0),
    ]


def test_empty_magazine_lets_the_third_rocket_through_until_reload():
    world = salvo_world(
        3,
        3,
        {
            "cram.kill_prob": 1.0,
            "cram.magazine_rounds": 400,
            "cram.rounds_per_engagement": 200,
            "cram.reload_below_rounds": 200,
            "cram.reload_time_h": 1.0,
        },
    )
    assert timeline(world.ledger.records) == [
        ("attack_rocket", 0.0),
        ("rocket_launched", 0.0),
        ("rocket_engaged", 3.0),
        ("rocket_intercepted", 3.0),
        ("rocket_launched", 4.0),
        ("rocket_engaged", 7.0),
        ("rocket_intercepted", 7.0),
        ("rocket_launched", 8.0),
        ("magazine_empty", 11.0),
        ("rocket_impact_inside", 48.0),
        ("magazine_reloaded", 3607.0),
    ]
    reload = [r for r in world.ledger.records if r.kind is Kind.MAGAZINE_RELOADED][0]
    assert reload.count == 400
    battery = world.sites["embassy"].battery
    assert battery.magazine.level == 400 and battery.lowest_level == 0


def test_rounds_predicted_outside_the_perimeter_are_not_engaged():
    world = salvo_world(3, 2, {"threats.rocket.inside_perimeter_prob": 0.0, "cram.kill_prob": 1.0})
    kinds = [k for k, _ in timeline(world.ledger.records)]
    assert kinds.count("rocket_impact_outside") == 3
    assert "rocket_engaged" not in kinds


def test_launch_failures_never_fly_and_duds_do_not_explode():
    world = salvo_world(4, 0, {"threats.rocket.launch_failure_prob": 1.0})
    assert [k for k, _ in timeline(world.ledger.records)] == ["attack_rocket"] + ["rocket_launch_failed"] * 4
    world = salvo_world(2, 0, {"threats.rocket.dud_prob": 1.0})
    assert timeline(world.ledger.records) == [
        ("attack_rocket", 0.0),
        ("rocket_launched", 0.0),
        ("rocket_launched", 4.0),
        ("rocket_dud", 40.0),
        ("rocket_dud", 44.0),
    ]


def test_undefended_site_takes_every_inside_impact_and_casualties_scale_with_exposure():
    overrides = {"damage.us_killed_per_impact": 50.0, "damage.us_wounded_per_impact": 0.0}
    world = salvo_world(1, 0, {**overrides})
    killed = [r for r in world.ledger.records if r.kind is Kind.US_KILLED]
    site = world.sites["embassy"]
    mean = 50.0 * (1 - site.spec.hardening)  # no C-RAM warning, no alert, full staffing
    assert len(killed) == 1 and killed[0].time_d == pytest.approx(seconds(40.0))
    assert stats.poisson.ppf(0.001, mean) <= killed[0].count <= stats.poisson.ppf(0.999, mean)


def test_exposure_combines_hardening_warning_alert_and_staffing():
    world = world_of(one_site(quiet(), cram_fire_units=1, hardening=0.6))
    site, damage = world.sites["embassy"], world.scenario.damage
    assert site.exposure(False) == pytest.approx(0.4 * damage.warned_exposure)
    assert site.exposure(True) == pytest.approx(0.4 * damage.warned_exposure * damage.alert_exposure)
    site.staffing = 0.5
    assert site.exposure(False) == pytest.approx(0.2 * damage.warned_exposure)
    assert not site.on_alert(0.0)
    site.attacked(1.0)
    assert site.on_alert(1.0 + damage.alert_duration_days) and not site.on_alert(1.01 + damage.alert_duration_days)


@pytest.mark.parametrize("mean", [0.0, 0.05, 0.7, 3.0, 25.0])
def test_poisson_quantile_matches_scipy(mean):
    for u in np.linspace(0.0005, 0.9995, 41):
        assert poisson_quantile(mean, u) == int(stats.poisson.ppf(u, mean))


@pytest.mark.parametrize("n, p", [(0, 0.3), (11, 0.0), (11, 0.15), (12, 0.3), (5, 0.9), (4, 1.0)])
def test_binomial_quantile_matches_scipy(n, p):
    for u in np.linspace(0.0005, 0.9995, 41):
        assert binomial_quantile(n, p, u) == int(stats.binom.ppf(u, n, p)), u


def test_convoy_attack_waits_for_a_convoy_on_the_road():
    scenario = quiet(
        {
            "convoys.departures_per_day": 1.0,
            "convoys.trip_duration_h": 10.0,
            "convoys.trucks_per_convoy": 5,
            "threats.convoy_ied.hit_prob_initial": 1.0,
            "threats.convoy_ied.hit_prob_max": 1.0,
            "threats.convoy_ied.extra_truck_prob": 1.0,
            "threats.convoy_ied.driver_casualty_prob": 1.0,
        }
    )
    world = world_of(scenario)
    start(world)  # the convoy timetable is part of the started world
    convoy_attack(world, "convoy-0", np.random.default_rng(0), TEST)
    world.env.run(until=2.0)
    assert [(r.kind.name, r.time_d, r.count) for r in world.ledger.records] == [
        ("attack_convoy", 0.5, 1),
        ("trucks_damaged", 0.5, 5),
        ("driver_casualties", 0.5, 5),
    ]


def test_convoy_attack_misses_when_hit_probability_is_zero():
    scenario = quiet({"threats.convoy_ied.hit_prob_initial": 0.0, "threats.convoy_ied.hit_prob_growth_per_year": 0.0})
    world = world_of(scenario)
    start(world)  # the convoy timetable is part of the started world
    convoy_attack(world, "convoy-0", np.random.default_rng(0), TEST)
    world.env.run(until=2.0)
    assert [r.kind for r in world.ledger.records] == [Kind.ATTACK_CONVOY]


def test_sites_close_on_their_dates_and_are_no_longer_targeted():
    world = world_of(quiet())
    start(world)
    last = max(s.close_on for s in world.scenario.sites.values() if s.close_on is not None)
    world.env.run(until=world.calendar.day_of(last) + 0.5)
    closed = {r.site: r.time_d for r in world.ledger.records if r.kind is Kind.SITE_CLOSED}
    for name, site in world.scenario.sites.items():
        if site.close_on is not None:
            assert closed[name] == world.calendar.day_of(site.close_on)
    assert not world.sites["taji"].is_open
    picks = {world.sites.choose_target("rocket_weight", u).name for u in np.linspace(0, 0.999, 500)}
    assert picks and picks.isdisjoint(closed)


def test_target_choice_follows_weights_by_inverse_cdf():
    world = world_of(quiet())
    sites = world.sites.all
    weights = np.array([s.spec.rocket_weight for s in sites])
    edges = np.cumsum(weights) / weights.sum()
    for i, site in enumerate(sites):
        u = (edges[i] + (edges[i - 1] if i else 0.0)) / 2
        assert world.sites.choose_target("rocket_weight", u) is site


def test_policy_factor_zero_stops_attacks_and_resuming_restarts_them():
    world = world_of(quiet({"threats.rocket.base_rate_per_day": 50.0, "threats.rocket.heavy_salvo_prob": 0.0}))
    start(world)
    world.env.run(until=2.0)
    world.intensity["rocket"].set_factor("test_pause", 0.0)
    world.env.run(until=5.0)
    world.intensity["rocket"].set_factor("test_pause", 1.0)
    world.env.run(until=6.0)
    times = [r.time_d for r in world.ledger.records if r.kind is Kind.ATTACK_ROCKET]
    assert any(t < 2.0 for t in times) and any(t > 5.0 for t in times)
    assert not any(2.0 <= t <= 5.0 for t in times)


def test_no_attack_starts_after_the_horizon_but_rounds_in_flight_land():
    world = world_of(one_site(quiet({**CERTAIN_SALVO, "cram.kill_prob": 0.0}), cram_fire_units=0))
    start(world)
    horizon = world.calendar.horizon_days
    world.env.run(until=horizon - seconds(10))
    launch_attack(world, threat_named("rocket"), TEST)  # launched 10 s before the end, lands 30 s after
    finish(world)
    kinds = [r.kind for r in world.ledger.records]
    assert kinds.count(Kind.ROCKET_LAUNCHED) == kinds.count(Kind.ROCKET_IMPACT_INSIDE) > 0
    world.phase = Phase.SETTLING
    launch_attack(world, threat_named("rocket"), TEST)
    assert [r.kind for r in world.ledger.records].count(Kind.ATTACK_ROCKET) == 1
    assert max(r.time_d for r in world.ledger.records) * SECONDS_PER_DAY > horizon * SECONDS_PER_DAY


def test_a_magazine_too_low_for_a_burst_is_reloaded_even_below_the_threshold():
    world = salvo_world(
        3,
        3,
        {
            "cram.kill_prob": 1.0,
            "cram.magazine_rounds": 500,
            "cram.rounds_per_engagement": 200,
            "cram.reload_below_rounds": 50,
            "cram.reload_time_h": 0.5,
        },
    )
    reloads = [(r.time_d * SECONDS_PER_DAY, r.count) for r in world.ledger.records if r.kind is Kind.MAGAZINE_RELOADED]
    assert reloads == [pytest.approx((7.0 + 1800.0, 400))]  # 100 rounds left after the 2nd burst


def test_a_site_armed_on_its_opening_day_is_defended():
    from datetime import date

    scenario = one_site(quiet(), cram_fire_units=1)
    scenario = one_site(scenario, open_from=date(2020, 2, 1), cram_from=date(2020, 2, 1))
    world = world_of(scenario)
    start(world)
    site = world.sites["embassy"]
    assert not site.is_open and not site.defended
    world.env.run(until=world.calendar.day_of(date(2020, 2, 1)) + 0.1)
    assert site.is_open and site.defended


@pytest.mark.parametrize("per_day, trip_h", [(4.0, 10.0), (1.0, 10.0), (0.3, 2.0), (7.0, 30.0)])
def test_convoy_timetable_agrees_with_a_direct_count(per_day, trip_h):
    roads = Roads(quiet({"convoys.departures_per_day": per_day, "convoys.trip_duration_h": trip_h}).convoys)
    departures = [roads.departure(k) for k in range(200)]
    assert departures[0] == pytest.approx(0.5 / per_day) and np.allclose(np.diff(departures), 1 / per_day)
    for now in np.linspace(0.0, 20.0, 997):
        expected = [k for k, t in enumerate(departures) if t <= now < t + trip_h / 24]
        assert roads.on_road(now) == expected
        nxt = roads.next_convoy(now)
        assert departures[nxt] >= now and (nxt == 0 or departures[nxt - 1] < now)
