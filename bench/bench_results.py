#!/usr/bin/env python3
"""Benchmark of a results folder: how compact and fast to read ``runs.parquet`` is, and how the
runner's memory grows with the number of replications.

Run from the project root:  python bench/bench_results.py [--sizes 1000 10000 100000] [--code DIR]

For each size, one ``run.py run`` of the baseline over a short horizon (2020-01-01 to
``--end-date``, so that 10^5 replications take a few minutes on 2 cores) into a new folder, with
``--workers`` local workers; the main process's RSS is sampled every 10 ms (psutil; the workers are
not counted): its peak while the batch runs and ``runs.parquet`` is assembled (the runner: until
``runs.parquet`` appears), and over the whole command (the analysis, which reads every run into
memory, included). Then ``runs.parquet`` is read ``--reads`` times with ``pandas.read_parquet``. Printed:
the file's size and row groups, the median read time with its spread (min-max), both peaks
and their ratios to the smallest size's, wall time and CPU time (the command and
its workers). ``--code`` runs another checkout's code (a temporary git worktree of an older
commit, say) with this script. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(code: Path, replications: int, out: Path, workers: int, end_date: str) -> dict:
    """One ``run.py run`` into ``out``: its wall and CPU time and its main process's peak RSS."""
    command = [
        sys.executable,
        str(code / "run.py"),
        "run",
        str(code / "configs" / "baseline.toml"),
        "--replications",
        str(replications),
        "--set",
        f"scenario.end_date={end_date}",
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(code)}
    cpu = cpu_of_children()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    peak = runner_peak = 0
    stop = threading.Event()
    runs = out / "runs.parquet"

    def sample() -> None:
        nonlocal peak, runner_peak
        while not stop.is_set():
            try:
                rss = watched.memory_info().rss
            except psutil.Error:
                return
            peak = max(peak, rss)
            if not runs.exists():  # the batch and the assembly of runs.parquet, before the analysis reads it
                runner_peak = max(runner_peak, rss)
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code_returned = process.wait()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if code_returned != 0:
        raise SystemExit(f"run.py run failed with exit code {code_returned}")
    return {
        "wall_s": wall,
        "cpu_s": cpu_of_children() - cpu,
        "peak_rss_mib": peak / 2**20,
        "runner_peak_rss_mib": runner_peak / 2**20,
    }


def read_times(path: Path, reads: int) -> list[float]:
    times = []
    for _ in range(reads):
        start = time.perf_counter()
        pd.read_parquet(path)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000], help="replications")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose run.py runs (default: this one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--end-date", default="2020-01-15", help="the scenario's end date (starts 2020-01-01)")
    parser.add_argument("--reads", type=int, default=7, help="reads of runs.parquet per size (median reported)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    code = args.code.resolve()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            out = Path(tmp) / f"n{n}"
            measured = run_once(code, n, out, args.workers, args.end_date)
            runs = out / "runs.parquet"
            times = read_times(runs, args.reads)
            metadata = pq.ParquetFile(runs).metadata
            results.append(
                {
                    "replications": n,
                    **measured,
                    "size_mib": runs.stat().st_size / 2**20,
                    "row_groups": metadata.num_row_groups,
                    "rows": metadata.num_rows,
                    "read_median_ms": 1000 * statistics.median(times),
                    "read_min_ms": 1000 * min(times),
                    "read_max_ms": 1000 * max(times),
                    "parts": len(list((out / "parts").glob("*/*.parquet"))),
                }
            )
            shutil.rmtree(out, ignore_errors=True)
    base = results[0]["peak_rss_mib"]
    runner_base = results[0]["runner_peak_rss_mib"]
    print(f"results benchmark: {code} ({args.workers} workers, baseline to {args.end_date}, {args.reads} reads each)")
    print(
        f"  {'replications':>12} {'parts':>6} {'size MiB':>9} {'row groups':>10} {'read ms (median, min-max)':>26} "
        f"{'runner RSS MiB':>14} {'x smallest':>10} {'command RSS MiB':>15} {'x smallest':>10} {'wall s':>7} {'CPU s':>7}"
    )
    for r in results:
        spread = f"{r['read_median_ms']:.1f} ({r['read_min_ms']:.1f}-{r['read_max_ms']:.1f})"
        print(
            f"  {r['replications']:>12,} {r['parts']:>6} {r['size_mib']:>9.2f} {r['row_groups']:>10} {spread:>26} "
            f"{r['runner_peak_rss_mib']:>14.0f} {r['runner_peak_rss_mib'] / runner_base:>10.2f} "
            f"{r['peak_rss_mib']:>15.0f} {r['peak_rss_mib'] / base:>10.2f} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
