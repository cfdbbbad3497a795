"""Dated history: the events of the public record happen on their dates, whatever the doctrine.

Each event type of ``[history]`` is one entry of :data:`DATED_EVENTS`, which carries it out
through the actors' own methods, or as a political action of a government the militias weigh
(:mod:`sim.policy.politics`; docs/sources.md#policy-2020, #policy-2020-2021, #political-inputs).
Only ``truce`` is an action of the militias: the conditional replay's one dated truce.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import NamedTuple

import simpy

from sim.config.levers import HistoryEvent
from sim.model.world import World
from sim.policy.baghdad import Baghdad
from sim.policy.politics import AGREEMENT, ELECTION, IRANIAN_DIRECTION, TALKS, THREAT, WITHDRAWAL, announce
from sim.policy.pressure import Pressure
from sim.policy.washington import STRIKE_RETALIATORY, Washington


class Participants(NamedTuple):
    """Who carries out dated events."""

    world: World
    washington: Washington
    baghdad: Baghdad
    militia: Pressure


DatedEvent = Callable[[Participants, HistoryEvent, str], None]

DATED_EVENTS: dict[str, DatedEvent] = {
    "us_strike": lambda who, event, reason: who.washington.strike(STRIKE_RETALIATORY, 1, reason),
    "iraqi_raid": lambda who, event, reason: who.baghdad.raid(reason),
    "ultimatum": lambda who, event, reason: who.washington.issue_ultimatum(reason, may_close=False),
    "truce": lambda who, event, reason: who.militia.declare_truce(reason),
    "troop_reduction": lambda who, event, reason: who.washington.troop_reduction(event.value),
    "embassy_closure": lambda who, event, reason: who.washington.close_embassy(reason),
    "combat_role_end": lambda who, event, reason: who.washington.end_combat_role(reason),
    "withdrawal": lambda who, event, reason: announce(who.world, WITHDRAWAL, reason),
    "talks": lambda who, event, reason: announce(who.world, TALKS, reason),
    "agreement": lambda who, event, reason: announce(who.world, AGREEMENT, reason, (event.until - event.date).days),
    "threat": lambda who, event, reason: announce(who.world, THREAT, reason),
    "election": lambda who, event, reason: announce(who.world, ELECTION, reason),
    "iranian_direction": lambda who, event, reason: announce(who.world, IRANIAN_DIRECTION, reason),
}


def dated_event(world: World, name: str, event: HistoryEvent, who: Participants) -> Generator[simpy.Event, None, None]:
    """Wait for the event's date (00:00), then carry it out."""
    when = world.calendar.day_of(event.date)
    if when < 0:
        return
    yield world.env.timeout(when - world.env.now)
    DATED_EVENTS[event.event](who, event, f"history: {name}")
