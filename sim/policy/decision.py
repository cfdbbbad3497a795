"""The militias' decisions to hold fire: what they weigh, and the rule they follow
(docs/sources.md#decisions).

Their objective is the departure of U.S. forces from Iraq; attacks serve it by raising the cost
of staying, and cost the groups strikes on their members, Iraqi arrests, standing in Iraqi
politics and Tehran's favour. What they hear of moves their *hold value* ``H``, the value of
holding fire, in units of the truce threshold: each input of :data:`INPUTS` adds its weight
(``militia.decision.<channel>_weight``), and the addition fades with mean life ``memory_days``
(an agreed timetable's holds until its deadline, then fades)::

    H(t) = sum over inputs i of  w_i * exp(-max(0, t - until_i) / memory_days)

with ``until_i`` the input's time (an agreement: its deadline). The militias weigh ``H + e``, where
``e``, the unobserved part of their resolve, is logistic with scale ``noise_scale`` (a
random-utility choice, McFadden 1974) and is drawn afresh at each *review* of their stance
(lognormal intervals, ``review_mean_days`` and ``review_log_sd``), not at each input, so an input
that weighs nothing changes no decision. Every input and every review is an occasion to decide:

- at war: ``H + e >= 1`` decides a truce, declared after an exponential deliberation (mean
  ``deliberation_days``); so at a first occasion P(truce) = 1 / (1 + exp(-(H - 1) / noise_scale));
- deciding or in a truce: ``H + e < keep_level`` drops it: the truce's condition has failed (a
  strike, a stalled withdrawal, promises gone stale), and attacks resume;
- a declared truce restarts the review clock: its first review comes a full interval later (its
  term), and renews it (``H + e >= keep_level`` with a fresh ``e``) or ends it.

The statistical core (regimes, self-excitation, revenge) stays the noise around these choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.config.levers import Decision
from sim.model.records import RecordKind
from sim.policy.baghdad import IRAQI_OPERATION, IRAQI_RAID
from sim.policy.politics import AGREEMENT, ELECTION, IRANIAN_DIRECTION, TALKS, THREAT, WITHDRAWAL
from sim.policy.washington import (
    COMBAT_ROLE_END,
    EMBASSY_CLOSED,
    STRIKE_PREEMPTIVE,
    STRIKE_RETALIATORY,
    TROOP_REDUCTION,
    ULTIMATUM,
)

THRESHOLD = 1.0  # the hold value at which a truce is as likely as not (the unit of the weights)


@dataclass(frozen=True)
class Input:
    """A kind of record the militias weigh: its weight is ``militia.decision.<weight>``; the
    ``channel`` says what it changes for them; ``holds``: the effect lasts ``count`` days (an
    agreement's deadline), then fades."""

    kind: RecordKind
    weight: str
    channel: str
    holds: bool = False

    def weight_in(self, spec: Decision) -> float:
        return getattr(spec, self.weight)


INPUTS: tuple[Input, ...] = (
    Input(WITHDRAWAL, "withdrawal_weight", "expectation of departure"),
    Input(TROOP_REDUCTION, "withdrawal_weight", "expectation of departure"),
    Input(COMBAT_ROLE_END, "withdrawal_weight", "expectation of departure"),
    Input(EMBASSY_CLOSED, "withdrawal_weight", "expectation of departure"),
    Input(TALKS, "talks_weight", "expectation of departure"),
    Input(AGREEMENT, "agreement_weight", "expectation of departure", holds=True),
    Input(ULTIMATUM, "threat_weight", "cost of attacking"),
    Input(THREAT, "threat_weight", "cost of attacking"),
    Input(STRIKE_RETALIATORY, "strike_weight", "cost of attacking (or a grievance)"),
    Input(STRIKE_PREEMPTIVE, "strike_weight", "cost of attacking (or a grievance)"),
    Input(IRAQI_RAID, "arrest_weight", "cost of attacking (or a grievance)"),
    Input(IRAQI_OPERATION, "arrest_weight", "cost of attacking (or a grievance)"),
    Input(ELECTION, "election_weight", "standing in Iraqi politics"),
    Input(IRANIAN_DIRECTION, "iran_weight", "Iranian direction"),
)
INPUT_OF: dict[RecordKind, Input] = {i.kind: i for i in INPUTS}


def truce_probability(hold: float, noise_scale: float) -> float:
    """P(H + e >= 1) for e logistic with scale ``noise_scale``: the chance an occasion at war
    decides a truce."""
    z = (hold - THRESHOLD) / noise_scale
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def keep_probability(hold: float, spec: Decision) -> float:
    """P(H + e >= keep_level): the chance an occasion in a truce keeps it."""
    z = (hold - spec.keep_level) / spec.noise_scale
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


class HoldValue:
    """The militias' hold value over time: a fading sum, and the agreements held until their
    deadlines. Adding and reading cost O(1) plus one term per agreement in force or fading."""

    def __init__(self, memory_days: float) -> None:
        self.memory_days = memory_days
        self._fading, self._since = 0.0, 0.0  # the fading sum's value at time _since
        self._held: list[tuple[float, float]] = []  # (weight, until) of each agreement

    def add(self, now: float, weight: float, until: float | None = None) -> None:
        """An input of ``weight`` at ``now``, held until ``until`` if that is later."""
        if until is not None and until > now:
            self._held.append((weight, until))
            return
        self._fading = self._fade(now) + weight
        self._since = now

    def _fade(self, t: float) -> float:
        return self._fading * math.exp(-(t - self._since) / self.memory_days) if self._fading else 0.0

    def at(self, t: float) -> float:
        held = sum(w if t <= until else w * math.exp(-(t - until) / self.memory_days) for w, until in self._held)
        return self._fade(t) + held


# What acts on the militias outside their decisions: fixed factors of the model, the same whatever
# the militias decide (what it is, the parameters that set it). A comparison's report lists both.
FIXED_FACTORS: tuple[tuple[str, str], ...] = (
    (
        "capacity lost to U.S. strikes, Iraqi raids and operations, sanctions",
        "policy.us.strikes.capacity_loss, policy.iraq.raid_capacity_loss, ops_capacity_loss, policy.us.sanctions",
    ),
    ("revenge surges after a strike", "policy.us.strikes.revenge_prob, revenge_attacks_mean"),
    ("backlash after detainees are released", "policy.iraq.release_prob, backlash_attacks_mean"),
    ("warned attacks stopped by pre-emptive strikes", "policy.us.preemption"),
    ("launch success near the embassy: zone closures and clearing", "policy.iraq.iz_*, clearing_*"),
    ("interception and exposure: C-RAM, hardening, warning, fewer troops", "cram, damage, sites, troop reductions"),
    ("heavier salvos after attacks that hurt Americans", "militia.escalation_*"),
)
