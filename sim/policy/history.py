"""Dated history: the events of the 2020 timeline happen on their dates, whatever the doctrine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import simpy

from sim.config.levers import HistoryEvent
from sim.model.records import Kind

if TYPE_CHECKING:
    from sim.model.world import World


def dated_event(world: "World", name: str, event: HistoryEvent) -> Generator[simpy.Event, None, None]:
    """Wait for the event's date (00:00), then carry it out through the actors."""
    when = world.calendar.day_of(event.date)
    if when < 0:
        return
    yield world.env.timeout(when - world.env.now)
    reason = f"history: {name}"
    if event.event == "us_strike":
        world.washington.strike(Kind.US_STRIKE_RETALIATORY, 1, reason)
    elif event.event == "iraqi_raid":
        world.baghdad.raid(reason)
    elif event.event == "ultimatum":
        world.washington.issue_ultimatum(reason)
    elif event.event == "troop_reduction":
        world.washington.troop_reduction(event.value)
    elif event.event == "embassy_closure":
        world.washington.close_embassy(reason)
