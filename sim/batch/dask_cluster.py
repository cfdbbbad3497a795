"""A batch on a Dask cluster: the executor, and what the workers do while a batch runs.

Imported only by a run with a scheduler, so that local runs never import ``dask.distributed``.
A chunk is a few seconds of pure Python on one worker thread; two things made it slower on a
Dask worker than in a local process, and both are dealt with here:

- the worker's statistical profiler wakes every 10 ms (``distributed.worker.profile.interval``),
  takes the interpreter lock from the task and walks its stack: about 4% more CPU per
  replication, and at least as much wall time. :class:`PauseProfiler` stops it on every worker
  while a batch runs (workers that join meanwhile too) and starts it again at the end; the
  dashboard's profile is then empty for the batch's tasks, nothing else changes;
- the window of chunks in flight followed the local machine's cores, not the cluster's
  threads: :meth:`BatchExecutor.threads` gives the cluster's, so that every worker thread has
  a chunk running and one waiting.

Tasks are submitted with ``pure=False``: every chunk is a distinct task, and the client does
not hash its scenario to name it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from distributed import Client, WorkerPlugin
from distributed.cfexecutor import ClientExecutor

PLUGIN_NAME = "sim-batch-pause-profiler"  # one name: a batch that ends replaces what a killed one left
PROFILER = "profile"  # the worker's periodic callback that samples running tasks' stacks


class PauseProfiler(WorkerPlugin):
    """Stop a worker's profiler while registered; start it again, if it ran, when removed."""

    def __init__(self) -> None:
        self.paused = False

    def setup(self, worker: Any) -> None:
        callback = getattr(worker, "periodic_callbacks", {}).get(PROFILER)
        if callback is not None and callback.is_running():
            callback.stop()
            self.paused = True

    def teardown(self, worker: Any) -> None:
        callback = getattr(worker, "periodic_callbacks", {}).get(PROFILER)
        if self.paused and callback is not None:
            callback.start()
        self.paused = False


class BatchExecutor(ClientExecutor):
    """An executor on ``client``'s cluster that also tells how many threads the cluster has."""

    def __init__(self, client: Client) -> None:
        super().__init__(client, pure=False)
        self.client = client

    def threads(self) -> int:
        """The worker threads of the cluster now (0 while no worker has joined)."""
        return sum(self.client.nthreads().values())


def pause_profiler(client: Client) -> None:
    """Pause the profiler of every worker of ``client``'s cluster, and of those that join it,
    until :func:`resume_profiler`. A worker that cannot load this module (it runs another
    version of the project, or none) makes this raise."""
    client.register_plugin(PauseProfiler(), name=PLUGIN_NAME)


def resume_profiler(client: Client) -> None:
    """Take the plugin back (best effort: another batch on the same cluster may have done it,
    a worker may never have loaded it, and a lost scheduler must not hide how the batch ended)."""
    with contextlib.suppress(Exception):
        client.unregister_worker_plugin(PLUGIN_NAME)
