"""Invariants that hold for any valid parameters (hypothesis).

Part of the quick loop: the number of examples comes from the hypothesis profile
(tests/conftest.py), a few under ``-m "not slow"``, many in the full suite."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from builders import Kind, quiet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.replication.outcomes import tabulate
from sim.replication.simulate import simulate

probability = st.floats(0.0, 1.0)


@st.composite
def worlds(draw):
    """A 30-day world with many salvos and drones, and a battery that can run dry."""
    harassment_max = draw(st.integers(1, 13))
    heavy_min = harassment_max + draw(st.integers(1, 7))
    magazine = draw(st.integers(1, 3000))
    overrides = {
        "scenario.end_date": date(2020, 1, 30),
        "threats.rocket.base_rate_per_day": draw(st.floats(0.5, 6.0)),
        "threats.rocket.harassment_mean_rockets": draw(st.floats(1.0, 6.0)),
        "threats.rocket.harassment_size_shape": draw(st.floats(0.05, 20.0)),
        "threats.rocket.harassment_max_rockets": harassment_max,
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


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: tests/conftest.py
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
    # rounds are conserved at every battery: full magazine - bursts fired + rounds reloaded = what is left
    for site in world.sites.all:
        if site.battery is not None:
            bursts = sum(
                1 for r in records if r.site == site.name and r.kind in (Kind.ROCKET_ENGAGED, Kind.DRONE_ENGAGED)
            )
            reloaded = sum(r.count for r in records if r.site == site.name and r.kind is Kind.MAGAZINE_RELOADED)
            fired = bursts * scenario.cram.rounds_per_engagement
            assert site.battery.magazine.level == scenario.cram.magazine_rounds - fired + reloaded, site.name
            assert site.battery.lowest_level <= site.battery.magazine.level


# --- the policy layer ----------------------------------------------------------------------


@st.composite
def policy_worlds(draw):
    """A 120-day world with the doctrine active from the first day, frequent attacks and
    every policy lever drawn: triggers, delays, cooldowns, ultimatums, truces, closure."""
    doctrine = draw(st.sampled_from(["continuity", "tougher_love", "separation"]))
    lever = f"policy.us.doctrines.{doctrine}"
    overrides = {
        "scenario.end_date": date(2020, 4, 30),
        "policy.start_date": date(2020, 1, 1),
        "policy.us.doctrine": doctrine,
        "threats.rocket.base_rate_per_day": draw(st.floats(0.2, 3.0)),
        "threats.drone.base_rate_per_day": draw(st.floats(0.0, 0.5)),
        "threats.rocket.heavy_salvo_prob": draw(probability),
        "threats.rocket.inside_perimeter_prob": draw(probability),
        "damage.us_killed_per_impact": draw(st.floats(0.0, 2.0)),
        "campaign.branching_ratio": draw(st.floats(0.0, 0.6)),
        "policy.us.preemption.warning_prob": draw(probability),
        f"{lever}.retaliate_on_attack_count": draw(st.integers(0, 6)),
        f"{lever}.decision_delay_days": draw(st.floats(0.0, 5.0)),
        # at least half a day: with no cooldown, revenge for every strike can outrun it and the
        # world feeds on itself until its record budget stops it (tests/test_batch.py)
        f"{lever}.strike_cooldown_days": draw(st.floats(0.5, 20.0)),
        f"{lever}.close_embassy_on_attacks": draw(st.integers(0, 3)),
        "policy.us.strikes.revenge_prob": draw(probability),
        "policy.us.strikes.revenge_attacks_mean": draw(st.floats(0.0, 4.0)),
        "policy.us.ultimatum.enabled": draw(st.booleans()),
        "policy.us.ultimatum.trigger_attacks": draw(st.integers(1, 10)),
        "militia.decision.threat_weight": draw(st.floats(0.0, 1.5)),
        "militia.decision.strike_weight": draw(st.floats(-1.0, 1.0)),
        "militia.decision.noise_scale": draw(st.floats(0.05, 1.0)),
        "militia.decision.deliberation_days": draw(st.floats(0.0, 10.0)),
        "militia.decision.review_mean_days": draw(st.floats(1.0, 200.0)),
        "policy.us.ultimatum.closure_attacks": draw(st.integers(0, 5)),
        "policy.us.closure.evacuation_days": draw(st.floats(0.0, 10.0)),
    }
    if draw(st.booleans()):
        overrides["scenario.outcomes_from"] = date(2020, 2, 15)
    return quiet(overrides), draw(st.integers(0, 2**31))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: tests/conftest.py
@given(policy_worlds())
def test_policy_invariants(case):
    """At most one closure; truce days within the counted period; every rule-driven strike
    preceded by its trigger a decision delay earlier, and decided outside the cooldown of the
    strike before it; every pre-emptive strike answers a warning of that moment."""
    scenario, seed = case
    world = simulate(scenario, 0, seed)
    records, levers, calendar = world.ledger.records, scenario.policy.us.levers, world.calendar
    assert len([r for r in records if r.kind is Kind.EMBASSY_CLOSED]) <= 1
    row = tabulate(records, calendar)
    assert 0.0 <= row["truce_days"] <= calendar.horizon_days - calendar.count_from_day + 1e-9
    strikes = [r for r in records if r.kind in (Kind.US_STRIKE_RETALIATORY, Kind.US_STRIKE_PREEMPTIVE)]
    for strike in strikes:
        if strike.kind is Kind.US_STRIKE_PREEMPTIVE:
            assert any(
                r.kind is Kind.WARNING and r.attack == strike.attack and r.time_d == strike.time_d for r in records
            )
            continue
        decided = strike.time_d - levers.decision_delay_days
        trigger_kind = strike.detail.removeprefix("after ").split(" of ")[0]
        triggers = [r for r in records if r.attack == strike.attack and r.kind.name == trigger_kind]
        assert any(abs(r.time_d - decided) < 1e-9 for r in triggers), strike
        earlier = [s.time_d for s in strikes if s.time_d < decided - 1e-9]
        assert not earlier or decided - max(earlier) >= levers.strike_cooldown_days - 1e-9, strike
