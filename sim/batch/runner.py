"""Run chunks of replications on an executor: local processes, a Dask cluster, or this process.

A chunk is a run of consecutive replications of one scenario. Each replication depends only
on (scenario, replication, root seed); chunk boundaries depend only on the batch (never on
the number of workers), and results are put back in (scenario, replication) order, so they
are identical for any number of workers and either backend.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from sim.batch.workers import (  # noqa: F401 (re-exported: their home was here)
    WORKERS_PER_CORE,
    WorkersUnavailable,
    check_workers,
    default_workers,
    most_workers,
    quiet_signals,
)
from sim.config.errors import UsageError
from sim.config.extras import require
from sim.config.scenario import Scenario
from sim.design.batch import Batch
from sim.design.posterior import DRAW, PARAMETER_PREFIX, Draws
from sim.replication.checks import Check
from sim.replication.outcomes import dtypes, outcome_columns
from sim.replication.simulate import replicate

ID_COLUMNS = ("scenario", "replication", "seed")


@dataclass(frozen=True)
class Chunk:
    """Replications ``first .. first + count - 1`` of scenario ``scenario`` (its position)."""

    scenario: int
    index: int
    first: int
    count: int

    @property
    def replications(self) -> range:
        return range(self.first, self.first + self.count)


@dataclass
class ChunkResult:
    """A chunk's outcome rows as a typed Arrow table (made in the worker, so the main
    process only writes it), and its failed replications."""

    table: pa.Table
    failures: list[dict] = field(default_factory=list)


def plan(n_scenarios: int, replications: int, chunk_size: int) -> list[Chunk]:
    """Every chunk of a batch, scenario by scenario, in replication order."""
    return [
        Chunk(s, i, first, min(chunk_size, replications - first))
        for s in range(n_scenarios)
        for i, first in enumerate(range(0, replications, chunk_size))
    ]


def run_chunk(
    name: str,
    scenario: Scenario,
    replications: Sequence[int],
    root_seed: int,
    checks: tuple[Check, ...] = (),
    draws: Draws | None = None,
) -> ChunkResult:
    """Outcome rows of a chunk (a top-level function, so it pickles); a replication that
    raises becomes a failure record with its seed and error instead of stopping the chunk.
    With ``draws``, replication r runs with its drawn parameters, recorded beside its outcomes."""
    rows, failures = [], []
    for r in replications:
        try:
            if draws is None:
                rows.append({"scenario": name, **replicate(scenario, r, root_seed, checks)})
            else:
                drawn = {DRAW: draws.row_of(r), **{PARAMETER_PREFIX + p: v for p, v in draws.values_of(r).items()}}
                rows.append(
                    {"scenario": name, **replicate(draws.scenario_for(scenario, r), r, root_seed, checks), **drawn}
                )
        except Exception as exc:  # recorded, reported, and reproducible from its seed
            failures.append(
                {
                    "scenario": name,
                    "replication": r,
                    "seed": root_seed,
                    "error": f"{type(exc).__name__}: {exc}",
                    "where": traceback.format_exc(limit=-3).strip().splitlines()[-3:][0].strip(),
                }
            )
    return ChunkResult(
        pa.Table.from_pylist(rows, schema=arrow_schema(scenario, checks, draws.paths if draws else None)), failures
    )


@contextlib.contextmanager
def dask_executor(scheduler: str, timeout_s: float = 5.0) -> Iterator[Executor]:
    """An executor on the Dask cluster at ``scheduler``, contacted at once: an address that
    does not answer within ``timeout_s`` seconds is one UsageError. While it is open the
    workers' profiler is paused (see :mod:`sim.batch.dask_cluster`)."""
    Client = require("dask.distributed", extra="dask", needed_by="--scheduler").Client  # not in the core install
    from sim.batch.dask_cluster import (
        BatchExecutor,
        pause_profiler,
        resume_profiler,
    )

    try:
        client = Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise UsageError(
            f"--scheduler {scheduler}: cannot connect within {timeout_s:g} s ({one_line(exc)}): "
            "check the address and that the scheduler runs, or raise --scheduler-timeout"
        ) from None
    try:
        try:
            pause_profiler(client)
        except Exception as exc:  # raised by a worker, whatever its type
            resume_profiler(client)  # the scheduler keeps what it was given: take it back
            raise UsageError(
                f"--scheduler {scheduler}: a worker cannot load this project's code ({one_line(exc)}): "
                "start the workers from this checkout and environment"
            ) from None
        try:
            yield BatchExecutor(client)
        finally:
            resume_profiler(client)
    finally:
        client.close()


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def executor_for(
    workers: int | None, scheduler: str | None = None, scheduler_timeout_s: float = 5.0
) -> Iterator[Executor | None]:
    """Local worker processes, a Dask cluster at ``scheduler``, or None (run in this
    process) for one worker."""
    if scheduler:
        with dask_executor(scheduler, scheduler_timeout_s) as executor:
            yield executor
        return
    workers = default_workers() if workers is None else workers
    check_workers(workers)
    if workers == 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers, initializer=start_worker, initargs=(os.getpid(),))
    try:
        yield pool
        pool.shutdown(wait=True)
    except BaseException:  # an interruption, a failure: nobody will read the chunks still running
        stop_workers(pool)
        raise


