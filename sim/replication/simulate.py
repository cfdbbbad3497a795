"""One replication: a picklable top-level function of (scenario, replication, seed)."""

from __future__ import annotations

from sim.replication.outcomes import summarise
from sim.model.records import Record
from sim.config.scenario import Scenario
from sim.model.streams import Streams
from sim.model.world import World


def simulate(scenario: Scenario, replication: int, root_seed: int) -> World:
    """Build and run one replication's world; return it for inspection (tests, trace)."""
    world = World(scenario, Streams(root_seed, replication))
    world.start()
    world.run()
    return world


def replicate(scenario: Scenario, replication: int, root_seed: int) -> dict:
    """Run one replication and return its outcome row (with ``replication`` and ``seed``)."""
    world = simulate(scenario, replication, root_seed)
    return {"replication": replication, "seed": root_seed, **summarise(world.ledger.records, world.calendar)}


def event_log(scenario: Scenario, replication: int, root_seed: int) -> list[Record]:
    """The full event log of one replication, in time order."""
    return simulate(scenario, replication, root_seed).ledger.records
