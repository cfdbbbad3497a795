"""The actors of one replication, wired to each other and to the world.

The militias are handed to Washington and Baghdad as the :class:`~sim.policy.pressure.Pressure`
they can apply; the three hear of what happens through the ledger (Washington first, then
Baghdad, then the militias); intelligence warnings reach Washington and Baghdad through
:class:`~sim.policy.intelligence.Intelligence`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.world import World
from sim.policy.baghdad import Baghdad
from sim.policy.history import Participants, dated_event
from sim.policy.intelligence import Intelligence
from sim.policy.militia import Militia
from sim.policy.washington import Washington


@dataclass(frozen=True)
class Actors:
    militia: Militia
    washington: Washington
    baghdad: Baghdad


def start_actors(world: World) -> Actors:
    """Build the actors, subscribe them to the ledger and start their processes."""
    militia = Militia(world)
    washington = Washington(world, militia)
    baghdad = Baghdad(world, militia)
    for actor in (washington, baghdad, militia):
        world.ledger.subscribe(actor.observe, actor.observes)
    world.warnings = Intelligence(washington, baghdad)
    env = world.env
    militia.start()
    if washington.levers.sanctions:
        env.process(washington.sanctions())
    baghdad.start()
    who = Participants(world, washington, baghdad, militia)
    for name, event in world.scenario.history.items():
        env.process(dated_event(world, name, event, who))
    return Actors(militia, washington, baghdad)