STOP_WAIT_S = 5.0  # how long a killed worker, and then the pool's thread, may take to end


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool at once, its workers killed, without waiting for the chunks they run.

    ``shutdown(cancel_futures=True)`` alone lets each worker finish its chunk, and the
    interpreter joins the pool's thread at exit whatever ``wait`` says: a run interrupted
    during long chunks would stay for minutes, or for ever behind a worker that is stuck.
    The workers hold nothing to save (the main process writes every file), so they are
    killed, once the pool has been told to shut down: the pool's thread then drops the
    futures cancelled so far before it sees the workers die (Python 3.11 fails on a cancelled
    future there, and leaves the pool half ended). A worker killed while sending a result
    leaves half of it in the result pipe; this process's copy of the pipe's writing end is
    closed, so that the pool's thread reads the end of the pipe instead of waiting for the
    rest. Every wait is bounded."""
    processes = list((pool._processes or {}).values())
    manager = pool._executor_manager_thread
    results = pool._result_queue
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join(STOP_WAIT_S)
    if results is not None:
        results._writer.close()
    if manager is not None:
        manager.join(STOP_WAIT_S)


def start_worker(parent: int) -> None:
    """A pool initializer: the worker leaves interruptions to the main process, and dies with it."""
    quiet_signals()
    bind_to_parent(parent)


PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def bind_to_parent(parent: int) -> None:
    """Make a worker process die with the process that started it (a pool initializer).

    Killed outright (SIGKILL, out of memory), the parent cannot stop its workers, which would
    otherwise live on, blocked on a pipe nobody reads. On Linux the kernel sends the worker
    SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); everywhere a watchdog thread ends
    the worker once its parent is gone (it is then adopted, and its parent id changes)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still ends the worker
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog", daemon=True).start()


def _watch_parent(parent: int, every_s: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def chunks_in_flight(executor: Executor | None) -> int:
    """How many chunks to keep submitted: two per worker (one running, one waiting, so that no
    worker waits for the main process between chunks). A Dask cluster's workers are its threads
    (the local cores while none has joined); any other executor is taken to have one per core."""
    threads = getattr(executor, "threads", None)
    return 2 * ((threads() if callable(threads) else 0) or default_workers())


def execute(
    chunks: Sequence[Chunk],
    batch: Batch,
    executor: Executor | None,
    on_done: Callable[[Chunk, ChunkResult], None],
    in_flight: int = 4,
) -> None:
    """Run ``chunks`` and hand each result to ``on_done`` as it finishes (in any order);
    at most ``in_flight`` chunks are submitted at once, so memory stays flat."""
    if executor is None:
        for chunk in chunks:
            name, scenario = batch.scenarios[chunk.scenario]
            on_done(chunk, run_chunk(name, scenario, chunk.replications, batch.root_seed, batch.checks, batch.draws))
        return
    queue = list(reversed(chunks))
    running: dict[Future, Chunk] = {}
    try:
        while queue or running:
            while queue and len(running) < in_flight:
                chunk = queue.pop()
                name, scenario = batch.scenarios[chunk.scenario]
                args = (name, scenario, chunk.replications, batch.root_seed, batch.checks, batch.draws)
                running[_submit(executor, args)] = chunk
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: (running[f].scenario, running[f].index)):
                on_done(running.pop(future), future.result())
    finally:
        for future in running:
            future.cancel()


def _submit(executor: Executor, args: tuple) -> Future:
    try:
        return executor.submit(run_chunk, *args)
    except OSError as exc:  # fork refused: a process or memory limit
        workers = getattr(executor, "_max_workers", None)
        raise WorkersUnavailable(
            exc.errno, f"cannot start {workers or 'the'} worker processes ({exc.strerror or exc}): try fewer --workers"
        ) from None


def to_frame(
    rows: list[dict], scenario: Scenario, checks: tuple[Check, ...] = (), drawn: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """A typed table: the seed as an unsigned 64-bit integer (seeds reach 2^64 - 1), integer
    counts, nullable float for days that may not occur, float checks,
    and (for a batch over a posterior) the draw and the drawn value of each parameter."""
    calendar = scenario.scenario.calendar
    parameters = [PARAMETER_PREFIX + p for p in drawn] if drawn is not None else []
    columns = [
        *ID_COLUMNS,
        *outcome_columns(calendar),
        *(c.column for c in checks),
        *([DRAW] if drawn is not None else []),
        *parameters,
    ]
    column_types = {
        "seed": "uint64",
        **dtypes(calendar),
        **{c.column: "float64" for c in checks},
        **{p: "float64" for p in parameters},
    }
    frame = pd.DataFrame(rows, columns=columns)
    frame["scenario"] = frame["scenario"].astype("string")
    for col in columns[1:]:
        dtype = column_types.get(col, "int64")
        frame[col] = pd.array(frame[col].tolist(), dtype=dtype) if dtype == "Float64" else frame[col].astype(dtype)
    return frame


@functools.lru_cache(maxsize=64)
def arrow_schema(scenario: Scenario, checks: tuple[Check, ...] = (), drawn: tuple[str, ...] | None = None) -> pa.Schema:
    """The Arrow schema of a scenario's runs (with pandas metadata, so that a Parquet file
    reads back with the dtypes of :func:`to_frame`)."""
    return pa.Schema.from_pandas(to_frame([], scenario, checks, drawn), preserve_index=False)
