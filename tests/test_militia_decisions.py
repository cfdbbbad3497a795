"""The militias' decisions (sim/policy/decision.py, sim/policy/militia.py): the hold value and
its fading, every input's weight, the rule that declares, keeps, renews and drops truces, the
dated political inputs, and the probabilities the rule implies.

Deterministic tests use a noise scale of 1e-3 (the unobserved part is then below 0.05 in all
but exp(-50) of draws) or exact arithmetic; statistical ones compare counts with closed forms,
with a tolerance from a confidence interval at level 1 - ALPHA (the seeds are fixed, so the tests
are deterministic; were the seeds drawn at random, each would fail wrongly about once in a
thousand runs).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta

import pytest
from builders import NO_WEIGHTS, Kind, finish, quiet, start, world_of
from scipy import stats

from sim.config.errors import ConfigError
from sim.config.levers import HISTORY_EVENTS, HistoryEvent
from sim.config.schema import FrozenMap
from sim.policy.decision import INPUTS, HoldValue, keep_probability, truce_probability
from sim.policy.history import DATED_EVENTS
from sim.policy.militia import Posture
from sim.replication.simulate import simulate

ALPHA = 0.001
Z = stats.norm.ppf(1 - ALPHA / 2)
SEED = 20200920


def with_history(scenario, **events):
    history = {name: HistoryEvent(**fields) for name, fields in events.items()}
    return dataclasses.replace(scenario, history=FrozenMap(history))


def of_kind(records, *kinds):
    return [r for r in records if r.kind in kinds]


def weighed(**weights):
    """A quiet world whose militias weigh only the given inputs."""
    return quiet({f"militia.decision.{k}": v for k, v in weights.items()})


# --- the hold value ---------------------------------------------------------------------------


def test_the_hold_value_fades_with_its_mean_life_and_an_agreement_holds_until_its_deadline():
    hold = HoldValue(memory_days=10.0)
    assert hold.at(5.0) == 0.0
    hold.add(0.0, 0.5)
    assert hold.at(0.0) == 0.5 and hold.at(10.0) == pytest.approx(0.5 * math.exp(-1.0), rel=1e-15)
    hold.add(10.0, -0.2)  # a grievance on top of what is left
    assert hold.at(20.0) == pytest.approx((0.5 * math.exp(-1.0) - 0.2) * math.exp(-1.0), rel=1e-14)
    held = HoldValue(memory_days=10.0)
    held.add(0.0, 0.8, until=30.0)
    assert held.at(0.0) == held.at(30.0) == 0.8  # the timetable holds until its deadline ...
    assert held.at(40.0) == pytest.approx(0.8 * math.exp(-1.0), rel=1e-15)  # ... then fades
    held.add(40.0, 0.1, until=35.0)  # a deadline already past: it fades from now
    assert held.at(50.0) == pytest.approx(0.8 * math.exp(-2.0) + 0.1 * math.exp(-1.0), rel=1e-14)


def test_the_choice_probabilities_are_logistic_in_the_hold_value():
    assert truce_probability(1.0, 0.3) == 0.5
    assert truce_probability(1.3, 0.3) == pytest.approx(1 / (1 + math.exp(-1.0)), rel=1e-15)
    assert truce_probability(1.3, 0.3) + truce_probability(0.7, 0.3) == pytest.approx(1.0, rel=1e-15)
    assert truce_probability(-5.0, 1e-3) == 0.0  # far below: exactly 0, no overflow
    spec = quiet().militia.decision
    assert keep_probability(spec.keep_level, spec) == 0.5


@pytest.mark.parametrize("entry", INPUTS, ids=lambda i: i.kind.name)
def test_every_input_moves_the_hold_value_by_its_own_weight_only(entry):
    """Each kind of record the militias weigh adds ``militia.decision.<weight>`` (others 0)."""
    world = world_of(weighed(**{entry.weight: 0.37}), SEED)
    actors = start(world)
    world.env.run(until=12.0)
    world.ledger.record(entry.kind, count=20)  # an agreement: 20 days to its deadline
    assert actors.militia.hold.at(12.0) == pytest.approx(0.37, rel=1e-15)
    expected = 0.37 if entry.holds else 0.37 * math.exp(-8.0 / world.scenario.militia.decision.memory_days)
    assert actors.militia.hold.at(20.0) == pytest.approx(expected, rel=1e-14)
    others = [i for i in INPUTS if i.weight != entry.weight]
    for other in others:
        world.ledger.record(other.kind, count=1)
    assert actors.militia.hold.at(20.0) == pytest.approx(expected, rel=1e-14)


def test_every_dated_event_type_has_a_carrier_and_the_political_ones_write_their_record():
    assert set(DATED_EVENTS) == set(HISTORY_EVENTS)
    political = {
        "withdrawal": Kind.WITHDRAWAL,
        "talks": Kind.TALKS,
        "threat": Kind.THREAT,
        "election": Kind.ELECTION,
        "iranian_direction": Kind.IRANIAN_DIRECTION,
    }
    events = {f"e{i}": {"date": date(2020, 2, 1 + i), "event": e} for i, e in enumerate(political)}
    events["deal"] = {"date": date(2020, 3, 1), "event": "agreement", "until": date(2020, 5, 30)}
    records = simulate(with_history(quiet(), **events), 0, SEED).ledger.records
    seen = [(r.kind, r.time_d, r.count) for r in records if r.kind in (*political.values(), Kind.AGREEMENT)]
    assert seen == [(kind, 31.0 + i, 1) for i, kind in enumerate(political.values())] + [(Kind.AGREEMENT, 60.0, 90)]


def test_an_agreement_needs_a_deadline_after_its_date_and_only_an_agreement_has_one():
    from builders import BASELINE_PATH

    from sim.config.loader import load_scenario

    assert HistoryEvent(date(2021, 7, 26), "agreement", until=date(2021, 12, 31)).check() == []
    assert HistoryEvent(date(2021, 7, 26), "agreement").check() == [
        ("until", None, "is required for an agreement, and must be after its date 2021-07-26")
    ]
    assert HistoryEvent(date(2021, 7, 26), "talks", until=date(2021, 12, 31)).check() == [
        ("until", date(2021, 12, 31), "is only for an agreement")
    ]
    with pytest.raises(ConfigError, match="history.x.until"):
        load_scenario(BASELINE_PATH, {"history.x.date": date(2021, 7, 26), "history.x.event": "agreement"})


# --- the rule: declare, keep, renew, drop ------------------------------------------------------


def test_an_input_that_lifts_the_hold_value_over_the_threshold_decides_a_truce_declared_after_deliberation():
    scenario = quiet(
        {
            "militia.decision.threat_weight": 1.2,
            "militia.decision.review_mean_days": 1e6,
            "militia.decision.review_log_sd": 0.0,
            "threats.rocket.base_rate_per_day": 2.0,
            "campaign.regimes.pause.multiplier": 0.0,
        }
    )
    scenario = with_history(scenario, threat={"date": date(2020, 2, 1), "event": "threat"})
    world = world_of(scenario, SEED)
    actors = start(world)
    world.env.run(until=31.5)
    assert actors.militia.posture is Posture.DECIDED
    finish(world)
    records = world.ledger.records
    (decided,) = of_kind(records, Kind.TRUCE_DECIDED)
    (started,) = of_kind(records, Kind.TRUCE_START)
    assert decided.time_d == 31.0 and started.time_d > 31.0 and not of_kind(records, Kind.TRUCE_END)
    assert not [
        r for r in of_kind(records, Kind.ATTACK_ROCKET) if r.time_d >= started.time_d
    ]  # the truce holds every attack back
    assert [r for r in of_kind(records, Kind.ATTACK_ROCKET) if r.time_d < 31.0]


def test_an_input_that_drops_the_hold_value_below_the_keep_level_ends_the_truce_or_the_decision():
    weights = {
        "militia.decision.threat_weight": 1.2,
        "militia.decision.strike_weight": -1.0,
        "militia.decision.deliberation_days": 10.0,
        "militia.decision.review_mean_days": 1e6,
        "militia.decision.review_log_sd": 0.0,
    }
    threat = {"date": date(2020, 2, 1), "event": "threat"}
    for strike_day, expected in ((date(2020, 2, 2), Kind.TRUCE_DROPPED), (date(2020, 6, 1), Kind.TRUCE_END)):
        # the exponential deliberation (mean 10 days) ends before 1 June in all but e^-12 of draws
        scenario = with_history(quiet(weights), threat=threat, strike={"date": strike_day, "event": "us_strike"})
        records = simulate(scenario, 0, SEED).ledger.records
        ended = of_kind(records, Kind.TRUCE_DROPPED, Kind.TRUCE_END)
        assert [(r.kind, r.detail) for r in ended] == [(expected, "dropped after us_strike_retaliatory")]


def test_a_term_is_renewed_while_the_hold_value_stays_at_the_keep_level_and_ended_when_it_fades_below():
    """An agreement held for 100 days keeps the resolve at 0.8 >= keep 0.5: terms of 30 days
    are renewed; after the deadline it fades (mean life 10 days) and the first term that ends
    after 0.8 exp(-(t - deadline) / 10) < 0.5 ends the truce."""
    scenario = quiet(
        {
            "militia.decision.agreement_weight": 0.8,
            "militia.decision.memory_days": 10.0,
            "militia.decision.deliberation_days": 0.0,
            "militia.decision.review_mean_days": 30.0,
            "militia.decision.review_log_sd": 0.0,
            "scenario.end_date": date(2020, 12, 31),
        }
    )
    deal = {"date": date(2020, 1, 11), "event": "agreement", "until": date(2020, 4, 20)}  # day 10, deadline day 110
    truce = {"date": date(2020, 1, 11), "event": "truce"}
    world = world_of(with_history(scenario, deal=deal, truce=truce), SEED)
    start(world)
    finish(world)
    records = world.ledger.records
    assert [r.time_d for r in of_kind(records, Kind.TRUCE_START)] == [10.0]
    renewals = [r.time_d for r in of_kind(records, Kind.TRUCE_RENEWED)]
    (end,) = of_kind(records, Kind.TRUCE_END)
    fade_below = 110.0 + 10.0 * math.log(0.8 / 0.5)  # 114.7
    # exponential terms: where they fall is random, but every renewal is at or before the fade,
    # and the end is the first term's end after it
    assert all(t <= fade_below + 1e-9 for t in renewals) and end.time_d > fade_below
    assert end.detail == "dropped after a review"


def test_a_dated_truce_holds_whatever_the_resolve_until_the_first_occasion_to_weigh_it():
    scenario = quiet({"militia.decision.review_mean_days": 1e6, "militia.decision.review_log_sd": 0.0})
    scenario = with_history(
        scenario, truce={"date": date(2020, 2, 1), "event": "truce"}, talks={"date": date(2020, 3, 1), "event": "talks"}
    )
    records = simulate(scenario, 0, SEED).ledger.records
    assert [(r.kind, r.time_d) for r in of_kind(records, Kind.TRUCE_START, Kind.TRUCE_END)] == [
        (Kind.TRUCE_START, 31.0),
        (Kind.TRUCE_END, 60.0),
    ]


def test_inputs_that_weigh_nothing_change_no_decision():
    """The unobserved part of the resolve is drawn at reviews, not at inputs: fifty talks of
    weight 0 decide a truce in exactly the replications one does, and end none."""
    quiet_talks = {
        "militia.decision.noise_scale": 0.4,
        "militia.decision.review_mean_days": 1e6,
        "scenario.end_date": date(2020, 6, 30),
    }
    days = [date(2020, 1, 2) + timedelta(days=2 * i) for i in range(50)]
    one = with_history(quiet(quiet_talks), t0={"date": days[0], "event": "talks"})
    many = with_history(quiet(quiet_talks), **{f"t{i}": {"date": d, "event": "talks"} for i, d in enumerate(days)})
    decided = {
        name: [bool(of_kind(simulate(s, rep, SEED).ledger.records, Kind.TRUCE_DECIDED)) for rep in range(200)]
        for name, s in (("one", one), ("many", many))
    }
    assert decided["one"] == decided["many"] and 0 < sum(decided["one"]) < 200
    held = quiet(
        {
            **quiet_talks,
            "militia.decision.threat_weight": 3.0,
            "militia.decision.memory_days": 1e9,
            "militia.decision.deliberation_days": 0.0,
            "militia.decision.noise_scale": 0.1,
        }
    )
    # resolve 3 + logistic(0.1) noise: below the threshold or the keep level with probability < 1e-8
    events = {"threat": {"date": date(2020, 1, 1), "event": "threat"}}
    events.update({f"t{i}": {"date": d, "event": "talks"} for i, d in enumerate(days)})
    for rep in range(20):
        records = simulate(with_history(held, **events), rep, SEED).ledger.records
        assert [r.time_d for r in of_kind(records, Kind.TRUCE_START)] == [0.0] and not of_kind(records, Kind.TRUCE_END)


# --- the probabilities the rule implies ----------------------------------------------------------


@pytest.mark.slow
def test_truces_are_decided_declared_and_renewed_with_the_rules_probabilities_and_delays():
    """One threat of weight w on day 1 under noise s (no review before it: reviews come every
    20 days, log-sd 0.05): P(decided at the threat) = logistic((w - 1) / s); the deliberation is
    exponential with mean d; the first review of a declared truce draws the noise afresh and
    keeps it with probability logistic((w - keep) / s) (the weight does not fade: memory 1e9 days)."""
    w, s, d, m, keep, n = 0.9, 0.25, 2.0, 20.0, 0.7, 600
    scenario = quiet(
        {
            "militia.decision.threat_weight": w,
            "militia.decision.noise_scale": s,
            "militia.decision.deliberation_days": d,
            "militia.decision.memory_days": 1e9,
            "militia.decision.keep_level": keep,
            "militia.decision.review_mean_days": m,
            "militia.decision.review_log_sd": 0.05,
            "scenario.end_date": date(2020, 3, 31),
        }
    )
    scenario = with_history(scenario, threat={"date": date(2020, 1, 2), "event": "threat"})
    decided, delays, renewed, reviewed = 0, [], 0, 0
    for rep in range(n):
        records = simulate(scenario, rep, SEED).ledger.records
        if [r for r in of_kind(records, Kind.TRUCE_DECIDED) if r.time_d == 1.0]:
            decided += 1
            start_d = of_kind(records, Kind.TRUCE_START)[0].time_d
            delays.append(start_d - 1.0)
            first = [r for r in of_kind(records, Kind.TRUCE_RENEWED, Kind.TRUCE_END) if r.time_d > start_d]
            if first:
                reviewed += 1
                renewed += first[0].kind is Kind.TRUCE_RENEWED
    p = truce_probability(w, s)
    assert abs(decided / n - p) <= Z * math.sqrt(p * (1 - p) / n), (decided, p)
    mean, half = sum(delays) / len(delays), Z * d / math.sqrt(len(delays))  # exponential: sd = mean
    assert abs(mean - d) <= half, (mean, d)
    q = keep_probability(w, scenario.militia.decision)  # logistic((w - keep) / s)
    assert q == pytest.approx(1 / (1 + math.exp(-(w - keep) / s)), rel=1e-15)
    assert reviewed == decided  # every declared truce meets its first review before 31 March
    assert abs(renewed / reviewed - q) <= Z * math.sqrt(q * (1 - q) / reviewed), (renewed, reviewed, q)


def test_quiet_worlds_never_decide_a_truce():
    """The test worlds' militias (weights 0, noise 1e-3) are below the threshold by 1000 noise scales."""
    spec = quiet().militia.decision
    assert all(getattr(spec, w) == 0.0 for w in NO_WEIGHTS) and truce_probability(0.0, spec.noise_scale) == 0.0
