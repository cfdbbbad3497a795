"""The militia campaign: when attacks happen, and how each one approaches its target.

For each threat kind the intensity (attacks/day) is

    base_rate_per_day x regime multiplier x policy factor

plus self-excitation. The regime is a Markov chain (calm, active, surge ...) run separately
for each kind; it makes quarterly counts overdispersed. Self-excitation uses the cluster form
of a Hawkes process: every attack, whatever its origin, triggers Poisson(``branching_ratio``)
follow-up attacks of its kind after exponential delays with mean ``excitation_decay_days``.
Actors change intensity through :meth:`~sim.model.intensity.Intensity.set_factor` (a strike
that degrades capacity, say); follow-ups are thinned by the policy factor when it is below one.

Arrivals use the time-change method: each wait consumes one unit-rate exponential "budget",
spent at the current rate; when the rate changes mid-wait the unspent budget carries over. The
draws thus stay aligned across scenarios whose policies change the rate (common random
numbers), and the process is exact for piecewise-constant intensity.
"""

from __future__ import annotations

import math
from typing import Generator

import numpy as np
import simpy

from sim.config.calendar import hours
from sim.config.scenario import Regime
from sim.model.draws import pick_weighted
from sim.model.intensity import Intensity
from sim.model.records import Origin, record_kind
from sim.model.threats import Threat
from sim.model.world import Phase, WarningDraws, World

REGIME = record_kind("regime", "a campaign regime begins (detail: threat and regime)")
WARNING = record_kind("warning", "intelligence warns of an imminent attack")
ATTACK_PREVENTED = record_kind("attack_prevented", "a warned attack was stopped by a pre-emptive strike")


def start_campaign(world: World, threat: Threat) -> None:
    """The threat's intensity in its first regime (drawn in proportion to entry weights)."""
    campaign = world.scenario.campaign
    regimes = campaign.regimes
    index = pick_weighted([r.entry_weight for r in regimes.values()], world.streams.get(f"regime.{threat.name}").random())
    name = list(regimes)[index]
    base = threat.spec(world.scenario).base_rate_per_day
    intensity = world.intensity[threat.name] = Intensity(world.env, base, name, regimes[name].multiplier)
    intensity.paused = name == campaign.pause_regime


def sojourn_days(mean_days: float, log_sd: float, rng: np.random.Generator) -> float:
    """How long a regime or a pause lasts: exponential with the given mean (``log_sd`` 0), or
    lognormal with that mean and log-sd."""
    if log_sd == 0:
        return float(rng.exponential(mean_days))
    return float(rng.lognormal(math.log(mean_days) - log_sd * log_sd / 2, log_sd))


def regime_sojourn(regime: Regime, rng: np.random.Generator) -> float:
    return sojourn_days(regime.mean_duration_days, regime.duration_log_sd, rng)


def campaign_regimes(world: World, threat: Threat) -> Generator[simpy.Event, None, None]:
    """Move one kind's campaign through its regimes: a sojourn, then a jump to another regime
    drawn in proportion to entry weights. A truce or a strike cuts in (:func:`pause_campaign`)
    and sends the campaign into the pause regime for as long as it says; when a pause ends,
    attacks relapse (:func:`relapse`)."""
    campaign = world.scenario.campaign
    regimes, pause = campaign.regimes, campaign.pause_regime
    intensity = world.intensity[threat.name]
    rng = world.streams.get(f"regime.{threat.name}")
    sojourn = regime_sojourn(regimes[intensity.regime], rng)
    while True:
        try:
            yield world.env.timeout(sojourn)
        except simpy.Interrupt as interrupt:
            sojourn, cause = interrupt.cause
            _stop_relapse(world, threat)
            intensity.set_regime(pause, regimes[pause].multiplier, paused=True)
            world.ledger.record(REGIME, detail=f"{threat.name}: {pause} ({cause}, {sojourn:.0f} days)")
            continue
        was_paused = intensity.paused
        others = [n for n in regimes if n != intensity.regime and regimes[n].entry_weight > 0]
        if others:
            nxt = others[pick_weighted([regimes[n].entry_weight for n in others], rng.random())]
            intensity.set_regime(nxt, regimes[nxt].multiplier, paused=nxt == pause)
            world.ledger.record(REGIME, detail=f"{threat.name}: {nxt}")
            if was_paused and not intensity.paused and campaign.relapse_fraction < 1.0:
                world.relapses[threat.name] = world.env.process(relapse(world, threat))
        sojourn = regime_sojourn(regimes[intensity.regime], rng)


def pause_campaign(world: World, threat_name: str, days: float, cause: str) -> None:
    """Send a threat's campaign into the pause regime for ``days`` (a truce, a strike's blow)."""
    world.campaigns[threat_name].interrupt((days, cause))


