#!/usr/bin/env python3
"""Benchmark of the Dask backend against local processes, on the default job's batch.

Run from the project root (no installation needed):

    python bench/bench_dask.py [--repeats 3] [--chunk-size N] [--end-date YYYY-MM-DD] [--json FILE]

The batch is that of `python run.py` with no arguments (the policy comparison of
configs/experiments/policy_comparison.toml), run through `run_batch` into a results folder
(a) on 2 local worker processes and (b) on a Dask LocalCluster of 2 single-threaded worker
processes, started once beforehand (as a user with a running cluster would have it; its
start-up time is reported apart). The two are interleaved round-robin over the repeats and
the best of the repeats is kept. Printed: the ratio Dask / local replications per second
against the 0.95 target, the per-task overhead it implies, where the Dask time went (the
workers' compute time from the scheduler's task stream against the wall time), and whether
both backends gave identical rows. Nothing here asserts on time: the script exits 0 whatever
the numbers, 1 only if the backends' rows differ or a run fails. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import tempfile
import time
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The project is imported inside main(), not here: Dask starts its workers by running this file
# again (multiprocessing "spawn"), and a worker of a real cluster does not have `sim` imported
# before its first task, so neither should these.

TARGET = 0.95  # Dask replications/s over local replications/s
WORKERS = 2
DEFAULT_EXPERIMENT = ROOT / "configs" / "experiments" / "policy_comparison.toml"


def progress(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def default_batch(chunk_size: int | None, replications: int | None, end_date: date | None, scratch: Path):
    """The batch of ``python run.py`` (the default experiment, as ``command_experiment`` loads
    it), with another chunk size, replication count or horizon if asked."""
    from dataclasses import replace

    from sim.design.experiment import load_experiment

    path = DEFAULT_EXPERIMENT
    if end_date is not None:  # the same file with another end date (its paths made absolute)
        import tomli_w

        doc = tomllib.loads(path.read_text())
        doc["experiment"]["end_date"] = end_date
        doc["experiment"]["base"] = str((path.parent / doc["experiment"]["base"]).resolve())
        for entry in doc["scenarios"].values():
            if "file" in entry:
                entry["file"] = str((path.parent / entry["file"]).resolve())
        path = scratch / path.name
        path.write_text(tomli_w.dumps(doc))
    batch = load_experiment(path, replications).batch
    return replace(batch, chunk_size=chunk_size) if chunk_size else batch


def start_cluster():
    """A LocalCluster of WORKERS single-threaded worker processes, its client, and the seconds
    it took to start (until every worker answers)."""
    from dask.distributed import Client, LocalCluster

    # The workers must import this checkout's `sim`, as the documented `dask worker` command does.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)
    client.wait_for_workers(WORKERS)
    client.get_task_stream()  # the scheduler records the task stream from now on
    return cluster, client, time.perf_counter() - start


def worker_sim_paths(client) -> set[str]:
    def where() -> str:  # without importing it: the first task of a batch does that
        import importlib.util

        return str(Path(importlib.util.find_spec("sim").origin).resolve().parent.parent)

    return set(client.run(where).values())


def timed_run(batch, execution, out: Path) -> tuple[float, Any]:
    from sim.batch.execution import run_batch

    start = time.perf_counter()
    result = run_batch(batch, out, execution)
    return time.perf_counter() - start, result


def worker_cpu_seconds(client) -> float:
    """CPU seconds the Dask workers have used so far (every thread of their processes)."""
    return sum(client.run(time.process_time).values())


def children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children (a local pool's workers, once shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compute_seconds(client, since: float) -> list[float]:
    """The compute time on the workers of each task the scheduler saw finish since ``since``."""
    stream = client.get_task_stream(start=since)
    return [s["stop"] - s["start"] for task in stream for s in task.get("startstops", ()) if s["action"] == "compute"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats of each backend, interleaved; the best is kept (default 3)"
    )
    parser.add_argument(
        "--chunk-size", type=int, default=None, help="replications per task (default: the batch's, DEFAULT_CHUNK_SIZE)"
    )
    parser.add_argument(
        "--replications", type=int, default=None, help="replications per policy option (default: the file's, 400)"
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="another horizon (e.g. 2020-12-31): shorter replications, so the per-task cost weighs more",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="also write every number (each repeat's raw time too) as JSON"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args()
    if args.repeats < 1 or (args.chunk_size is not None and args.chunk_size < 1):
        parser.error("--repeats and --chunk-size must be at least 1")

    import pandas as pd

    from sim.batch.execution import Execution
    from sim.batch.runner import plan

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        batch = default_batch(args.chunk_size, args.replications, args.end_date, scratch)
        chunks = len(plan(len(batch.scenarios), batch.replications, batch.chunk_size))
        total = len(batch.scenarios) * batch.replications
        progress(
            args.quiet,
            f"batch {batch.name}: {len(batch.scenarios)} options x {batch.replications} replications, "
            f"chunk size {batch.chunk_size} ({chunks} tasks)",
        )
        cluster, client, startup = start_cluster()
        try:
            paths = worker_sim_paths(client)
            if paths != {str(ROOT)}:
                print(f"error: the Dask workers import sim from {sorted(paths)}, not {ROOT}", file=sys.stderr)
                return 1
            address = cluster.scheduler_address
            progress(args.quiet, f"LocalCluster of {WORKERS} workers started in {startup:.2f} s at {address}")
            backends = {"local": Execution(workers=WORKERS), "dask": Execution(scheduler=address)}
            times: dict[str, list[float]] = {name: [] for name in backends}
            cpu: dict[str, list[float]] = {name: [] for name in backends}
            compute: list[list[float]] = []
            rows: dict[str, Any] = {}
            parquet: dict[str, bytes] = {}
            for repeat in range(args.repeats):
                order = list(backends) if repeat % 2 == 0 else list(reversed(backends))  # alternate who goes first
                for name in order:
                    since = time.time()
                    out = scratch / f"{name}-{repeat}"
                    workers_before = worker_cpu_seconds(client) if name == "dask" else children_cpu_seconds()
                    main_before = time.process_time()
                    seconds, result = timed_run(batch, backends[name], out)
                    main_cpu = time.process_time() - main_before
                    workers_cpu = (
                        worker_cpu_seconds(client) if name == "dask" else children_cpu_seconds()
                    ) - workers_before
                    times[name].append(seconds)
                    cpu[name].append(main_cpu + workers_cpu)
                    if name == "dask":
                        compute.append(compute_seconds(client, since))
                    if repeat == 0:
                        rows[name] = result.runs
                        parquet[name] = (out / "runs.parquet").read_bytes()
                    progress(
                        args.quiet,
                        f"  repeat {repeat + 1}/{args.repeats} {name:<5} {seconds:7.2f} s "
                        f"({total / seconds:5.1f} replications/s)",
                    )
        finally:
            client.close()
            cluster.close()

    try:
        pd.testing.assert_frame_equal(rows["local"], rows["dask"])
        same_rows = True
    except AssertionError:
        same_rows = False
    same_bytes = parquet["local"] == parquet["dask"]
    results = summarise(batch, chunks, total, startup, times, cpu, compute, args.repeats)
    results.update({"same_rows": same_rows, "same_runs_parquet": same_bytes})
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if same_rows and same_bytes else 1


def summarise(
    batch, chunks: int, total: int, startup: float, times: dict, cpu: dict, compute: list, repeats: int
) -> dict:
    local, dask = min(times["local"]), min(times["dask"])
    extra = dask - local
    best = compute[times["dask"].index(dask)]  # the task stream of the best Dask repeat
    return {
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "batch": batch.name,
        "options": len(batch.scenarios),
        "replications": batch.replications,
        "chunk_size": batch.chunk_size,
        "tasks": chunks,
        "end_date": str(batch.scenarios[0][1].scenario.calendar.end),
        "workers": WORKERS,
        "repeats": repeats,
        "cluster_startup_s": startup,
        "local_s": times["local"],
        "dask_s": times["dask"],
        "local_cpu_s": cpu["local"],
        "dask_cpu_s": cpu["dask"],
        "local_best_s": local,
        "dask_best_s": dask,
        "dask_first_s": times["dask"][0],
        "local_spread": max(times["local"]) / local,
        "dask_spread": max(times["dask"]) / dask,
        "local_replications_per_s": total / local,
        "dask_replications_per_s": total / dask,
        "ratio": local / dask,  # Dask's replications/s over local processes'
        "target": TARGET,
        "met": local / dask >= TARGET,
        "ratio_with_startup": local / (dask + startup),
        "cpu_ratio": min(cpu["dask"]) / min(cpu["local"]),
        "local_cpu_per_replication_s": min(cpu["local"]) / total,
        "dask_cpu_per_replication_s": min(cpu["dask"]) / total,
        "extra_s_per_batch": extra,
        "overhead_per_task_s": extra * WORKERS / chunks,  # each worker runs chunks / WORKERS tasks in turn
        "dask_worker_busy": sum(best) / (WORKERS * dask),
        "dask_compute_per_task_s": sum(best) / max(len(best), 1),
        "dask_compute_per_replication_s": sum(best) / total,
    }


def report(r: dict) -> None:
    total = r["options"] * r["replications"]
    print(
        f"Dask against local processes: {r['batch']}, {r['options']} options x {r['replications']} replications "
        f"to {r['end_date']}, chunk size {r['chunk_size']} ({r['tasks']} tasks), {r['workers']} workers, best of {r['repeats']}"
    )
    print(f"  {'backend':<38} {'best s':>7} {'reps/s':>7} {'spread':>7} {'CPU s':>7}")
    for name, label in (
        ("local", "local processes (ProcessPoolExecutor)"),
        ("dask", "Dask LocalCluster, already running"),
    ):
        best = r[f"{name}_best_s"]
        print(
            f"  {label:<38} {best:7.2f} {total / best:7.1f} {r[f'{name}_spread']:7.2f} {min(r[f'{name}_cpu_s']):7.2f}"
        )
    with_startup = r["dask_best_s"] + r["cluster_startup_s"]
    print(
        f"  {'Dask, its start-up included':<38} {with_startup:7.2f} {total / with_startup:7.1f}"
        f"   (start-up {r['cluster_startup_s']:.2f} s; ratio {r['ratio_with_startup']:.3f}, for information)"
    )
    print(f"  first Dask batch on fresh workers (they import sim in their first task): {r['dask_first_s']:.2f} s")
    print(
        f"  Dask / local replications per second: {r['ratio']:.3f}   target >= {r['target']}: "
        f"{'MET' if r['met'] else 'NOT MET'}"
    )
    print(
        f"  Dask costs {r['extra_s_per_batch']:+.2f} s per batch ({100 * r['extra_s_per_batch'] / r['local_best_s']:+.1f}%), "
        f"{1000 * r['overhead_per_task_s']:+.1f} ms per task"
    )
    print(
        f"  CPU (main process + workers) Dask / local: {r['cpu_ratio']:.3f} "
        f"({1000 * r['dask_cpu_per_replication_s']:.1f} against {1000 * r['local_cpu_per_replication_s']:.1f} ms per replication; "
        "less disturbed by other load than wall time)"
    )
    print(
        f"  Dask workers computing {100 * r['dask_worker_busy']:.1f}% of the wall time, "
        f"{1000 * r['dask_compute_per_task_s']:.0f} ms per task (scheduler's task stream)"
    )
    print(
        f"  identical rows: {'yes' if r['same_rows'] else 'NO'}; identical runs.parquet: {'yes' if r['same_runs_parquet'] else 'NO'}"
    )


if __name__ == "__main__":
    sys.exit(main())
