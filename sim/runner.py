"""Run many replications, in chunks, on a pool of worker processes.

Each replication depends only on (scenario, replication, root seed), and chunks are put
back in replication order, so results are identical for any number of workers.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Callable, Iterator, Sequence

import pandas as pd

from .calendar import Calendar
from .outcomes import outcome_columns
from .replication import replicate
from .scenario import Scenario

ProgressCallback = Callable[[int], None]


def run_chunk(scenario: Scenario, replications: Sequence[int], root_seed: int) -> list[dict]:
    """Outcome rows of a chunk of replications (a top-level function, so it pickles)."""
    return [replicate(scenario, r, root_seed) for r in replications]


def chunked(replications: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(replications), size):
        yield replications[i : i + size]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_replications(
    scenario: Scenario,
    replications: int,
    root_seed: int,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Run replications 0 .. replications-1 and return one row per replication.

    Parameters
    ----------
    workers : processes to use; None means all available cores, 1 runs in this process.
    progress : called with the number of replications just finished, after each chunk.
    """
    workers = default_workers() if workers is None else workers
    reps = range(replications)
    size = max(1, min(50, replications // (workers * 8) or 1))
    rows: list[dict] = []
    if workers == 1 or replications < 2 * size:
        for chunk in chunked(reps, size):
            rows += run_chunk(scenario, chunk, root_seed)
            if progress:
                progress(len(chunk))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = _map_chunks(pool, scenario, reps, size, root_seed, progress)
    return to_frame(rows, scenario)


def _map_chunks(
    pool: Executor, scenario: Scenario, reps: Sequence[int], size: int, root_seed: int, progress: ProgressCallback | None
) -> list[dict]:
    chunks = list(chunked(reps, size))
    futures = [pool.submit(run_chunk, scenario, chunk, root_seed) for chunk in chunks]
    rows: list[dict] = []
    for chunk, future in zip(chunks, futures):
        rows += future.result()
        if progress:
            progress(len(chunk))
    return rows


def to_frame(rows: list[dict], scenario: Scenario) -> pd.DataFrame:
    """A typed table: integer counts, nullable float for days that may not occur."""
    calendar = Calendar(scenario.scenario.start_date, scenario.scenario.end_date)
    columns = ["replication", "seed", *outcome_columns(calendar)]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        if col == "first_us_fatality_day":
            frame[col] = pd.array(frame[col].tolist(), dtype="Float64")
        else:
            frame[col] = frame[col].astype("int64")
    return frame
