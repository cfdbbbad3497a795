"""Steps at a later time that need no process of their own.

A behaviour that is one wait and one action, and that nothing waits on or interrupts (a
follow-up attack, a rocket's impact, the end of an engagement), is one SimPy ``Timeout`` that
calls the action when it fires: one event, where a process costs three (its start, the wait
and its end). Behaviours that wait on something else (a fire unit, a magazine) or that can be
cut short stay processes.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL


class Later(simpy.Timeout):
    """A ``Timeout`` of ``delay_d`` days whose callback is ``action(*args)``."""

    def __init__(self, env: simpy.Environment, delay_d: float, action: Callable[..., Any], args: tuple) -> None:
        # Timeout.__init__ inlined, with the action as its first callback (the hot path of a run)
        if delay_d < 0:
            raise ValueError(f"Negative delay {delay_d}")
        self.env = env
        self.callbacks = [_fire]
        self._value = None
        self._delay = delay_d
        self._ok = True
        self._action, self._args = action, args
        # Environment.schedule inlined: the same (time, priority, event id) key on its queue
        heappush(env._queue, (env._now + delay_d, NORMAL, next(env._eid), self))

    def cancel(self) -> None:
        """The action will not run: the timer still fires when due, and does nothing (taking it
        off SimPy's queue, a remove and a re-heapify, costs several times more)."""
        if self.callbacks:
            self.callbacks.clear()


def _fire(event: Later) -> None:
    """A ``Later``'s callback (a plain function: no bound method made per timer)."""
    event._action(*event._args)


def after(env: simpy.Environment, delay_d: float, action: Callable[..., Any], *args: Any) -> Later:
    """Call ``action(*args)`` ``delay_d`` days from now (in the order of SimPy's schedule, as
    a process woken at that time would be)."""
    return Later(env, delay_d, action, args)
