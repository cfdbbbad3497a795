"""The attack intensity of one threat kind, and a signal when it changes.

Intensity (attacks/day) = ``base_rate_per_day`` x regime multiplier x relapse factor x policy
factor, where the policy factor is the product of named factors that the actors set and clear
(a strike's capacity loss, sanctions ...). The restraint, the share of the militias' own
attacks (follow-ups, revenge, backlash) that go ahead, is the pause regime's multiplier while
the campaign is paused, times the relapse factor after a pause. Processes that wait at the
current rate wait on ``changed`` too, so that a change cuts into their wait (see
:mod:`sim.model.campaign`).
"""

from __future__ import annotations

import math

import simpy

from sim.model.signals import Broadcast


class Intensity:
    """The current attack intensity of one kind."""

    def __init__(self, env: simpy.Environment, base_rate_per_day: float, regime: str, multiplier: float) -> None:
        self.base_rate_per_day = base_rate_per_day
        self.regime = regime
        self.regime_multiplier = multiplier
        self.paused = False  # in the pause regime
        self.relapse = 1.0  # below 1 while attacks recover from a pause
        self.factors: dict[str, float] = {}
        self.changed = Broadcast(env)

    @property
    def policy_factor(self) -> float:
        return math.prod(self.factors.values())

    @property
    def rate_per_day(self) -> float:
        return self.base_rate_per_day * self.regime_multiplier * self.relapse * self.policy_factor

    @property
    def restraint(self) -> float:
        """Share of the militias' own attacks of this kind that go ahead (1 outside pauses and relapses)."""
        return (self.regime_multiplier if self.paused else 1.0) * self.relapse

    def set_regime(self, regime: str, multiplier: float, paused: bool = False) -> None:
        self.regime, self.regime_multiplier, self.paused = regime, multiplier, paused
        self.changed.publish()

    def set_relapse(self, factor: float) -> None:
        self.relapse = factor
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
