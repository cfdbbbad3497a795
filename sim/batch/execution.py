"""The one execution path: a batch's chunks on an executor, kept in memory or in a results folder.

``run``, ``experiment``, ``sweep``, the Python API and a calibration all run batches through
:func:`run_batch`. With a results folder, finished chunks are written as they come, a run that
is interrupted resumes to the same bytes, and a folder of another batch is refused; without
one (a calibration's many small batches, an API call), the rows stay in memory. Either way a
replication that raises is a failure row with a ``trace`` command that reproduces it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.batch.folder import ANALYSING, COMPLETE, FAILURE_COLUMNS, HeldLock, ResultsFolder
from sim.batch.manifest import describe, utc_now
from sim.batch.runner import (
    Chunk,
    ChunkResult,
    check_workers,
    chunks_in_flight,
    dask_executor,
    default_workers,
    execute,
    executor_for,
    plan,
)
from sim.config.errors import UsageError
from sim.design.batch import Batch


@dataclass(frozen=True)
class Execution:
    """How a batch runs: on ``workers`` local processes, on a Dask ``scheduler``, or on an
    ``executor`` already open (a calibration's pool, reused over many batches); how long the
    scheduler has to answer; what it tells (``progress`` receives the replications done);
    whether the first failure stops it."""

    workers: int | None = None
    scheduler: str | None = None
    executor: Executor | None = None
    progress: Callable[[int], None] | None = None
    fail_fast: bool = False
    scheduler_timeout_s: float = 5.0


@dataclass(frozen=True)
class BatchResult:
    runs: pd.DataFrame  # one row per (scenario, replication), in that order
    failures: pd.DataFrame  # one row per failed replication, with its reproducing command
    manifest: dict[str, Any]
    folder: Path | None


class ReplicationFailed(UsageError):
    """A replication raised and ``--fail-fast`` was asked for."""


class NothingToAnalyse(UsageError):
    """Every replication of a scenario failed: there is nothing to summarise or compare."""


def run_batch(
    batch: Batch,
    out: Path | None = None,
    execution: Execution = Execution(),
    command: tuple[str, ...] = ("python API",),
    extra: dict[str, Any] | None = None,
    grow: bool = False,
    analysed: bool = False,
    held: HeldLock | None = None,
) -> BatchResult:
    """Run every chunk of ``batch`` (those not yet in ``out``, when resuming a folder).

    ``extra`` joins the manifest (what the kind of batch adds: an experiment's reference and
    outcomes, a sweep's design ...). With ``grow``, ``out`` may hold the same batch with
    another replication count: its chunks that hold the same replications as this batch's
    are kept (a precision run adds replications this way), the others run again. With
    ``analysed``, the caller writes files made from the runs into ``out``: the manifest's status
    is then ``analysing``, and the caller marks it complete (:func:`~sim.batch.folder.mark_complete`).
    With ``held``, the folder's lock is taken once and kept after the batch (see
    :class:`~sim.batch.folder.HeldLock`).
    """
    chunks = plan(len(batch.scenarios), batch.replications, batch.chunk_size)
    check_workers(execution.workers)
    workers = 1 if execution.executor is None and execution.workers == 1 else (execution.workers or default_workers())
    manifest = {**describe(batch, command, workers, execution.scheduler, extra or {}), "started_utc": utc_now()}
    with contextlib.ExitStack() as stack:
        if execution.executor is None and execution.scheduler:  # contacted before anything is written
            execution = replace(
                execution,
                executor=stack.enter_context(dask_executor(execution.scheduler, execution.scheduler_timeout_s)),
            )
        folder = ResultsFolder(Path(out), manifest["fingerprint"], held) if out is not None else None
        if folder:
            stack.callback(folder.close)
        return _run(batch, chunks, folder, execution, manifest, grow, analysed)


def _run(
    batch: Batch,
    chunks: list[Chunk],
    folder: ResultsFolder | None,
    execution: Execution,
    manifest: dict[str, Any],
    grow: bool,
    analysed: bool = False,
) -> BatchResult:
    done = folder.open(manifest, grow) if folder else set()
    if folder and grow:
        counts = {(c.scenario, c.index): c.count for c in chunks}
        done = {key for key in done if key in counts and folder.replications_in(*key) == counts[key]}
    todo = [c for c in chunks if (c.scenario, c.index) not in done]
    kept: dict[tuple[int, int], pa.Table] = {}
    failures: list[dict] = []
    clock = time.perf_counter()

    def keep(chunk: Chunk, result: ChunkResult) -> None:
        if execution.fail_fast and result.failures:
            failure = result.failures[0]
            raise ReplicationFailed(
                f"scenario {failure['scenario']} replication {failure['replication']} (seed {failure['seed']}) "
                f"failed: {failure['error']}; reproduce: {batch.reproduce(failure['scenario'], failure['replication'])}"
            )
        if folder:
            folder.save(chunk.scenario, chunk.index, result.table, result.failures)
        else:
            kept[(chunk.scenario, chunk.index)] = result.table
            failures.extend(result.failures)
        if execution.progress:
            execution.progress(chunk.count)

    if execution.progress and done:
        execution.progress(sum(c.count for c in chunks if (c.scenario, c.index) in done))
    _execute(batch, todo, execution, keep)
    order = [(c.scenario, c.index) for c in chunks]
    if folder:
        runs_path, failures = folder.assemble(order)
        runs = pd.read_parquet(runs_path)
    else:
        runs = pa.concat_tables([kept[key] for key in order]).to_pandas()
    failed = pd.DataFrame(
        [{**f, "reproduce": batch.reproduce(f["scenario"], f["replication"])} for f in failures],
        columns=FAILURE_COLUMNS,
    )
    manifest.update(
        {
            "chunks_resumed": len(chunks) - len(todo),
            "elapsed_s": round(time.perf_counter() - clock, 3),
            "finished_utc": utc_now(),
            "failed_replications": len(failed),
            **({"chunks_damaged": folder.damaged} if folder and folder.damaged else {}),
        }
    )
    if folder:
        manifest = folder.finish(manifest, failed, order, ANALYSING if analysed else COMPLETE)
    _refuse_empty_scenarios(runs, failed, folder.out if folder else None)
    return BatchResult(runs, failed, manifest, folder.out if folder else None)


def _refuse_empty_scenarios(runs: pd.DataFrame, failed: pd.DataFrame, out: Path | None) -> None:
    """A scenario whose every replication failed stops the command here, with the first error,
    rather than deep in a summary; the folder keeps the runs and failures.csv."""
    for name in dict.fromkeys(failed["scenario"]):
        if not (runs["scenario"] == name).any():
            first = failed[failed["scenario"] == name].iloc[0]
            where = f"; every error and the command that reproduces it are in {out}/failures.csv" if out else ""
            raise NothingToAnalyse(f"every replication of scenario {name} failed (first: {first['error']}){where}")


def _execute(
    batch: Batch, chunks: list[Chunk], execution: Execution, keep: Callable[[Chunk, ChunkResult], None]
) -> None:
    if execution.executor is not None:
        execute(chunks, batch, execution.executor, keep, in_flight=chunks_in_flight(execution.executor))
        return
    workers = min(execution.workers or default_workers(), len(chunks))  # an idle worker only costs memory
    with executor_for(max(workers, 1)) as executor:
        execute(chunks, batch, executor, keep, in_flight=2 * max(workers, 1))
