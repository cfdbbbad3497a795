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
from collections.abc import Generator

import numpy as np
import simpy

from sim.config.calendar import hours
from sim.config.scenario import Regime
from sim.model.draws import pick_weighted, poisson_quantile
from sim.model.intensity import Intensity
from sim.model.records import Origin, record_kind
from sim.model.schedule import Later, after
from sim.model.streams import AttackPhase
from sim.model.threats import Threat
from sim.model.world import Phase, WarningDraws, World

REGIME = record_kind("regime", "a campaign regime begins (detail: threat and regime)")
WARNING = record_kind("warning", "intelligence warns of an imminent attack")
ATTACK_PREVENTED = record_kind("attack_prevented", "a warned attack was stopped by a pre-emptive strike")


def start_campaign(world: World, threat: Threat) -> None:
    """The threat's intensity in its first regime (drawn in proportion to entry weights)."""
    campaign = world.scenario.campaign
    regimes = campaign.regimes
    index = pick_weighted(
        [r.entry_weight for r in regimes.values()], world.streams.get(f"regime.{threat.name}").random()
    )
    name = list(regimes)[index]
    base = threat.spec(world.scenario).base_rate_per_day
    intensity = world.intensity[threat.name] = Intensity(base, name, regimes[name].multiplier, lambda: world.env.now)
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
    drawn in proportion to entry weights. A truce cuts in (:func:`pause_campaign`) and sends the
    campaign into the pause regime until it ends (:func:`resume_campaign`); when a pause ends,
    attacks relapse (:meth:`~sim.model.intensity.Intensity.start_relapse`)."""
    campaign = world.scenario.campaign
    regimes, pause = campaign.regimes, campaign.pause_regime
    intensity = world.intensity[threat.name]
    rng = world.streams.get(f"regime.{threat.name}")
    # from each regime, the others it can jump to and their weights (the scenario is frozen)
    jumps = {name: [n for n in regimes if n != name and regimes[n].entry_weight > 0] for name in regimes}
    weights = {name: [regimes[n].entry_weight for n in others] for name, others in jumps.items()}
    sojourn = regime_sojourn(regimes[intensity.regime], rng)
    while True:
        try:
            yield world.env.timeout(sojourn)
        except simpy.Interrupt as interrupt:
            sojourn, cause = interrupt.cause
            if sojourn > 0:  # a pause; 0 is a resumption: leave the pause at once, below
                intensity.end_relapse()
                intensity.set_regime(pause, regimes[pause].multiplier, paused=True)
                length = "until resumed" if math.isinf(sojourn) else f"{sojourn:.0f} days"
                world.ledger.record(REGIME, detail=f"{threat.name}: {pause} ({cause}, {length})")
            continue
        was_paused = intensity.paused
        others = jumps[intensity.regime]
        if others:
            nxt = others[pick_weighted(weights[intensity.regime], rng.random())]
            intensity.set_regime(nxt, regimes[nxt].multiplier, paused=nxt == pause)
            world.ledger.record(REGIME, detail=f"{threat.name}: {nxt}")
            if was_paused and not intensity.paused and campaign.relapse_fraction < 1.0:
                intensity.start_relapse(campaign.relapse_fraction, campaign.relapse_recovery_days)
        sojourn = regime_sojourn(regimes[intensity.regime], rng)


def pause_campaign(world: World, threat_name: str, days: float, cause: str) -> None:
    """Send a threat's campaign into the pause regime for ``days`` (infinity: until
    :func:`resume_campaign`)."""
    world.campaigns[threat_name].interrupt((days, cause))


def resume_campaign(world: World, threat_name: str, cause: str) -> None:
    """End a threat's pause now (a truce is over): the campaign jumps to another regime and
    attacks relapse. A campaign that is not paused is left alone."""
    if world.intensity[threat_name].paused:
        world.campaigns[threat_name].interrupt((0.0, cause))


class Arrivals:
    """Background ("immigrant") attacks of one kind at the current intensity.

    The wait for the next attack is a timer rather than a process: every change of intensity
    must cut into it (each capacity loss and its recovery, each regime: hundreds in a
    replication), and replacing a timer costs a fraction of interrupting a process. A
    replaced timer is cancelled: it still fires, and does nothing. Between changes the intensity is its level
    times the relapse factor, whose steps are known in advance: the budget is spent across
    them without an event at each step.
    """

    def __init__(self, world: World, threat: Threat) -> None:
        self.world, self.threat = world, threat
        self.intensity = world.intensity[threat.name]
        self.rng = world.streams.get(f"arrivals.{threat.name}")
        self.budget = self.rng.exponential()  # unit-rate exponential, spent at the intensity
        self.since, self.level, self.relapsing = 0.0, 0.0, None  # since when, at what
        self._timer: Later | None = None
        self._launching = False
        self.intensity.on_change(self.rate_changed)
        self._wait()

    def _wait(self) -> None:
        """Set the timer for when the budget runs out at the current intensity (none if never)."""
        env, intensity = self.world.env, self.intensity
        now, relapsing = env._now, intensity.relapsing
        if relapsing is not None and now >= relapsing.end_d:
            relapsing = None  # over: the factor is 1 from now on
        self.since, self.level, self.relapsing = now, intensity.level_per_day, relapsing
        if self._timer is not None:
            self._timer.cancel()
        due = self._due()
        self._timer = Later(env, due - now, self._arrive, ()) if due < math.inf else None

    def _due(self) -> float:
        if self.level <= 0.0:
            return math.inf
        if self.relapsing is None:
            return self.since + self.budget / self.level
        budget = self.budget
        for start, end, factor in self.relapsing.pieces(self.since):
            rate = self.level * factor
            if rate > 0.0 and start + budget / rate <= end:
                return start + budget / rate
            budget -= rate * (end - start)
        raise AssertionError("the last piece of a relapse has no end")

    def _spent(self, until: float) -> float:
        """The budget spent since the timer was set."""
        if self.relapsing is None:
            return self.level * (until - self.since)
        spent = 0.0
        for start, end, factor in self.relapsing.pieces(self.since):
            spent += self.level * factor * (min(end, until) - start)
            if end >= until:
                return spent
        raise AssertionError("the last piece of a relapse has no end")

    def _arrive(self) -> None:
        self._timer = None
        self._launching = True  # changes the launch makes are read below, with the new budget
        launch_attack(self.world, self.threat, Origin.BACKGROUND)
        self._launching = False
        self.budget = self.rng.exponential()
        self._wait()

    def rate_changed(self) -> None:
        """The intensity changed: keep the unspent budget, and wait for it at the new intensity."""
        if self._launching:
            return
        self.budget = max(0.0, self.budget - self._spent(self.world.env.now))
        self._wait()


def launch_attack(
    world: World, threat: Threat, origin: Origin, generation: int = 0, parent: str | None = None, child: int = 0
) -> None:
    """Launch an attack: schedule the follow-up attacks it triggers (self-excitation), let
    intelligence warn of it, and carry it out. No attack starts after the horizon.

    An attack's draws come from its own stream, named after it: background attacks of a kind
    are numbered in order (``rocket-12``), follow-ups by their parent (``rocket-12.0``: the
    parent's first follow-up), revenge and backlash attacks in their own sequences
    (``rocket.revenge-3``). ``generation`` is the attack's place in an escalation chain (0
    unless it avenges a strike); follow-ups inherit it.

    The warning's uniforms are drawn for every attack, warned or not, so that policies do not
    shift the attack's other random numbers.
    """
    if world.phase is not Phase.RUNNING:
        return
    if parent is not None:
        attack = f"{parent}.{child}"
    else:
        stream = threat.name if origin is Origin.BACKGROUND else f"{threat.name}.{origin}"
        attack = f"{stream}-{world.next_attack_index(stream)}"
    campaign, env = world.scenario.campaign, world.env
    rng = world.streams.at_once(attack, AttackPhase.LAUNCH)
    u_offspring, u_warn, *warning = rng.random(5).tolist()
    offspring = poisson_quantile(campaign.branching_ratio, u_offspring)
    world.generation[attack] = generation
    if offspring:
        decay = -campaign.excitation_decay_days
        for child, (u_delay, keep) in enumerate(rng.random((offspring, 2)).tolist()):  # (delay, keep) uniforms
            # exponential delay, by inverse CDF
            Later(env, decay * math.log1p(-u_delay), follow_up, (world, threat, keep, generation, attack, child))
    spec = world.scenario.policy.us.preemption
    if not (threat.warnable and u_warn < spec.warning_prob):
        carry_out(world, threat, attack, origin)
        return
    world.ledger.record(WARNING, None, attack, detail=f"{threat.name} attack expected")
    prevented = world.warnings is not None and world.warnings.on_warning(attack, WarningDraws(*warning))
    after(env, hours(spec.warning_lead_h), warned_attack, world, threat, attack, origin, prevented)


def follow_up(world: World, threat: Threat, keep_u: float, generation: int, parent: str, child: int) -> None:
    """Follow-up ``child`` of attack ``parent``, when its delay is up: it happens unless policy
    has cut capacity or the campaign is paused or relapsing (the share that goes ahead is the
    product of the policy factor and the restraint)."""
    intensity = world.intensity[threat.name]
    if keep_u < min(1.0, intensity.policy_factor * intensity.restraint):
        launch_attack(world, threat, Origin.FOLLOW_UP, generation, parent, child)


def warned_attack(world: World, threat: Threat, attack: str, origin: Origin, prevented: bool) -> None:
    """A warned attack, ``warning_lead_h`` after its warning: stopped if a pre-emptive strike
    prevented it, called off if the horizon has passed, else carried out."""
    if prevented:
        world.ledger.record(ATTACK_PREVENTED, None, attack, detail=threat.name)
    elif world.phase is Phase.RUNNING:
        carry_out(world, threat, attack, origin)


def carry_out(world: World, threat: Threat, attack: str, origin: Origin) -> None:
    """Carry the attack out with the draws of that phase; an attack that unfolds over time
    (a generator) becomes a process."""
    unfolding = threat.attack(world, attack, world.streams.at_once(attack, AttackPhase.CARRY_OUT), origin)
    if unfolding is not None:
        world.env.process(unfolding)
