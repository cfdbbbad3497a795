"""One replication: the world and its actors run to the horizon; a picklable top-level
function of (scenario, replication, root seed).

A replication's world is a web of reference cycles (processes and their generators, the
environment's queue, the actors' subscriptions), so only Python's cyclic garbage collector
frees it. Left to its defaults, the collector runs a young-generation pass every 700 new
objects, moves the replication's live objects up through the older generations while it runs,
and now and then traverses every object of the process, the imported libraries included: about
a fifth of a replication's CPU time in the runs of docs/speed.md, though the machine's spread is wide. :func:`collected_once` raises the young generation's threshold
while a replication runs and collects it once, when the replication's world has been dropped.
Collection frees memory only; it never changes a result.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence

import pandas as pd

from sim.config.scenario import Scenario
from sim.model import timeline
from sim.model.records import Record, declared_kinds
from sim.model.streams import Streams
from sim.model.threats import threats
from sim.model.world import World
from sim.policy.actors import start_actors
from sim.replication.checks import Check, measure_all
from sim.replication.outcomes import tabulate

YOUNG_GENERATION_THRESHOLD = 50_000
"""New objects between young-generation collections while a replication runs (Python's
default is 700). A replication of the calibrated model adds a few thousand objects to the
collector's count; the threshold bounds what a long or runaway replication holds uncollected."""


@contextlib.contextmanager
def collected_once() -> Iterator[None]:
    """Run a replication (or several) with the young-generation threshold at
    :data:`YOUNG_GENERATION_THRESHOLD`; then restore the caller's thresholds and collect the
    young generation once, freeing the cycles the replications left behind."""
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.collect(0)


def simulate(scenario: Scenario, replication: int, root_seed: int) -> World:
    """Build and run one replication's world; return it for inspection (tests, trace)."""
    world = World(scenario, Streams(root_seed, replication))
    timeline.start(world)
    start_actors(world)
    timeline.run(world)
    return world


def replicate(scenario: Scenario, replication: int, root_seed: int, checks: Sequence[Check] = ()) -> dict:
    """Run one replication and return its outcome row (with ``replication`` and ``seed``), and
    the value of every check (column ``check.<id>``); its garbage is collected once
    (:func:`collected_once`)."""
    with collected_once():
        row = _outcomes(simulate(scenario, replication, root_seed), checks)
    return {"replication": replication, "seed": root_seed, **row}


def _outcomes(world: World, checks: Sequence[Check]) -> dict:
    records, calendar = world.ledger.records, world.calendar
    row = tabulate(records, calendar)
    row.update(zip([check.column for check in checks], measure_all(checks, records, calendar), strict=True))
    return row


def event_log(scenario: Scenario, replication: int, root_seed: int) -> list[Record]:
    """The full event log of one replication, in time order."""
    return simulate(scenario, replication, root_seed).ledger.records


def event_table(records: list[Record], scenario: Scenario) -> pd.DataFrame:
    """The event log as a table: time, date, site, kind, count, the typed fields, attack and details."""
    calendar = scenario.scenario.calendar
    return pd.DataFrame(
        {
            "time_d": [r.time_d for r in records],
            "date": [calendar.datetime_of(r.time_d).strftime("%Y-%m-%d %H:%M:%S") for r in records],
            "site": [r.site or "" for r in records],
            "kind": [r.kind.name for r in records],
            "count": [r.count for r in records],
            "attack": [r.attack or "" for r in records],
            "origin": [r.origin.value if r.origin else "" for r in records],
            "heavy": [{True: "yes", False: "no", None: ""}[r.heavy] for r in records],
            "generation": [pd.NA if r.generation is None else r.generation for r in records],
            "detail": [r.detail for r in records],
        }
    ).astype({"generation": "Int64"})


def record_kinds() -> list:
    """Every kind of record a replication can write (the model's, every threat's, the actors')."""
    threats()
    return declared_kinds()
