"""A sampler for pyabc that gives the same particles whatever the workers: local processes, a
Dask cluster, or this process alone.

pyabc's own samplers either reseed each task from the operating system (``MappingSampler``)
or accept particles in the order they finish (the dynamic schedulers), so their results
depend on timing. Here candidate ``i`` of generation ``t`` draws everything it draws (its
proposal, its perturbation, the seed of its simulation) from a random state seeded by
``(root seed, t, i)``; candidates are evaluated in blocks on any ``concurrent.futures``
executor, and the population is the first ``n`` accepted candidates *by index*, whatever order
they finish in (accepting in index order also avoids the bias of preferring fast simulations).
Candidates evaluated past the n-th acceptance are discarded and not counted.

pyabc's proposals, perturbations and prior draws take no generator: they draw from numpy's global
random state. That state is therefore the candidate's random state, seeded here for each
candidate and put back as it was once a block of candidates is evaluated; the model's own draws
come from the replication's generators (:class:`sim.model.streams.Streams`), whose number the
candidate draws from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

import cloudpickle
import numpy as np

from sim.config.extras import require

pyabc = require("pyabc", extra="calibrate", needed_by="calibrate")  # ABC-SMC: not in the core install

MAIN_PROCESS = 2**32 - 1  # the index of the main process's own random state after a generation
_LOADED: dict[str, Callable] = {}  # per worker process: the generation's simulate function, unpickled once
_CANDIDATE: list[tuple[int, int]] = []  # per process: (generation, index) of the candidate being evaluated


def seed_candidate(root_seed: int, t: int, index: int) -> None:
    """Seed numpy's global random state, which pyabc and its distributions draw from."""
    np.random.seed(np.random.SeedSequence([root_seed, t + 1, index]).generate_state(5)[:4])


def candidate_replication() -> int:
    """The replication number of the candidate being evaluated in this process: generation
    ``t`` and index ``i`` give (t + 1) x 2^32 + i, so every candidate has streams of its own,
    whatever pyabc drew before it simulates.

    Raises
    ------
    RuntimeError
        Outside :func:`evaluate` (no candidate is being evaluated).
    """
    if not _CANDIDATE:
        raise RuntimeError("no calibration candidate is being evaluated in this process")
    t, index = _CANDIDATE[0]
    return (t + 1) << 32 | index


def evaluate(payload: bytes, digest: str, root_seed: int, t: int, first: int, count: int) -> list:
    """Evaluate candidates ``first .. first + count - 1`` of generation ``t`` (a top-level
    function, so it pickles): each one proposal, one simulation and its acceptance."""
    simulate_one = _LOADED.get(digest)
    if simulate_one is None:
        _LOADED.clear()
        simulate_one = _LOADED[digest] = cloudpickle.loads(payload)
    before = np.random.get_state()
    try:
        particles = []
        for index in range(first, first + count):
            seed_candidate(root_seed, t, index)
            _CANDIDATE[:] = [(t, index)]
            particles.append(simulate_one())
        return particles
    finally:
        np.random.set_state(before)  # the candidates' states stay theirs
        _CANDIDATE.clear()


class SeededSampler(pyabc.sampler.Sampler):
    """Deterministic ABC-SMC sampling on an executor (see the module docstring).

    ``progress`` is called with the number of candidates newly counted as simulations;
    ``limit`` caps the simulations of all calls together (a generation that would pass it
    stops short and is marked not ok, so the library does not keep it).
    """

    def __init__(
        self,
        root_seed: int,
        executor: Executor | None,
        workers: int,
        progress: Callable[[int], None] | None = None,
        limit: int | None = None,
        block: int = 4,
    ) -> None:
        super().__init__()
        self.root_seed, self.executor, self.workers, self.progress, self.block = (
            root_seed,
            executor,
            workers,
            progress,
            block,
        )
        self.left = limit

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        payload = cloudpickle.dumps(simulate_one)
        digest = hashlib.sha256(payload).hexdigest()
        caps = [int(max_eval)] if np.isfinite(max_eval) else []
        limit = min([*caps, self.left]) if self.left is not None else (caps[0] if caps else None)
        if self.executor is None:
            particles = self._in_process(payload, digest, t, n, limit)
        else:
            particles = self._on_executor(payload, digest, t, n, limit)
        sample = self._create_empty_sample()
        for particle in particles:
            sample.append(particle)
        self.nr_evaluations_ = len(particles)
        if self.left is not None:
            self.left -= len(particles)
        if sample.n_accepted < n:
            sample.ok = False
        seed_candidate(self.root_seed, t, MAIN_PROCESS)  # the main process goes on from a state of its own
        return sample

    def _in_process(self, payload: bytes, digest: str, t: int, n: int, limit: int | None) -> list:
        particles, accepted = [], 0
        while accepted < n and (limit is None or len(particles) < limit):
            particle = evaluate(payload, digest, self.root_seed, t, len(particles), 1)[0]
            particles.append(particle)
            accepted += particle.accepted
            if self.progress:
                self.progress(1)
        return particles

    def _on_executor(self, payload: bytes, digest: str, t: int, n: int, limit: int | None) -> list:
        finished: dict[int, object] = {}
        running: dict[Future, int] = {}
        kept: list = []
        accepted, next_index = 0, 0
        try:
            while accepted < n:
                while len(running) < 2 * self.workers and (limit is None or next_index < limit):
                    count = self.block if limit is None else min(self.block, limit - next_index)
                    future = self.executor.submit(evaluate, payload, digest, self.root_seed, t, next_index, count)
                    running[future] = next_index
                    next_index += count
                if not running:
                    break  # the budget of candidates is spent
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    first = running.pop(future)
                    for offset, particle in enumerate(future.result()):
                        finished[first + offset] = particle
                before = len(kept)
                while accepted < n and len(kept) in finished:  # extend the evaluated prefix in index order
                    particle = finished.pop(len(kept))
                    kept.append(particle)
                    accepted += particle.accepted
                if self.progress and len(kept) > before:
                    self.progress(len(kept) - before)
        finally:
            for future in running:
                future.cancel()
        return kept