def relapse(world: World, threat: Threat) -> Generator[simpy.Event, None, None]:
    """After a pause, attacks resume at ``relapse_fraction`` of their level and recover
    linearly, in daily steps, over ``relapse_recovery_days``."""
    campaign, intensity = world.scenario.campaign, world.intensity[threat.name]
    steps = max(1, math.ceil(campaign.relapse_recovery_days))
    try:
        for step in range(steps):
            intensity.set_relapse(campaign.relapse_fraction + (1 - campaign.relapse_fraction) * step / steps)
            yield world.env.timeout(campaign.relapse_recovery_days / steps)
        intensity.set_relapse(1.0)
    except simpy.Interrupt:
        return


def _stop_relapse(world: World, threat: Threat) -> None:
    running = world.relapses.pop(threat.name, None)
    if running is not None and running.is_alive:
        running.interrupt("paused again")
    world.intensity[threat.name].relapse = 1.0


def attack_arrivals(world: World, threat: Threat) -> Generator[simpy.Event, object, None]:
    """Background ("immigrant") attacks of one kind at the current intensity."""
    env, intensity = world.env, world.intensity[threat.name]
    rng = world.streams.get(f"arrivals.{threat.name}")
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
            launch_attack(world, threat, Origin.BACKGROUND)
            budget = rng.exponential()
        else:
            budget = max(0.0, budget - rate * (env.now - started))


def launch_attack(
    world: World, threat: Threat, origin: Origin, generation: int = 0, parent: str | None = None, child: int = 0
) -> None:
    """Start an attack with its own random stream, and schedule the follow-up attacks it
    triggers (self-excitation). No attack starts after the horizon.

    Streams are named so that one attack never takes another's randomness: background
    attacks of a kind are numbered in order (``rocket-12``), follow-ups by their parent
    (``rocket-12.0``: the parent's first follow-up), revenge and backlash attacks in their
    own sequences (``rocket.revenge-3``). ``generation`` is the attack's place in an
    escalation chain (0 unless it avenges a strike); follow-ups inherit it.
    """
    if world.phase is not Phase.RUNNING:
        return
    if parent is not None:
        attack, rng = f"{parent}.{child}", world.streams.fresh(parent, child)
    else:
        stream = threat.name if origin is Origin.BACKGROUND else f"{threat.name}.{origin}"
        index = world.next_attack_index(stream)
        attack, rng = f"{stream}-{index}", world.streams.fresh(stream, index)
    campaign = world.scenario.campaign
    offspring = rng.poisson(campaign.branching_ratio)
    delays = rng.exponential(campaign.excitation_decay_days, offspring)
    keeps = rng.random(offspring)
    for j, (delay, keep) in enumerate(zip(delays, keeps)):
        world.env.process(follow_up(world, threat, float(delay), float(keep), generation, attack, j))
    world.generation[attack] = generation
    world.env.process(approach(world, threat, attack, rng, origin))


def follow_up(
    world: World, threat: Threat, delay_d: float, keep_u: float, generation: int, parent: str, child: int
) -> Generator[simpy.Event, None, None]:
    """Follow-up ``child`` of attack ``parent``: happens after ``delay_d`` unless policy has
    cut capacity or the campaign is paused or relapsing (the share that goes ahead is the
    product of the policy factor and the restraint)."""
    yield world.env.timeout(delay_d)
    intensity = world.intensity[threat.name]
    if keep_u < min(1.0, intensity.policy_factor * intensity.restraint):
        launch_attack(world, threat, Origin.FOLLOW_UP, generation, parent, child)


def approach(world: World, threat: Threat, attack: str, rng: np.random.Generator, origin: Origin) -> Generator[simpy.Event, object, None]:
    """An attack on its way: perhaps announced by intelligence ``warning_lead_h`` ahead (and
    then perhaps prevented by the actors that hear of it), then carried out.

    The warning's uniforms are drawn for every attack, warned or not, so that policies do not
    shift the attack's other random numbers."""
    env, spec = world.env, world.scenario.policy.us.preemption
    u_warn, *warning = rng.random(4).tolist()
    if threat.warnable and u_warn < spec.warning_prob:
        world.ledger.record(WARNING, None, attack, detail=f"{threat.name} attack expected")
        prevented = world.warnings is not None and world.warnings.on_warning(attack, WarningDraws(*warning))
        yield env.timeout(hours(spec.warning_lead_h))
        if prevented:
            world.ledger.record(ATTACK_PREVENTED, None, attack, detail=threat.name)
            return
        if world.phase is not Phase.RUNNING:
            return
    unfolding = threat.attack(world, attack, rng, origin)
    if unfolding is not None:
        yield from unfolding
