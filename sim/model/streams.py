"""Named random streams: one numpy Generator per source of randomness.

A stream is derived from (root seed, replication, stream name) only, never from the
scenario, so that two scenarios run with the same seed see the same attacks wherever their
policies do not change them (common random numbers). Per-attack streams (``"rocket", 12``)
keep the 12th rocket salvo's size, aim and interception draws the same across scenarios
even when other parts of the run have drawn different amounts of randomness.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit number for a stream name (CRC-32: fixed across Python runs)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of one replication.

    Parameters
    ----------
    root_seed : the experiment's seed (non-negative integer).
    replication : replication index (non-negative integer).
    """

    def __init__(self, root_seed: int, replication: int) -> None:
        if root_seed < 0 or replication < 0:
            raise ValueError(f"seed {root_seed} and replication {replication} must be >= 0")
        self.root_seed = root_seed
        self.replication = replication
        self._cache: dict[tuple, np.random.Generator] = {}

    def get(self, name: str, index: int | None = None) -> np.random.Generator:
        """The generator for stream ``name`` (and sub-stream ``index``); the same object on
        every call within this replication."""
        key = (name, index)
        rng = self._cache.get(key)
        if rng is None:
            spawn = (self.replication, stream_key(name)) + (() if index is None else (index,))
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.root_seed, spawn_key=spawn)))
            self._cache[key] = rng
        return rng

    def fresh(self, name: str, index: int) -> np.random.Generator:
        """A per-event generator that is not cached (for the many per-attack streams)."""
        spawn = (self.replication, stream_key(name), index)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.root_seed, spawn_key=spawn)))
