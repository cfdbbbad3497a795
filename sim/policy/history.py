"""Dated history: the events of the public record happen on their dates, whatever the doctrine.

Each event type of ``[history]`` is one entry of :data:`DATED_EVENTS`, which carries it out
through the actors' own methods (docs/sources.md#policy-2020).
"""

from __future__ import annotations

from typing import Callable, Generator

import simpy

from sim.config.levers import HistoryEvent
from sim.model.world import World
from sim.policy.baghdad import Baghdad
from sim.policy.washington import STRIKE_RETALIATORY, Washington

DatedEvent = Callable[[Washington, Baghdad, HistoryEvent, str], None]

DATED_EVENTS: dict[str, DatedEvent] = {
    "us_strike": lambda us, iraq, event, reason: us.strike(STRIKE_RETALIATORY, 1, reason),
    "iraqi_raid": lambda us, iraq, event, reason: iraq.raid(reason),
    "ultimatum": lambda us, iraq, event, reason: us.issue_ultimatum(reason),
    "troop_reduction": lambda us, iraq, event, reason: us.troop_reduction(event.value),
    "embassy_closure": lambda us, iraq, event, reason: us.close_embassy(reason),
}


def dated_event(world: World, name: str, event: HistoryEvent, washington: Washington, baghdad: Baghdad) -> Generator[simpy.Event, None, None]:
    """Wait for the event's date (00:00), then carry it out."""
    when = world.calendar.day_of(event.date)
    if when < 0:
        return
    yield world.env.timeout(when - world.env.now)
    DATED_EVENTS[event.event](washington, baghdad, event, f"history: {name}")
