"""Intelligence warnings: some rocket and drone attacks are announced hours before they come.

A warning gives Washington the chance to strike first (if its doctrine pre-empts and the
strike's collateral-damage risk is acceptable) and Baghdad the chance to close parts of the
International Zone or act on intelligence the U.S. shares. Which attacks are warned, and when
they come, is part of the attack's launch (:func:`sim.model.campaign.launch_attack`); this is the
listener the model tells.
"""

from __future__ import annotations

from sim.model.world import WarningDraws
from sim.policy.baghdad import Baghdad
from sim.policy.washington import Washington


class Intelligence:
    """Shares each warning with Washington, then with Baghdad (with what Washington shares)."""

    def __init__(self, washington: Washington, baghdad: Baghdad) -> None:
        self.washington, self.baghdad = washington, baghdad

    def on_warning(self, attack: str, draws: WarningDraws) -> bool:
        prevented = self.washington.on_warning(attack, draws.risk, draws.prevent)
        self.baghdad.on_warning(attack, self.washington.shares_intelligence(), draws.ops)
        return prevented
