"""How many local worker processes a batch may have, and how a worker treats signals.

Small and free of heavy imports: the command line reads it to build its help and to name a
failure to start workers, before (or without) loading the runner.
"""

from __future__ import annotations

import os
import signal

from sim.config.errors import UsageError

WORKERS_PER_CORE = 4  # beyond this, more processes only share the same cores and memory


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def most_workers() -> int:
    """The most local worker processes a run may ask for on this machine."""
    return WORKERS_PER_CORE * default_workers()


def check_workers(workers: int | None) -> None:
    """Refuse a worker count the machine cannot bear, before anything is written."""
    if workers is not None and workers > most_workers():
        raise UsageError(
            f"--workers {workers} is more than this machine bears ({WORKERS_PER_CORE} per core, "
            f"{most_workers()} for its {default_workers()} cores): choose at most {most_workers()}"
        )


class WorkersUnavailable(OSError):
    """The system refused to start the worker processes (a process or memory limit)."""


def quiet_signals() -> None:
    """Ctrl-C reaches every process of the terminal's group, and ``timeout`` or a supervisor
    sends SIGTERM to the whole group: the main process alone turns either into a clean stop
    (the finished chunks kept, its workers stopped, one line), so a worker ignores both. Left
    to Python's defaults, a worker would print a KeyboardInterrupt traceback, or die before
    the main process had seen the signal, which would then report a worker that died
    instead of an interruption. A worker still dies with its main process (see
    :func:`sim.batch.runner.bind_to_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
