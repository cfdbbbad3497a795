"""Invariants that hold for any valid parameters (hypothesis)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from builders import Kind, quiet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.replication.simulate import simulate

probability = st.floats(0.0, 1.0)


@st.composite
def worlds(draw):
    """A 30-day world with many salvos and drones, and a battery that can run dry."""
    pmf = draw(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6))
    heavy_min = draw(st.integers(1, 20))
    magazine = draw(st.integers(1, 3000))
    overrides = {
        "scenario.end_date": date(2020, 1, 30),
        "threats.rocket.base_rate_per_day": draw(st.floats(0.5, 6.0)),
        "threats.rocket.harassment_size_pmf": [p / sum(pmf) for p in pmf],
        "threats.rocket.heavy_salvo_prob": draw(probability),
        "threats.rocket.heavy_salvo_min": heavy_min,
        "threats.rocket.heavy_salvo_max": heavy_min + draw(st.integers(0, 15)),
        "threats.rocket.launch_failure_prob": draw(probability),
        "threats.rocket.dud_prob": draw(probability),
        "threats.rocket.inside_perimeter_prob": draw(probability),
        "threats.rocket.launch_spacing_s": draw(st.floats(0.0, 30.0)),
        "threats.rocket.flight_time_s": draw(st.floats(1.0, 120.0)),
        "threats.drone.base_rate_per_day": draw(st.floats(0.0, 2.0)),
        "threats.drone.drones_per_attack": draw(st.integers(1, 4)),
        "campaign.branching_ratio": draw(st.floats(0.0, 0.8)),
        "cram.engage_prob": draw(probability),
        "cram.kill_prob": draw(probability),
        "cram.detection_delay_s": draw(st.floats(0.0, 60.0)),
        "cram.engagement_time_s": draw(st.floats(0.5, 60.0)),
        "cram.magazine_rounds": magazine,
        "cram.rounds_per_engagement": draw(st.integers(1, magazine)),
        "cram.reload_below_rounds": draw(st.integers(0, magazine)),
        "cram.reload_time_h": draw(st.floats(0.0, 12.0)),
        "sites.embassy.cram_fire_units": draw(st.integers(1, 3)),
        "sites.embassy.cram_from": date(2020, 1, 1),
        "damage.us_killed_per_impact": draw(st.floats(0.0, 3.0)),
    }
    return quiet(overrides), draw(st.integers(0, 2**31))


FATES = (Kind.ROCKET_DUD, Kind.ROCKET_INTERCEPTED, Kind.ROCKET_IMPACT_INSIDE, Kind.ROCKET_IMPACT_OUTSIDE)
DRONE_FATES = (Kind.DRONE_DOWNED, Kind.DRONE_IMPACT_INSIDE, Kind.DRONE_IMPACT_OUTSIDE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_every_launched_round_has_exactly_one_fate_and_time_never_runs_back(case):
    scenario, seed = case
    world = simulate(scenario, 0, seed)
    records = world.ledger.records
    per_attack: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r.attack is not None:
            per_attack[r.attack][r.kind] += r.count
    for attack, kinds in per_attack.items():
        assert kinds[Kind.ROCKET_LAUNCHED] == sum(kinds[k] for k in FATES), attack
        assert kinds[Kind.DRONE_LAUNCHED] == sum(kinds[k] for k in DRONE_FATES), attack
        attempted = kinds[Kind.ROCKET_LAUNCHED] + kinds[Kind.ROCKET_LAUNCH_FAILED]
        assert attempted == kinds[Kind.ATTACK_ROCKET], attack  # the salvo's n is its size
        assert kinds[Kind.ROCKET_INTERCEPTED] <= kinds[Kind.ROCKET_ENGAGED]
    times = [r.time_d for r in records]
    assert times == sorted(times)
    for site in world.sites.all:
        if site.battery is not None:
            assert 0 <= site.battery.lowest_level <= site.battery.magazine.level <= scenario.cram.magazine_rounds
            assert site.battery.units.count <= site.battery.units.capacity
