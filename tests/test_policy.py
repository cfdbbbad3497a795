"""The policy layer: Washington's doctrines, Baghdad's measures, the militias' reactions and the
dated history.

Causal tests compare two runs of the same replication and seed, with and without one
intervention (common random numbers). With ``branching_ratio`` 0, one regime and no warnings
the background arrival times depend only on their own streams, so any difference between the
two runs is the intervention's doing. Deterministic tests use degenerate parameters and assert
exact sequences of (event, time), computed by hand from the parameters.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from builders import (
    TEST,
    Kind,
    finish,
    one_site,
    policy_start_d,
    quiet,
    run_replications,
    start,
    world_of,
)
from scipy import stats

from sim.config.calendar import hours, seconds
from sim.config.levers import DOCTRINES, HISTORY_EVENTS, HistoryEvent
from sim.config.loader import load_scenario
from sim.config.schema import FrozenMap
from sim.model.campaign import launch_attack
from sim.model.records import Origin
from sim.model.threats import threat_named, threats
from sim.model.timeline import settling_days
from sim.policy.baghdad import Posture as BaghdadPosture
from sim.policy.history import DATED_EVENTS
from sim.replication.outcomes import outcomes
from sim.replication.simulate import replicate, simulate

SEED = 20201001
ALPHA = 0.001
Z = stats.norm.ppf(1 - ALPHA / 2)
ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((ROOT / "configs" / "scenarios").glob("*.toml"))

US_ATTACKS = tuple(t.attack_record for t in threats() if t.targets_us_sites)  # rocket, drone, ...
WARNABLE = tuple(t.attack_record for t in threats() if t.warnable)  # the attacks intelligence can announce
LAUNCH_KINDS = (Kind.ROCKET_LAUNCH_FAILED, Kind.ROCKET_LAUNCHED)
STRIKES = (Kind.US_STRIKE_RETALIATORY, Kind.US_STRIKE_PREEMPTIVE)
POLICY_KINDS = {
    Kind.WARNING,
    Kind.ATTACK_PREVENTED,
    Kind.US_STRIKE_RETALIATORY,
    Kind.US_STRIKE_PREEMPTIVE,
    Kind.REVENGE,
    Kind.DEGRADED,
    Kind.SANCTIONS,
    Kind.ULTIMATUM,
    Kind.TRUCE_START,
    Kind.TRUCE_END,
    Kind.EMBASSY_CLOSED,
    Kind.TROOP_REDUCTION,
    Kind.IZ_CLOSED,
    Kind.IZ_REOPENED,
    Kind.IRAQI_RAID,
    Kind.DETAINEES_RELEASED,
    Kind.NEIGHBOURHOOD_CLEARED,
    Kind.IRAQI_OPERATION,
    Kind.SITE_CLOSED,
}

# Background rocket and drone attacks, nothing else: the common-random-number pairs run on this.
BACKGROUND = {
    "threats.rocket.base_rate_per_day": 0.5,
    "threats.drone.base_rate_per_day": 0.1,
    "scenario.end_date": date(2020, 5, 31),
}
STRIKE_DATE = date(2020, 3, 1)  # day 60
WINDOW_D = 30.0
PAIRS = 40


def cause(detail: str) -> str:
    """A retaliatory strike's detail is 'after <event> of <attack>': the event part, after
    checking that the attack is named."""
    event, sep, attack = detail.partition(" of ")
    assert not detail.startswith("after ") or (sep and attack), detail
    return event


def with_history(scenario, **events: tuple[date, str] | tuple[date, str, float]):
    """``scenario`` with exactly these dated events: name=(date, event[, value])."""
    history = {
        name: HistoryEvent(date=e[0], event=e[1], value=e[2] if len(e) > 2 else None) for name, e in events.items()
    }
    return dataclasses.replace(scenario, history=FrozenMap(history))


def attacks_between(records, lo: float, hi: float) -> int:
    """Attacks on U.S. sites (rocket, drone, ...) at times in (lo, hi]."""
    return sum(1 for r in records if r.kind in US_ATTACKS and lo < r.time_d <= hi)


def of_kind(records, *kinds):
    return [r for r in records if r.kind in kinds]


def strike_pair(overrides: dict):
    """(records with a dated U.S. strike, records without it, strike day) for each replication."""
    without = quiet({**BACKGROUND, **overrides})
    with_strike = with_history(without, strike=(STRIKE_DATE, "us_strike"))
    day = float((STRIKE_DATE - without.scenario.start_date).days)
    for rep in range(PAIRS):
        yield simulate(with_strike, rep, SEED).ledger.records, simulate(without, rep, SEED).ledger.records, day


def assert_identical_before(a, b, t: float) -> None:
    before_a, before_b = [r for r in a if r.time_d < t], [r for r in b if r.time_d < t]
    assert before_a == before_b and any(r.kind in US_ATTACKS for r in before_a)


# --- 1. causal tests under common random numbers -------------------------------------------
def test_a_strike_with_revenge_raises_attacks_in_the_following_window():
    more = 0
    for with_strike, without, day in strike_pair(
        {
            "policy.us.strikes.revenge_prob": 1.0,
            "policy.us.strikes.revenge_attacks_mean": 4.0,
            "policy.us.strikes.capacity_loss": 0.0,
        }
    ):
        assert_identical_before(with_strike, without, day)
        strike, revenge = of_kind(with_strike, Kind.US_STRIKE_RETALIATORY, Kind.REVENGE)
        assert (strike.kind, strike.time_d, strike.generation) == (Kind.US_STRIKE_RETALIATORY, day, 1)
        assert (revenge.kind, revenge.time_d, revenge.generation) == (Kind.REVENGE, day, 1) and revenge.count >= 0
        n_with, n_without = (
            attacks_between(with_strike, day, day + WINDOW_D),
            attacks_between(without, day, day + WINDOW_D),
        )
        assert n_with >= n_without
        more += n_with - n_without
    assert more > 0


def test_a_strike_that_only_degrades_lowers_attacks_in_the_following_window():
    fewer = 0
    for with_strike, without, day in strike_pair(
        {
            "policy.us.strikes.revenge_prob": 0.0,
            "policy.us.strikes.capacity_loss": 0.8,
            "policy.us.strikes.capacity_recovery_days": 60.0,
        }
    ):
        assert_identical_before(with_strike, without, day)
        assert not of_kind(with_strike, Kind.REVENGE) and len(of_kind(with_strike, Kind.DEGRADED)) == 1
        n_with, n_without = (
            attacks_between(with_strike, day, day + WINDOW_D),
            attacks_between(without, day, day + WINDOW_D),
        )
        assert n_with <= n_without
        fewer += n_without - n_with
    assert fewer > 0


def background_after(records, day: float):
    return [
        (round(r.time_d, 9), r.kind, r.site, r.count)
        for r in records
        if r.kind in US_ATTACKS and r.time_d > day and r.origin is Origin.BACKGROUND
    ]


def test_revenge_attacks_do_not_change_the_draws_of_later_background_attacks():
    """Common random numbers (docs/reproducibility.md): the background attacks after a strike are the same
    attacks (time, target, size) whether or not the strike added revenge attacks."""
    for with_strike, without, day in strike_pair(
        {
            "policy.us.strikes.revenge_prob": 1.0,
            "policy.us.strikes.revenge_attacks_mean": 4.0,
            "policy.us.strikes.capacity_loss": 0.0,
        }
    ):
        assert background_after(with_strike, day) == background_after(without, day)


def embassy_attacks(records):
    return [r for r in records if r.kind in US_ATTACKS and r.site == "embassy"]


def test_no_attack_names_the_embassy_after_a_dated_closure():
    scenario = quiet(
        {
            "threats.rocket.base_rate_per_day": 3.0,
            "threats.drone.base_rate_per_day": 0.5,
            "scenario.end_date": date(2020, 3, 15),
            "policy.us.closure.evacuation_days": 7.0,
        }
    )
    scenario = with_history(scenario, closure=(date(2020, 2, 1), "embassy_closure"))
    for rep in range(5):
        world = world_of(scenario, SEED, rep)
        actors = start(world)
        finish(world)
        records = world.ledger.records
        closed = [i for i, r in enumerate(records) if r.kind is Kind.EMBASSY_CLOSED]
        assert len(closed) == 1 and records[closed[0]].time_d == 31.0 + 7.0
        assert embassy_attacks(records[: closed[0]])
        assert not embassy_attacks(records[closed[0] :])
        assert any(r.kind in US_ATTACKS for r in records[closed[0] :])  # the others are still attacked
        assert not world.sites["embassy"].is_open and actors.baghdad.posture is BaghdadPosture.ENDED


def test_separation_closes_the_embassy_after_the_first_attack_on_it_from_the_policy_start():
    start = date(2020, 2, 1)
    scenario = quiet(
        {
            "threats.rocket.base_rate_per_day": 3.0,
            "threats.drone.base_rate_per_day": 0.5,
            "scenario.end_date": date(2020, 3, 31),
            "policy.us.doctrine": "separation",
            "policy.start_date": start,
            "policy.us.closure.evacuation_days": 7.0,
        }
    )
    start_d = 31.0
    for rep in range(5):
        records = simulate(scenario, rep, SEED).ledger.records
        first = next(r for r in embassy_attacks(records) if r.time_d >= start_d)
        assert any(r.time_d < start_d for r in embassy_attacks(records))  # earlier attacks did not close it
        closed = of_kind(records, Kind.EMBASSY_CLOSED)
        assert [(r.time_d, r.detail) for r in closed] == [(first.time_d + 7.0, "doctrine separation")]
        assert all(r.time_d < closed[0].time_d for r in embassy_attacks(records))


def launch_sequences(records, inside: bool, lo: float, hi: float):
    """attack -> [(kind, time)] of its launch records inside (or outside) [lo, hi)."""
    out = defaultdict(list)
    for r in records:
        if r.kind in LAUNCH_KINDS and (lo <= r.time_d < hi) == inside:
            out[r.attack].append((r.kind, r.time_d, r.site))
    return dict(out)


def test_an_international_zone_closure_lowers_launch_success_only_inside_its_window():
    iz_success, failure = 0.5, 0.09
    scenario = quiet(
        {
            "threats.rocket.base_rate_per_day": 20.0,
            "threats.rocket.launch_failure_prob": failure,
            "policy.iraq.iz_launch_success": iz_success,
            "scenario.end_date": date(2020, 1, 20),
        }
    )
    t0, days = 5.0, 4.0
    closed_world, open_world = world_of(scenario, SEED, 3), world_of(scenario, SEED, 3)
    closed_actors = start(closed_world)
    closed_world.env.run(until=t0)
    closed_actors.baghdad.close_iz(days)
    finish(closed_world)
    start(open_world)
    finish(open_world)
    closed, opened = closed_world.ledger.records, open_world.ledger.records
    assert [(r.kind, r.time_d) for r in of_kind(closed, Kind.IZ_CLOSED, Kind.IZ_REOPENED)] == [
        (Kind.IZ_CLOSED, t0),
        (Kind.IZ_REOPENED, t0 + days),
    ]
    assert all(s.launch_success == 1.0 for s in closed_world.sites.all)
    # outside the window every rocket leaves its rail (or not) exactly as without the closure
    outside = launch_sequences(closed, False, t0, t0 + days)
    assert outside == launch_sequences(opened, False, t0, t0 + days) and len(outside) > 100
    inside_closed, inside_open = (
        launch_sequences(closed, True, t0, t0 + days),
        launch_sequences(opened, True, t0, t0 + days),
    )
    assert inside_closed.keys() == inside_open.keys()
    iz = {site.name for site in closed_world.sites if site.spec.international_zone}
    assert iz == {"embassy", "union_iii"}
    failed = {True: [0, 0], False: [0, 0]}  # IZ? -> [failed with closure, failed without]
    rockets_iz = 0
    for attack, seq in inside_closed.items():
        site = seq[0][2]
        if site not in iz:
            assert seq == inside_open[attack]
            continue
        rockets_iz += len(seq)
        for (k_closed, t_closed, _), (k_open, t_open, _) in zip(seq, inside_open[attack], strict=True):
            assert t_closed == t_open
            if k_open is Kind.ROCKET_LAUNCH_FAILED:  # the same uniform fails a lower threshold too
                assert k_closed is Kind.ROCKET_LAUNCH_FAILED
            failed[True][0] += k_closed is Kind.ROCKET_LAUNCH_FAILED
            failed[True][1] += k_open is Kind.ROCKET_LAUNCH_FAILED
    assert failed[True][0] > failed[True][1]
    p = 1 - (1 - failure) * iz_success
    half = Z * math.sqrt(p * (1 - p) / rockets_iz)
    assert abs(failed[True][0] / rockets_iz - p) <= half, (failed, rockets_iz)


def test_a_closure_during_a_closure_extends_it():
    world = world_of(quiet({"scenario.end_date": date(2020, 1, 31)}))
    actors = start(world)
    world.env.run(until=1.0)
    actors.baghdad.close_iz(3.0)
    world.env.run(until=2.0)
    actors.baghdad.close_iz(3.0)
    assert world.sites["embassy"].launch_success == world.scenario.policy.iraq.iz_launch_success
    assert world.sites["baghdad_airport"].launch_success == 1.0
    finish(world)
    assert [(r.kind, r.time_d) for r in of_kind(world.ledger.records, Kind.IZ_CLOSED, Kind.IZ_REOPENED)] == [
        (Kind.IZ_CLOSED, 1.0),
        (Kind.IZ_REOPENED, 5.0),
    ]
    assert world.sites["embassy"].launch_success == 1.0


# --- 2. doctrine thresholds ------------------------------------------------------------------
HARSH = {
    "policy.start_date": date(2020, 1, 1),
    "threats.rocket.base_rate_per_day": 3.0,
    "threats.rocket.heavy_salvo_prob": 0.3,
    "threats.rocket.inside_perimeter_prob": 1.0,
    "threats.drone.base_rate_per_day": 0.5,
    "threats.drone.inside_perimeter_prob": 1.0,
    "scenario.end_date": date(2020, 3, 31),
}


def test_continuity_never_strikes_after_non_lethal_attacks():
    scenario = quiet(HARSH)
    assert scenario.policy.us.doctrine == "continuity"
    for rep in range(3):
        records = simulate(scenario, rep, SEED).ledger.records
        assert len(of_kind(records, Kind.ROCKET_IMPACT_INSIDE)) > 100 and of_kind(records, Kind.DRONE_IMPACT_INSIDE)
        assert any(r.heavy for r in of_kind(records, Kind.ATTACK_ROCKET))
        assert not of_kind(records, Kind.US_KILLED)
        assert not of_kind(records, *STRIKES)


def test_continuity_strikes_after_the_first_lethal_attack_with_its_decision_delay():
    scenario = quiet({**HARSH, "damage.us_killed_per_impact": 3.0, "policy.us.strikes.revenge_prob": 0.0})
    delay = scenario.policy.us.levers.decision_delay_days
    records = simulate(scenario, 0, SEED).ledger.records
    first_kill = of_kind(records, Kind.US_KILLED)[0]
    strike = of_kind(records, Kind.US_STRIKE_RETALIATORY)[0]
    assert strike.time_d == pytest.approx(first_kill.time_d + delay, abs=1e-9)
    assert cause(strike.detail) == "after us_killed" and not of_kind(records, Kind.US_STRIKE_PREEMPTIVE)


def single_salvo_world(doctrine: str, overrides: dict):
    """One site without C-RAM, the doctrine active from the first day, no background attacks."""
    scenario = quiet(
        {
            "policy.start_date": date(2020, 1, 1),
            "policy.us.doctrine": doctrine,
            "threats.rocket.launch_failure_prob": 0.0,
            "threats.rocket.dud_prob": 0.0,
            "threats.rocket.flight_time_s": 40.0,
            "policy.us.strikes.revenge_prob": 0.0,
            "scenario.end_date": date(2020, 2, 29),
            **overrides,
        }
    )
    world = world_of(one_site(scenario, cram_fire_units=0))
    return world, start(world)


def salvos_at(world, times, until):
    for t in times:
        world.env.run(until=t)
        launch_attack(world, threat_named("rocket"), TEST)
    world.env.run(until=until)
    return world.ledger.records


def test_tougher_love_strikes_once_a_decision_delay_after_a_heavy_salvo():
    world, actors = single_salvo_world(
        "tougher_love",
        {
            "threats.rocket.heavy_salvo_prob": 1.0,
            "threats.rocket.heavy_salvo_min": 14,
            "threats.rocket.heavy_salvo_max": 14,
            "threats.rocket.inside_perimeter_prob": 1.0,
        },
    )
    t0 = 3.25
    records = salvos_at(world, [t0], t0 + 5.0)
    assert len(of_kind(records, Kind.ROCKET_IMPACT_INSIDE)) == 14
    delay = actors.washington.levers.decision_delay_days
    assert [(r.time_d, r.generation, cause(r.detail)) for r in of_kind(records, *STRIKES)] == [
        (t0 + delay, 1, "after attack_rocket")
    ]


def test_tougher_love_strikes_after_an_inside_impact_but_not_after_a_miss():
    harassment = {"threats.rocket.heavy_salvo_prob": 0.0, "threats.rocket.harassment_mean_rockets": 1.0}
    world, actors = single_salvo_world("tougher_love", {**harassment, "threats.rocket.inside_perimeter_prob": 0.0})
    records = salvos_at(world, [2.0], 10.0)
    assert of_kind(records, Kind.ROCKET_IMPACT_OUTSIDE) and not of_kind(records, *STRIKES)

    world, actors = single_salvo_world("tougher_love", {**harassment, "threats.rocket.inside_perimeter_prob": 1.0})
    records = salvos_at(world, [2.0], 10.0)
    delay = actors.washington.levers.decision_delay_days
    strikes = [(r.time_d, cause(r.detail)) for r in of_kind(records, *STRIKES)]
    assert strikes == [(pytest.approx(2.0 + seconds(40.0) + delay, abs=1e-9), "after rocket_impact_inside")]


def test_tougher_love_strikes_at_its_attack_count_and_respects_its_cooldown():
    world, actors = single_salvo_world(
        "tougher_love",
        {
            "threats.rocket.heavy_salvo_prob": 0.0,
            "threats.rocket.inside_perimeter_prob": 0.0,
        },
    )
    levers = actors.washington.levers
    assert levers.retaliate_on_attack_count == 4 and levers.strike_cooldown_days == 7.0
    # attacks 1-3 provoke nothing; the 4th (day 4) does; days 5-8 fall in the decision and
    # cooldown (strike at 5, cooldown to 12); day 13 has 4+ attacks in 30 days again
    records = salvos_at(world, [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 11.5, 13.0], 20.0)
    assert [(r.time_d, cause(r.detail)) for r in of_kind(records, *STRIKES)] == [
        (4.0 + levers.decision_delay_days, "after attack_rocket"),
        (13.0 + levers.decision_delay_days, "after attack_rocket"),
    ]


def test_an_attack_count_rule_counts_heavy_salvos_where_heavy_salvos_alone_do_not_provoke():
    world, actors = single_salvo_world(
        "continuity",
        {
            "policy.us.doctrines.continuity.retaliate_on_attack_count": 2,
            "threats.rocket.heavy_salvo_prob": 1.0,
            "threats.rocket.inside_perimeter_prob": 0.0,
        },
    )
    assert not actors.washington.levers.retaliate_on_heavy_salvo
    records = salvos_at(world, [1.0, 2.0], 10.0)
    assert len(of_kind(records, Kind.ATTACK_ROCKET)) == 2
    delay = actors.washington.levers.decision_delay_days
    assert [(r.time_d, cause(r.detail)) for r in of_kind(records, *STRIKES)] == [(2.0 + delay, "after attack_rocket")]


# --- 3. hand-built sequences of policy events ----------------------------------------------
def test_a_hand_built_replication_gives_the_expected_policy_events():
    scenario = quiet(
        {
            "policy.start_date": date(2020, 1, 1),
            "scenario.end_date": date(2020, 3, 31),
            "policy.us.strikes.revenge_prob": 0.0,
            "policy.us.strikes.capacity_loss": 0.2,
            "policy.us.strikes.capacity_recovery_days": 10.0,
            "policy.us.strikes.civilian_casualties_mean": 0.0,
            "policy.us.ultimatum.iraqi_raids": 2,
            "policy.us.ultimatum.deadline_days": 30.0,
            "policy.us.ultimatum.closure_attacks": 0,
            "policy.iraq.release_prob": 1.0,
            "policy.iraq.release_days": 4.0,
            "policy.iraq.backlash_attacks_mean": 0.0,
            "policy.iraq.raid_capacity_loss": 0.5,
            "policy.iraq.raid_effect_days": 3.0,
            "policy.us.closure.evacuation_days": 5.0,
            "policy.us.closure.other_sites_after_days": 10.0,
            "policy.us.closure.site_interval_days": 2.0,
        }
    )
    sites = {
        n: dataclasses.replace(scenario.sites[n], open_from=None, close_on=None)
        for n in ("embassy", "union_iii", "al_asad")
    }
    scenario = with_history(
        dataclasses.replace(scenario, sites=FrozenMap(sites)),
        strike=(date(2020, 1, 6), "us_strike"),  # day 5
        ultimatum=(date(2020, 1, 11), "ultimatum"),  # day 10: raids at 10 + 7.5 and 10 + 22.5
        drawdown=(date(2020, 1, 16), "troop_reduction", 0.5),  # day 15
        closure=(date(2020, 1, 21), "embassy_closure"),  # day 20: closed at 25, cooperation ends
    )
    world = world_of(scenario, SEED)
    start(world)
    rocket = world.intensity["rocket"]
    checkpoints = {5.5: 0.8, 15.5: 1.0, 18.0: 0.5, 20.75: 1.0, 30.0: 1.0}  # strike 5-15, raid 17.5-20.5
    for t, factor in checkpoints.items():
        world.env.run(until=t)
        assert rocket.policy_factor == pytest.approx(factor), t
        if t == 15.5:
            assert [s.staffing for s in world.sites.all] == [1.0, 0.5, 0.5]
    finish(world)
    events = [
        (r.kind.name, round(r.time_d, 9), r.site, r.count) for r in world.ledger.records if r.kind in POLICY_KINDS
    ]
    assert events == [
        ("us_strike_retaliatory", 5.0, None, 1),
        ("degraded", 5.0, None, 1),
        ("ultimatum", 10.0, "embassy", 1),
        ("troop_reduction", 15.0, None, 1),
        ("iraqi_raid", 17.5, None, 1),
        ("degraded", 17.5, None, 1),
        ("detainees_released", 21.5, None, 0),
        ("site_closed", 25.0, "embassy", 1),
        ("embassy_closed", 25.0, "embassy", 1),
        # the second raid (32.5) does not happen: cooperation ended with the closure
        ("site_closed", 35.0, "union_iii", 1),
        ("site_closed", 37.0, "al_asad", 1),
    ]
    row = replicate(scenario, 0, SEED)
    assert (row["iraqi_operations"], row["ultimatums"], row["embassy_closure_day"], row["truce_days"]) == (
        1,
        1,
        25.0,
        0.0,
    )


def ultimatum_world(closure_attacks: int):
    scenario = quiet(
        {
            "policy.start_date": date(2020, 1, 1),
            "scenario.end_date": date(2020, 3, 31),
            "policy.us.ultimatum.enabled": True,
            "policy.us.ultimatum.trigger_attacks": 3,
            "policy.us.ultimatum.trigger_window_days": 10.0,
            "policy.us.ultimatum.deadline_days": 20.0,
            "policy.us.ultimatum.iraqi_raids": 0,
            "policy.us.ultimatum.closure_attacks": closure_attacks,
            "policy.us.closure.evacuation_days": 1.0,
            "threats.rocket.inside_perimeter_prob": 0.0,
        }
    )
    world = world_of(one_site(scenario, cram_fire_units=0), SEED)
    return world, start(world)


def test_the_ultimatum_rule_threatens_at_its_trigger_and_closes_the_embassy_if_attacks_go_on():
    world, actors = ultimatum_world(closure_attacks=2)
    records = salvos_at(world, [1.0, 2.0, 3.0, 5.0, 8.0], 40.0)
    events = [(r.kind.name, r.time_d, r.detail) for r in records if r.kind in POLICY_KINDS]
    assert events == [
        ("ultimatum", 3.0, "3 attacks in 10 days"),
        ("site_closed", 24.0, "evacuated"),
        ("embassy_closed", 24.0, "ultimatum ignored: 2 attacks"),
    ]


def test_the_ultimatum_rule_threatens_once_and_a_heeded_ultimatum_keeps_the_embassy_open():
    world, actors = ultimatum_world(closure_attacks=3)
    records = salvos_at(world, [1.0, 2.0, 3.0, 5.0, 8.0, 30.0, 31.0, 32.0], 60.0)
    assert [(r.kind.name, r.time_d) for r in records if r.kind in POLICY_KINDS] == [("ultimatum", 3.0)]
    assert world.sites["embassy"].is_open and actors.washington.ultimatum_attacks is None


# --- 4. outcome columns against the event log ----------------------------------------------
def expected_row(records, begin: float, end: float) -> dict:
    """The policy outcome columns, computed here from the records: counts from ``begin``
    (the scenario's outcomes_from), truce days within [begin, end], the closure whenever."""
    truce, began = 0.0, None
    for r in records:
        if r.kind is Kind.TRUCE_START:
            began = r.time_d
        elif r.kind is Kind.TRUCE_END:
            truce += max(0.0, min(r.time_d, end) - max(began, begin))
            began = None
    if began is not None:
        truce += max(0.0, end - max(began, begin))
    counted = [r for r in records if r.time_d >= begin]
    closures = of_kind(records, Kind.EMBASSY_CLOSED)
    return {
        "us_strikes_retaliatory": len(of_kind(counted, Kind.US_STRIKE_RETALIATORY)),
        "us_strikes_preemptive": len(of_kind(counted, Kind.US_STRIKE_PREEMPTIVE)),
        "iraqi_operations": len(of_kind(counted, Kind.IRAQI_RAID, Kind.IRAQI_OPERATION)),
        "truce_days": pytest.approx(truce, abs=1e-9),
        "escalation_chain_max": max((r.generation for r in of_kind(counted, *STRIKES)), default=0),
        "embassy_closed": bool(closures),
        "embassy_closure_day": closures[0].time_d
        if closures
        else end,  # restricted: the horizon's end if it stays open
    }


def test_policy_outcome_columns_agree_with_the_event_log():
    scenario = load_scenario(
        ROOT / "configs" / "scenarios" / "tougher_love.toml",
        {
            "policy.us.ultimatum.enabled": True,
            "policy.us.ultimatum.closure_attacks": 6,
            "militia.decision.threat_weight": 1.0,
            "militia.decision.review_mean_days": 40.0,
            "policy.iraq.iz_closure_on_warning": True,
            "policy.iraq.raids_per_month": 1.0,
            "policy.us.strikes.revenge_prob": 0.9,
        },
    )
    seen = defaultdict(int)
    for rep in range(12):
        world = simulate(scenario, rep, SEED)
        records, calendar = world.ledger.records, world.calendar
        begin, end = calendar.count_from_day, calendar.horizon_days
        assert begin == policy_start_d(world) > 0  # the scenario counts from the policy start
        row = replicate(scenario, rep, SEED)
        expected = expected_row(records, begin, end)
        assert {k: row[k] for k in expected} == expected, rep
        counted = [r for r in records if r.time_d >= begin]
        for outcome in outcomes():
            if outcome.counts:
                assert row[outcome.column] == len(of_kind(counted, *outcome.counts)), outcome.column
            elif outcome.sums:
                assert row[outcome.column] == sum(r.count for r in of_kind(counted, *outcome.sums)), outcome.column
        seen["closed"] += row["embassy_closed"]
        seen["open"] += not row["embassy_closed"]
        seen["truce"] += row["truce_days"] > 0
        seen["chain>1"] += row["escalation_chain_max"] > 1
        seen["preemptive"] += row["us_strikes_preemptive"] > 0
        seen["operations"] += row["iraqi_operations"] > len(of_kind(counted, Kind.IRAQI_RAID))
        seen["strikes before"] += any(r.time_d < begin for r in of_kind(records, *STRIKES))
    assert all(seen[k] for k in ("closed", "open", "truce", "chain>1", "preemptive", "operations", "strikes before")), (
        dict(seen)
    )


@pytest.mark.parametrize("outcomes_from, truce_days", [(None, 31.0), (date(2020, 12, 15), 17.0)])
def test_truce_days_are_clipped_to_the_counted_period_and_closure_day_is_the_horizon_while_the_embassy_stays(
    outcomes_from, truce_days
):
    scenario = quiet(
        {
            "militia.decision.threat_weight": 2.0,
            "militia.decision.deliberation_days": 0.0,  # a certain, immediate truce
            "militia.decision.review_mean_days": 1e6,
            "militia.decision.review_log_sd": 0.0,
            "policy.us.ultimatum.closure_attacks": 10,
            **({"scenario.outcomes_from": outcomes_from} if outcomes_from else {}),
        }
    )
    scenario = with_history(scenario, ultimatum=(date(2020, 12, 1), "ultimatum"))  # day 335 of 366
    records = simulate(scenario, 0, SEED).ledger.records
    assert [(r.kind, r.time_d) for r in of_kind(records, Kind.TRUCE_START, Kind.TRUCE_END)] == [
        (Kind.TRUCE_START, 335.0)
    ]
    row = replicate(scenario, 0, SEED)
    assert row["truce_days"] == truce_days
    horizon = scenario.scenario.calendar.horizon_days
    assert row["embassy_closed"] is False and row["embassy_closure_day"] == horizon == 366.0
    frame = run_replications(scenario, 2, SEED, workers=1)
    assert (frame["embassy_closure_day"] == horizon).all() and (frame["truce_days"] == truce_days).all()


# --- 5. the scenario files -------------------------------------------------------------------
def test_the_five_policy_scenarios_exist():
    assert {p.stem for p in SCENARIO_FILES} >= {"continuity", "tougher_love", "separation", "ultimatum", "iz_security"}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_each_scenario_runs_and_its_doctrine_is_the_one_its_name_says(path):
    scenario = load_scenario(path)
    us, iraq, name = scenario.policy.us, scenario.policy.iraq, path.stem
    assert scenario.scenario.name == name and us.doctrine in DOCTRINES
    if name in DOCTRINES:
        assert us.doctrine == name
        assert not us.ultimatum.enabled and not iraq.iz_closure_on_warning and iraq.raids_per_month == 0
    if name == "ultimatum":
        assert us.ultimatum.enabled and us.doctrine == "continuity"
    if name == "iz_security":
        assert us.doctrine == "continuity" and us.levers.share_intelligence
        assert iraq.iz_closure_on_warning and iraq.raids_per_month > 0 and iraq.clearing_neighbourhoods > 0
    world = simulate(scenario, 0, SEED)
    records, start_d = world.ledger.records, policy_start_d(world)
    assert max(r.time_d for r in records) <= world.calendar.horizon_days + settling_days(world)
    sanctions = [r.time_d for r in of_kind(records, Kind.SANCTIONS)]
    if us.levers.sanctions:
        assert sanctions == pytest.approx([start_d + 30.44 * (k + 1) for k in range(len(sanctions))])
        assert of_kind(records, Kind.SANCTIONS)[-1].detail.endswith(f": -{us.sanctions.max_capacity_loss:.0%} capacity")
    else:
        assert not sanctions
    cleared = of_kind(records, Kind.NEIGHBOURHOOD_CLEARED)
    if iraq.clearing_neighbourhoods:
        assert cleared[0].time_d == start_d + iraq.clearing_days_per_neighbourhood
    else:
        assert not cleared


def scenario_file(name: str):
    return load_scenario(ROOT / "configs" / "scenarios" / f"{name}.toml")


@pytest.mark.slow
def test_separation_closes_the_embassy_whenever_it_is_attacked_after_the_policy_start():
    scenario = scenario_file("separation")
    evacuation = scenario.policy.us.closure.evacuation_days
    frame = run_replications(scenario, 40, SEED, workers=1)
    # totals count from the policy start: separation never strikes
    assert (frame["us_strikes_retaliatory"] == 0).all() and (frame["us_strikes_preemptive"] == 0).all()
    attacked = 0
    for rep in range(40):
        world = simulate(scenario, rep, SEED)
        start_d, horizon = policy_start_d(world), world.calendar.horizon_days
        after = [r.time_d for r in embassy_attacks(world.ledger.records) if r.time_d >= start_d]
        closed = of_kind(world.ledger.records, Kind.EMBASSY_CLOSED)
        if after and after[0] + evacuation < horizon:
            attacked += 1
            assert len(closed) == 1 and closed[0].time_d <= after[0] + evacuation + 1e-9
            if closed[0].detail == "doctrine separation":
                assert closed[0].time_d == pytest.approx(after[0] + evacuation, abs=1e-9)
        assert bool(frame.loc[rep, "embassy_closed"]) == bool(closed)
    assert attacked >= 30


@pytest.mark.slow
def test_tougher_love_strikes_at_least_as_often_as_continuity():
    strikes = {}
    for name in ("continuity", "tougher_love"):
        frame = run_replications(scenario_file(name), 40, SEED, workers=1)
        strikes[name] = int((frame["us_strikes_retaliatory"] + frame["us_strikes_preemptive"]).sum())
        if name == "continuity":
            assert (frame["us_strikes_preemptive"] == 0).all()
    assert strikes["tougher_love"] >= strikes["continuity"] and strikes["tougher_love"] > 0, strikes


# --- 6. pre-emption --------------------------------------------------------------------------
def preemption_records(overrides: dict, reps: int = 3):
    start = date(2020, 2, 1)
    scenario = quiet(
        {
            "policy.us.doctrine": "tougher_love",
            "policy.start_date": start,
            "scenario.end_date": date(2020, 3, 31),
            "threats.rocket.base_rate_per_day": 1.0,
            "policy.us.preemption.warning_prob": 1.0,
            **overrides,
        }
    )
    lead = hours(scenario.policy.us.preemption.warning_lead_h)
    horizon = scenario.scenario.horizon_days
    for rep in range(reps):
        yield simulate(scenario, rep, SEED).ledger.records, 31.0, lead, horizon


def test_a_certain_preemptive_strike_stops_every_warned_attack_after_the_policy_start():
    prevented = 0
    for records, start_d, lead, horizon in preemption_records(
        {
            "policy.us.preemption.strike_collateral_risk_max": 0.0,
            "policy.us.preemption.prevent_prob": 1.0,
        }
    ):
        warnings = [w for w in of_kind(records, Kind.WARNING) if w.time_d + lead < horizon]
        attacked = {r.attack: r.time_d for r in of_kind(records, *WARNABLE)}
        stopped = {r.attack: r.time_d for r in of_kind(records, Kind.ATTACK_PREVENTED)}
        preemptive = {(r.time_d, r.detail) for r in of_kind(records, Kind.US_STRIKE_PREEMPTIVE)}
        assert any(w.time_d < start_d for w in warnings) and any(w.time_d >= start_d for w in warnings)
        for w in warnings:
            if w.time_d >= start_d:
                assert (w.time_d, f"before {w.attack}") in preemptive
                assert stopped[w.attack] == pytest.approx(w.time_d + lead) and w.attack not in attacked
                prevented += 1
            else:
                assert attacked[w.attack] == pytest.approx(w.time_d + lead) and w.attack not in stopped
        assert all(t >= start_d for t, _ in preemptive)
    assert prevented > 50


def test_no_preemptive_strike_when_the_doctrine_accepts_no_collateral_risk():
    for records, start_d, lead, horizon in preemption_records(
        {
            "policy.us.preemption.strike_collateral_risk_max": 1.0,
            "policy.us.preemption.prevent_prob": 1.0,
            "policy.us.doctrines.tougher_love.acceptable_collateral_risk": 0.0,
        }
    ):
        assert not of_kind(records, Kind.US_STRIKE_PREEMPTIVE, Kind.ATTACK_PREVENTED)
        attacked = {r.attack for r in of_kind(records, *WARNABLE)}
        warned = [w for w in of_kind(records, Kind.WARNING) if w.time_d + lead < horizon]
        assert sum(w.time_d >= start_d for w in warned) > 10 and all(w.attack in attacked for w in warned)


def test_preemption_happens_in_the_share_of_warnings_whose_risk_is_acceptable():
    max_risk = 0.3
    warned = struck = 0
    for records, start_d, _lead, _horizon in preemption_records(
        {
            "policy.us.preemption.strike_collateral_risk_max": 1.0,
            "policy.us.doctrines.tougher_love.acceptable_collateral_risk": max_risk,
            "policy.us.strikes.capacity_loss": 0.0,
            "policy.us.strikes.revenge_prob": 0.0,
            "threats.rocket.base_rate_per_day": 4.0,
            "policy.iraq.intel_ops_prob": 0.0,
        },
        reps=4,
    ):
        warned += sum(w.time_d >= start_d for w in of_kind(records, Kind.WARNING))
        struck += len(of_kind(records, Kind.US_STRIKE_PREEMPTIVE))
    assert warned > 500
    half = Z * math.sqrt(max_risk * (1 - max_risk) / warned)
    assert abs(struck / warned - max_risk) <= half, (struck, warned)


def test_every_dated_event_type_the_schema_admits_has_an_action_and_no_other():
    assert set(DATED_EVENTS) == set(HISTORY_EVENTS)
