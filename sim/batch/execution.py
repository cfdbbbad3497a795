"""Execute a batch into a results folder: chunk by chunk, resumable, worker-count invariant."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from sim.config.loader import scenario_hash
from sim.config.errors import UsageError
from sim.design.experiment import Batch
from sim.batch.runner import Chunk, ChunkResult, default_workers, execute, executor_for, plan
from sim.batch.folder import ResultsFolder, code_version, environment, utc_now


@dataclass(frozen=True)
class BatchResult:
    runs: pd.DataFrame
    failures: pd.DataFrame
    runs_path: Path
    manifest: dict[str, Any]


class ReplicationFailed(UsageError):
    """A replication raised and ``--fail-fast`` was asked for."""


def run_batch(
    batch: Batch,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    fail_fast: bool = False,
    manifest: dict[str, Any] | None = None,
) -> BatchResult:
    """Run every chunk of ``batch`` not yet in ``out`` and assemble ``runs.parquet``.

    Running again on an interrupted folder completes only what is missing and gives the
    same bytes as an uninterrupted run; a folder of another batch is refused.
    """
    chunks = plan(len(batch.scenarios), batch.replications, batch.chunk_size)
    info = {
        **(manifest or {}),
        "batch": batch.name,
        "scenarios": [name for name, _ in batch.scenarios],
        "scenario_hashes": {name: scenario_hash(scenario) for name, scenario in batch.scenarios},
        "root_seed": batch.root_seed,
        "replications": batch.replications,
        "chunk_size": batch.chunk_size,
        "workers": workers or default_workers(),
        "scheduler": scheduler,
        "code_version": code_version(),
        "environment": environment(),
        "started_utc": utc_now(),
    }
    folder = ResultsFolder(out, batch.fingerprint())
    done = folder.open(info)
    todo = [c for c in chunks if (c.scenario, c.index) not in done]
    clock = time.perf_counter()

    def save(chunk: Chunk, result: ChunkResult) -> None:
        if fail_fast and result.failures:
            failure = result.failures[0]
            raise ReplicationFailed(
                f"scenario {failure['scenario']} replication {failure['replication']} (seed {failure['seed']}) "
                f"failed: {failure['error']}"
            )
        folder.save(chunk.scenario, chunk.index, result.table, result.failures)
        if progress:
            progress(chunk.count)

    if progress and done:
        progress(sum(c.count for c in chunks if (c.scenario, c.index) in done))
    with executor_for(workers, scheduler) as executor:
        execute(todo, batch.scenarios, batch.root_seed, executor, save, in_flight=2 * (workers or default_workers()))
    runs_path, failures = folder.assemble([(c.scenario, c.index) for c in chunks])
    info.update({"chunks_resumed": len(chunks) - len(todo), "elapsed_s": round(time.perf_counter() - clock, 3),
                 "finished_utc": utc_now(), "failed_replications": len(failures)})  # fmt: skip
    folder.finish(info)
    return BatchResult(pd.read_parquet(runs_path), failures, runs_path, info)
