"""The attack intensity of one threat kind, and who hears when it changes.

Intensity (attacks/day) = ``base_rate_per_day`` x regime multiplier x relapse factor x policy
factor, where the policy factor is the product of named factors that the actors set and clear
(a strike's capacity loss, sanctions ...). The restraint, the share of the militias' own
attacks (follow-ups, revenge, backlash) that go ahead, is the pause regime's multiplier while
the campaign is paused, times the relapse factor after a pause.

After a pause, attacks relapse: the relapse factor starts at a fraction and rises to 1 in
equal daily steps (:class:`Relapse`). The steps are a schedule the intensity knows in
advance, not events: the kind's background arrivals (:class:`sim.model.campaign.Arrivals`)
spend their waiting budget across the steps, and hear only of the changes nobody could
schedule (a regime change, a policy factor, a relapse beginning or cut short).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Relapse:
    """A relapse that began at ``start_d``: the factor is ``fraction`` until the first step,
    rises by (1 - fraction) / ``steps`` at each of ``steps`` steps ``step_d`` apart, and is 1
    from the last."""

    start_d: float
    fraction: float
    steps: int
    step_d: float

    @property
    def end_d(self) -> float:
        """When the factor reaches 1 (the last step)."""
        return self.start_d + self.steps * self.step_d

    def steps_taken(self, t: float) -> int:
        """Steps at times ``start_d + k * step_d`` (k = 1 .. steps) at or before ``t``."""
        k = min(self.steps, max(0, math.floor((t - self.start_d) / self.step_d)))
        if k < self.steps and self.start_d + (k + 1) * self.step_d <= t:  # the floor rounded down
            k += 1
        elif k > 0 and self.start_d + k * self.step_d > t:  # or up
            k -= 1
        return k

    def factor_at(self, t: float) -> float:
        if t >= self.end_d:
            return 1.0
        return self.fraction + (1.0 - self.fraction) * self.steps_taken(t) / self.steps

    def pieces(self, t: float) -> Iterator[tuple[float, float, float]]:
        """(from, to, factor): the factor's constant pieces from ``t`` on; the last, at 1, has
        no end (``to`` is infinity)."""
        k = self.steps_taken(t)
        while k < self.steps:
            step = self.start_d + (k + 1) * self.step_d
            yield t, step, self.fraction + (1.0 - self.fraction) * k / self.steps
            t, k = step, k + 1
        yield t, math.inf, 1.0


class Intensity:
    """The current attack intensity of one kind; ``clock`` gives the simulation time."""

    def __init__(self, base_rate_per_day: float, regime: str, multiplier: float, clock: Callable[[], float]) -> None:
        self.base_rate_per_day = base_rate_per_day
        self.regime = regime
        self.regime_multiplier = multiplier
        self.paused = False  # in the pause regime
        self.relapsing: Relapse | None = None  # the relapse after the last pause, if any
        self.factors: dict[str, float] = {}
        self._policy_factor = 1.0  # the product of the factors
        self._clock = clock
        self._listener: Callable[[], None] | None = None

    @property
    def policy_factor(self) -> float:
        return self._policy_factor

    @property
    def level_per_day(self) -> float:
        """The intensity without the relapse factor (attacks/day)."""
        return self.base_rate_per_day * self.regime_multiplier * self._policy_factor

    @property
    def relapse(self) -> float:
        """The relapse factor now (1 outside relapses)."""
        return 1.0 if self.relapsing is None else self.relapsing.factor_at(self._clock())

    @property
    def rate_per_day(self) -> float:
        return self.level_per_day * self.relapse

    @property
    def restraint(self) -> float:
        """Share of the militias' own attacks of this kind that go ahead (1 outside pauses and relapses)."""
        return (self.regime_multiplier if self.paused else 1.0) * self.relapse

    def set_regime(self, regime: str, multiplier: float, paused: bool = False) -> None:
        self.regime, self.regime_multiplier, self.paused = regime, multiplier, paused
        self._changed()

    def start_relapse(self, fraction: float, days: float) -> None:
        """Attacks resume at ``fraction`` of their level now and recover linearly, in daily
        steps, over ``days``."""
        steps = max(1, math.ceil(days))
        self.relapsing = Relapse(self._clock(), fraction, steps, days / steps)
        self._changed()

    def end_relapse(self) -> None:
        """Cut a relapse short (the campaign is paused again)."""
        if self.relapsing is not None:
            self.relapsing = None
            self._changed()

    def set_factor(self, name: str, factor: float) -> None:
        """Set a named multiplicative policy factor (1.0 removes its effect)."""
        if factor < 0 or not math.isfinite(factor):
            raise ValueError(f"intensity factor {name} = {factor} must be finite and >= 0")
        self.factors[name] = factor
        self._policy_factor = math.prod(self.factors.values())
        self._changed()

    def clear_factor(self, name: str) -> None:
        """Remove a policy factor (its effect has worn off)."""
        if name in self.factors:
            del self.factors[name]
            self._policy_factor = math.prod(self.factors.values())
            self._changed()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the intensity changes (the kind's background arrivals)."""
        self._listener = listener

    def _changed(self) -> None:
        if self._listener is not None:
            self._listener()
