"""Named random streams of one replication, from a counter-based generator.

Every draw of a replication comes from numpy's Philox4x64 generator under one key derived from
(root seed, replication) (``SeedSequence``). A stream is a position of Philox's 256-bit counter:
its upper 128 bits are a BLAKE2b digest of the stream's name (``regime.rocket``, ``rocket-12``,
``strike-3``), the next 64 bits a phase (an attack draws once when it is launched and once when
it is carried out), and the lowest 64 bits count the blocks the stream has used. Philox is
counter-based: distinct counters give independent blocks (Salmon et al. 2011, "Parallel random
numbers: as easy as 1, 2, 3"), and a stream would need 2^64 blocks to reach another's.

A stream is thus a function of (root seed, replication, name, phase) only, never of the scenario
or of what else happened in the run: two scenarios run with the same seed see the same draws for
the same attack wherever their policies do not change it (common random numbers). The 12th
background rocket salvo (``rocket-12``) and its first follow-up (``rocket-12.0``) have the same
size, aim and interception draws in every scenario that has them.

Three ways to a stream, with the same numbers for the same name and phase:

- :meth:`Streams.get`: a sequential stream with a generator of its own, kept for the run
  (regime changes, background arrivals, routine raids);
- :meth:`Streams.fresh`: a generator of its own for one event whose draws are spread over time
  (a strike, a raid);
- :meth:`Streams.at_once`: the one generator of the replication, moved to the stream's position,
  for the many attacks. Moving it costs about a tenth of making a generator, but it is valid
  only until the next call: whoever takes it draws everything it needs at once, before it
  records, schedules or calls anything. ``tests/test_streams.py`` runs every shipped scenario
  both ways and checks that the logs are identical.
"""

from __future__ import annotations

import hashlib
import struct
from enum import IntEnum

import numpy as np

_UNPACK = struct.Struct("<QQ").unpack
_EMPTY_BUFFER = (0, 0, 0, 0)


class AttackPhase(IntEnum):
    """When an attack draws: at its launch (follow-ups, intelligence warning), and when it is
    carried out (target, size, the fate of each round)."""

    LAUNCH = 0
    CARRY_OUT = 1


def counter_of(name: str, phase: int = 0) -> list[int]:
    """The Philox counter where stream ``name`` (in ``phase``) starts, as four 64-bit words
    (lowest first)."""
    return [0, phase, *name_words(name)]


def name_words(name: str) -> tuple[int, int]:
    """The 128-bit BLAKE2b digest of a stream's name, as two 64-bit words (lowest first)."""
    return _UNPACK(hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest())


class Streams:
    """The random streams of one replication.

    Parameters
    ----------
    root_seed : the experiment's seed (non-negative integer).
    replication : replication index (non-negative integer).
    reuse : False makes :meth:`at_once` return a new generator each time (the same numbers,
        about ten times slower): the reference the reused generator is tested against.
    """

    def __init__(self, root_seed: int, replication: int, reuse: bool = True) -> None:
        if root_seed < 0 or replication < 0:
            raise ValueError(f"seed {root_seed} and replication {replication} must be >= 0")
        self.root_seed = root_seed
        self.replication = replication
        self.reuse = reuse
        self._key = np.random.SeedSequence(root_seed, spawn_key=(replication,)).generate_state(2, np.uint64)
        self._cache: dict[str, np.random.Generator] = {}
        self._shared = np.random.Philox(key=self._key)
        self._shared_rng = np.random.Generator(self._shared)
        self._position = {  # the shared generator's state at the start of a stream
            "bit_generator": "Philox",
            "state": {"counter": [0, 0, 0, 0], "key": [int(word) for word in self._key]},
            "buffer": _EMPTY_BUFFER,
            "buffer_pos": 4,  # the buffer is empty: the next draw starts at the counter
            "has_uint32": 0,
            "uinteger": 0,
        }
        self._counter = self._position["state"]["counter"]
        self._last_name, self._last_words = "", (0, 0)  # an attack asks twice in a row: at launch, when carried out

    def get(self, name: str) -> np.random.Generator:
        """The sequential stream ``name``: the same generator on every call within this
        replication."""
        rng = self._cache.get(name)
        if rng is None:
            rng = self._cache[name] = self.fresh(name)
        return rng

    def fresh(self, name: str, phase: int = 0) -> np.random.Generator:
        """A new generator at the start of stream ``name`` (in ``phase``), for one event."""
        counter = np.array(counter_of(name, phase), dtype=np.uint64)
        return np.random.Generator(np.random.Philox(key=self._key, counter=counter))

    def at_once(self, name: str, phase: int = 0) -> np.random.Generator:
        """The replication's shared generator at the start of stream ``name`` (in ``phase``);
        the same numbers as :meth:`fresh`, valid until the next call (see the module docstring)."""
        if not self.reuse:
            return self.fresh(name, phase)
        if name != self._last_name:
            self._last_name, self._last_words = name, name_words(name)
        counter = self._counter
        counter[1] = phase
        counter[2], counter[3] = self._last_words
        self._shared.state = self._position
        return self._shared_rng
