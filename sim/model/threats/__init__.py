"""The threat kinds: one module each, declaring the kind once next to its behaviour.

A threat module defines its attack (a function of the world, the attack's name, its random
stream and its origin), declares its record kinds, and ends with a :class:`Threat` called
``THREAT``. The registry finds every module of this package and orders the threats as the
fields of :class:`sim.config.scenario.Threats` (the scenario schema), so adding a threat kind
is its own module plus its section in the schema and the TOML files. The rest of the model,
the actors and the outcome table iterate :func:`threats`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from sim.config.scenario import Scenario, Threats
from sim.model.records import Origin, RecordKind
from sim.model.world import World

Attack = Callable[[World, str, np.random.Generator, Origin], Generator[simpy.Event, object, None] | None]


def no_duration(scenario: Scenario) -> float:
    return 0.0


@dataclass(frozen=True)
class Threat:
    """One kind of attack.

    name : the kind, in attack names (``rocket-12``), random stream names and the outcome
        column ``attacks_<name>``.
    section : its table under ``[threats]`` in a scenario (holds ``base_rate_per_day``).
    attack : what one attack does, when it is carried out. It draws everything it needs from the
        stream it is handed before anything else (the stream is valid only until then, see
        :meth:`sim.model.streams.Streams.at_once`), then acts at once and schedules what comes
        later (:func:`sim.model.schedule.after`, or processes of its own); it may also return a
        generator, which is run as the attack's process.
    attack_record : the record every attack writes when it happens.
    warnable : intelligence can announce it hours ahead (and policy can pre-empt it).
    targets_us_sites : aimed at U.S. sites: Washington counts it, revenge can take its form.
    impact_inside : the record of one of its rounds landing inside a U.S. perimeter, if any.
    quarterly_series : the quarterly outcome series its attacks count in, if any.
    longest_attack_s : seconds from an attack's start to its last impact (the run settles
        that long after the horizon).
    per_run_state : what the threat keeps during a run (the convoy timetable), built once
        per replication into ``world.threat_state[name]``.
    """

    name: str
    section: str
    attack: Attack
    attack_record: RecordKind
    warnable: bool
    targets_us_sites: bool
    impact_inside: RecordKind | None = None
    quarterly_series: str | None = None
    longest_attack_s: Callable[[Scenario], float] = no_duration
    per_run_state: Callable[[World], object] | None = None

    def spec(self, scenario: Scenario):
        """This threat's section of the scenario."""
        return getattr(scenario.threats, self.section)


@functools.cache
def threats() -> tuple[Threat, ...]:
    """Every threat kind, in the order of the scenario schema's ``[threats]`` sections."""
    declared = {}
    for module in pkgutil.iter_modules(__path__):
        threat = getattr(importlib.import_module(f"{__name__}.{module.name}"), "THREAT", None)
        if isinstance(threat, Threat):
            declared[threat.section] = threat
    sections = [f.name for f in dataclasses.fields(Threats)]
    missing, unknown = set(sections) - set(declared), set(declared) - set(sections)
    if missing or unknown:
        raise RuntimeError(
            f"threat modules and the scenario schema disagree: no module for {sorted(missing)}, "
            f"no schema section for {sorted(unknown)}"
        )
    return tuple(declared[s] for s in sections)


def threat_named(name: str) -> Threat:
    return _by_name()[name]


@functools.cache
def _by_name() -> dict[str, Threat]:
    return {t.name: t for t in threats()}
