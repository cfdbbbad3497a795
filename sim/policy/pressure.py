"""What the actors can do to the militias: the narrow interface Washington and Baghdad are
handed (implemented by :class:`sim.policy.militia.Militia`)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sim.model.records import Origin


class Pressure(Protocol):
    def cut_capacity(self, source: str, loss: float, days: float) -> str:
        """Lower every threat's intensity by the fraction ``loss`` for ``days``; return a
        handle that :meth:`lift` takes to end the cut early."""
        ...

    def lift(self, handle: str) -> None:
        """End a capacity cut before its time (detainees released, say)."""
        ...

    def sanctioned(self, capacity_loss: float) -> None:
        """Standing sanctions now cost the militias ``capacity_loss`` of their capacity."""
        ...

    def struck(self, generation: int, rng: np.random.Generator, reason: str) -> None:
        """A U.S. strike hit the militias: lost capacity, perhaps revenge (drawn from ``rng``,
        the strike's own stream)."""
        ...

    def declare_truce(self, reason: str) -> None:
        """The militias declare a truce (a dated event of the record)."""
        ...

    def extra_attacks(
        self, count: int, mean_delay_d: float, generation: int, rng: np.random.Generator, origin: Origin
    ) -> None:
        """Schedule ``count`` attacks on U.S. sites at exponential delays (backlash, say)."""
        ...
