"""A broadcast signal: many processes wait for the next occurrence of something."""

from __future__ import annotations

from typing import Any

import simpy


class Broadcast:
    """Each :meth:`publish` wakes every process waiting on :meth:`wait` and re-arms.

    ``yield env.timeout(dt) | signal.wait()`` waits for a time or a change, whichever
    comes first: the idiom used when an intensity or a posture may change mid-wait.
    """

    def __init__(self, env: simpy.Environment) -> None:
        self._env = env
        self._event = env.event()

    def wait(self) -> simpy.Event:
        return self._event

    def publish(self, value: Any = None) -> None:
        event, self._event = self._event, self._env.event()
        event.succeed(value)
