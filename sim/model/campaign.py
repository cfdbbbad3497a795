"""The militia campaign: when attacks happen.

For each attack kind the intensity (attacks/day) is

    base_rate_per_day x regime multiplier x policy factor

plus self-excitation. The regime is a Markov chain (calm, active, surge ...) run
separately for each kind; it makes quarterly counts overdispersed. Self-excitation uses the
cluster form of a Hawkes process: every attack, whatever its origin, triggers
Poisson(``branching_ratio``) follow-up attacks of its kind after exponential delays with
mean ``excitation_decay_days``. Policy processes change intensity through
:meth:`Intensity.set_factor` (e.g. a strike that degrades capacity); follow-ups are thinned
by the policy factor when it is below one.

Arrivals use the time-change method: each wait consumes one unit-rate exponential
"budget", spent at the current rate; when the rate changes mid-wait the unspent budget
carries over. The draws thus stay aligned across scenarios whose policies change the rate
(common random numbers), and the process is exact for piecewise-constant intensity.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TYPE_CHECKING, Callable, Generator

import numpy as np
import simpy

from sim.policy.intelligence import approach
from sim.model.records import Kind
from sim.model.signals import Broadcast

if TYPE_CHECKING:
    from sim.model.world import World


class AttackKind(StrEnum):
    ROCKET = "rocket"
    DRONE = "drone"
    CONVOY = "convoy"
    SECURITY_DETAIL = "security_detail"


THREAT_SECTION = {
    AttackKind.ROCKET: "rocket",
    AttackKind.DRONE: "drone",
    AttackKind.CONVOY: "convoy_ied",
    AttackKind.SECURITY_DETAIL: "security_detail_ied",
}

AttackProcess = Callable[["World", str, np.random.Generator, str], Generator[simpy.Event, object, None]]


class Intensity:
    """The current attack intensity of one kind, and a signal when it changes."""

    def __init__(self, env: simpy.Environment, base_rate_per_day: float, regime: str, multiplier: float) -> None:
        self.base_rate_per_day = base_rate_per_day
        self.regime = regime
        self.regime_multiplier = multiplier
        self.factors: dict[str, float] = {}
        self.changed = Broadcast(env)

    @property
    def policy_factor(self) -> float:
        return math.prod(self.factors.values())

    @property
    def rate_per_day(self) -> float:
        return self.base_rate_per_day * self.regime_multiplier * self.policy_factor

    def set_regime(self, regime: str, multiplier: float) -> None:
        self.regime, self.regime_multiplier = regime, multiplier
        self.changed.publish()

    def set_factor(self, name: str, factor: float) -> None:
        """Set a named multiplicative policy factor (1.0 removes its effect)."""
        if factor < 0 or not math.isfinite(factor):
            raise ValueError(f"intensity factor {name} = {factor} must be finite and >= 0")
        self.factors[name] = factor
        self.changed.publish()

    def clear_factor(self, name: str) -> None:
        """Remove a policy factor (its effect has worn off)."""
        if self.factors.pop(name, None) is not None:
            self.changed.publish()


def initial_regime(world: "World", kind: AttackKind) -> tuple[str, float]:
    """Draw the regime a kind starts in, in proportion to the regimes' entry weights."""
    regimes = world.scenario.campaign.regimes
    name = pick_weighted(list(regimes), [r.entry_weight for r in regimes.values()], world.streams.get(f"regime.{kind}").random())
    return name, regimes[name].multiplier


def pick_weighted(names: list[str], weights: list[float], u: float) -> str:
    """The name whose share of the cumulative weight holds ``u`` (inverse CDF)."""
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
    return names[min(index, len(names) - 1)]


def campaign_regimes(world: "World", kind: AttackKind) -> Generator[simpy.Event, None, None]:
    """Move one kind's campaign through its regimes: exponential sojourns, then a jump to
    another regime drawn in proportion to entry weights."""
    regimes = world.scenario.campaign.regimes
    intensity = world.intensity[kind]
    rng = world.streams.get(f"regime.{kind}")
    while True:
        yield world.env.timeout(rng.exponential(regimes[intensity.regime].mean_duration_days))
        others = [n for n in regimes if n != intensity.regime and regimes[n].entry_weight > 0]
        if not others:
            continue
        nxt = pick_weighted(others, [regimes[n].entry_weight for n in others], rng.random())
        intensity.set_regime(nxt, regimes[nxt].multiplier)
        world.ledger.record(world.env.now, Kind.REGIME, None, None, 1, f"{kind}: {nxt}")


def attack_arrivals(world: "World", kind: AttackKind) -> Generator[simpy.Event, object, None]:
    """Background ("immigrant") attacks of one kind at the current intensity."""
    env, intensity = world.env, world.intensity[kind]
    rng = world.streams.get(f"arrivals.{kind}")
    budget = rng.exponential()
    while True:
        rate = intensity.rate_per_day
        if rate <= 0.0:
            yield intensity.changed.wait()
            continue
        started = env.now
        timer = env.timeout(budget / rate)
        fired = yield timer | intensity.changed.wait()
        if timer in fired:
            launch_attack(world, kind, "background")
            budget = rng.exponential()
        else:
            budget = max(0.0, budget - rate * (env.now - started))


def launch_attack(
    world: "World", kind: AttackKind, origin: str, generation: int = 0, parent: str | None = None, child: int = 0
) -> None:
    """Start an attack with its own random stream, and schedule the follow-up attacks it
    triggers (self-excitation). No attack starts after the horizon.

    Streams are named so that one attack never takes another's randomness: background
    attacks of a kind are numbered in order (``rocket-12``), follow-ups by their parent
    (``rocket-12.0``: the parent's first follow-up), revenge and backlash attacks in their
    own sequences (``rocket.revenge-3``). ``generation`` is the attack's place in an
    escalation chain (0 unless it avenges a strike); follow-ups inherit it. The attack then
    approaches its target, possibly announced by a warning (:func:`sim.intelligence.approach`).
    """
    if not world.accepting_attacks:
        return
    if parent is not None:
        attack, rng = f"{parent}.{child}", world.streams.fresh(parent, child)
    else:
        stream = str(kind) if origin == "background" else f"{kind}.{origin}"
        index = world.next_attack_index(stream)
        attack, rng = f"{stream}-{index}", world.streams.fresh(stream, index)
    campaign = world.scenario.campaign
    offspring = rng.poisson(campaign.branching_ratio)
    delays = rng.exponential(campaign.excitation_decay_days, offspring)
    keeps = rng.random(offspring)
    for j, (delay, keep) in enumerate(zip(delays, keeps)):
        world.env.process(follow_up(world, kind, float(delay), float(keep), generation, attack, j))
    world.generation[attack] = generation
    world.env.process(approach(world, kind, attack, rng, origin))


def follow_up(
    world: "World", kind: AttackKind, delay_d: float, keep_u: float, generation: int, parent: str, child: int
) -> Generator[simpy.Event, None, None]:
    """Follow-up ``child`` of attack ``parent``: happens after ``delay_d`` unless policy has
    cut capacity."""
    yield world.env.timeout(delay_d)
    if keep_u < min(1.0, world.intensity[kind].policy_factor):
        launch_attack(world, kind, "follow-up", generation, parent, child)
