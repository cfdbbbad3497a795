"""One replication's world: the SimPy environment and the state its processes share.

The world holds state, not behaviour: the event log, the sites, each threat's intensity,
the severity of salvos and the phase of the run. Processes of the model
(:mod:`sim.model.campaign`, the threat modules) and of the actors (:mod:`sim.policy`) act on
it; actors learn what happens by subscribing to the ledger, and the model asks them about
intelligence warnings through the narrow :class:`WarningListener` interface.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import NamedTuple, Protocol

import simpy

from sim.config.scenario import Scenario
from sim.model.intensity import Intensity
from sim.model.records import Ledger, record_budget
from sim.model.sites import Sites
from sim.model.streams import Streams


class Phase(Enum):
    """Attacks start only while the run is within its horizon; afterwards rounds already in
    the air land, so that every launched rocket and drone has a fate."""

    RUNNING = "running"
    SETTLING = "settling"


class WarningDraws(NamedTuple):
    """Uniforms drawn for every attack, warned or not, so that whether policy acts on a
    warning does not shift the attack's other random numbers (common random numbers)."""

    risk: float  # the collateral-damage risk of a pre-emptive strike
    prevent: float  # whether a pre-emptive strike stops the attack
    ops: float  # whether Baghdad acts on shared intelligence


class WarningListener(Protocol):
    """Who hears of an attack before it comes (intelligence shared among the actors)."""

    def on_warning(self, attack: str, draws: WarningDraws) -> bool:
        """React to the warning; True if the attack was prevented."""
        ...


class Severity:
    """How heavy salvos are: after an attack that hurt Americans, heavy salvos become likelier
    for a while (escalation of severity). The militias raise it; rocket salvos read it."""

    def __init__(self) -> None:
        self.boost = 1.0
        self.until_d = -math.inf

    def raise_until(self, until_d: float, boost: float) -> None:
        self.until_d, self.boost = until_d, boost

    def heavy_salvo_factor(self, now: float) -> float:
        return self.boost if now < self.until_d else 1.0


class World:
    """Everything one replication shares; built from a validated scenario and its streams."""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        self.streams = streams
        self.env = simpy.Environment()
        self.calendar = scenario.scenario.calendar
        self.ledger = Ledger(self.env, record_budget(self.calendar.horizon_days))
        self.sites = Sites(scenario, self.env, self.ledger)
        self.intensity: dict[str, Intensity] = {}  # threat name -> intensity (set by the campaign)
        self.campaigns: dict[str, simpy.Process] = {}  # threat name -> its campaign's regime process
        self.threat_state: dict[str, object] = {}  # threat name -> what a threat keeps per run
        self.severity = Severity()
        self.phase = Phase.RUNNING
        self.warnings: WarningListener | None = None
        self.generation: dict[str, int] = {}  # attack -> place in an escalation chain
        self.fatal_attacks: set[str] = set()  # attacks that killed U.S./coalition personnel
        self._attack_counts: dict[str, int] = {}

    def next_attack_index(self, stream: str) -> int:
        """The next number in an attack sequence (background rockets, revenge drones ...)."""
        index = self._attack_counts.get(stream, 0)
        self._attack_counts[stream] = index + 1
        return index
