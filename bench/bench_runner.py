#!/usr/bin/env python3
"""Benchmark of the batch runner: speedup with workers, overhead per replication, and memory.

Run from the project root:  python bench/bench_runner.py [--replications 2000] [--memory-small 1000] [--horizon year]

Measured in one run, as ratios (the machine is small and noisy; nothing here asserts on time):
1. speedup of `run_batch` with 2 workers over 1 worker, on >= 2,000 replications (target >= 1.9x);
2. runner overhead per replication: `run_batch` with 1 worker (chunks, Parquet parts, assembly)
   against calling `replicate` in a plain loop (target <= 5%);
3. peak memory (max RSS of a separate process running `run.py experiment`) for 10x the
   replications against 1x (target <= 1.2x).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.batch.execution import Execution, run_batch  # noqa: E402
from sim.config.loader import load_scenario  # noqa: E402
from sim.design.batch import Batch, Source  # noqa: E402
from sim.replication.simulate import replicate  # noqa: E402

HORIZONS = {"year": {}, "quarter": {"scenario.end_date": date(2020, 3, 31)}}
REPEATS = 2


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def batch_of(replications: int, horizon: str) -> Batch:
    scenario = load_scenario(ROOT / "configs" / "baseline.toml", HORIZONS[horizon])
    return Batch(
        "bench",
        ((f"baseline_{horizon}", scenario),),
        replications,
        1,
        Source("run", ROOT / "configs" / "baseline.toml"),
    )


def timed_batch(batch: Batch, workers: int) -> float:
    def once() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_batch(batch, Path(tmp) / "out", Execution(workers=workers))

    return best_of(REPEATS, once)


def plain_loop(batch: Batch) -> float:
    name, scenario = batch.scenarios[0]
    return best_of(REPEATS, lambda: [replicate(scenario, r, batch.root_seed) for r in range(batch.replications)])


MEMORY_PROBE = textwrap.dedent(
    """
    import resource, subprocess, sys
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """
)


def peak_rss_kib(experiment: Path, replications: int) -> int:
    """Max RSS of a fresh process running the experiment in-process (1 worker)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-c",
            MEMORY_PROBE,
            sys.executable,
            str(ROOT / "run.py"),
            "experiment",
            str(experiment),
            "--out",
            str(Path(tmp) / "out"),
            "--workers",
            "1",
            "--quiet",
            "--replications",
            str(replications),
        ]
        return int(subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()[-1])


def memory_experiment(folder: Path) -> Path:
    path = folder / "memory.toml"
    path.write_text(
        textwrap.dedent(f"""
        [experiment]
        name = "memory"
        description = "memory benchmark"
        base = "{ROOT / "configs" / "baseline.toml"}"
        reference = "q1"
        replications = 1
        root_seed = 1
        end_date = 2020-01-31
        outcomes = ["attacks_rocket", "us_killed"]

        [scenarios.q1]
    """)
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=2000, help="replications for speedup and overhead")
    parser.add_argument("--memory-small", type=int, default=1000, help="small run of the memory ratio (large = 10x)")
    parser.add_argument(
        "--horizon",
        choices=sorted(HORIZONS),
        default="year",
        help="baseline over 2020 (default) or its first quarter (quicker, but a higher share of overhead)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    batch = batch_of(args.replications, args.horizon)
    loop = plain_loop(batch)
    one = timed_batch(batch, 1)
    two = timed_batch(batch, 2)
    with tempfile.TemporaryDirectory() as tmp:
        experiment = memory_experiment(Path(tmp))
        small = peak_rss_kib(experiment, args.memory_small)
        large = peak_rss_kib(experiment, 10 * args.memory_small)
    results = {
        "replications": args.replications,
        "plain_loop_s": loop,
        "runner_1_worker_s": one,
        "runner_2_workers_s": two,
        "speedup_2_workers": one / two,
        "overhead_per_replication": one / loop - 1,
        "peak_rss_small_mib": small / 1024,
        "peak_rss_large_mib": large / 1024,
        "memory_ratio": large / small,
    }
    rows = [
        (
            "speedup, 2 workers / 1 worker",
            f"{results['speedup_2_workers']:.2f}x",
            ">= 1.9x",
            results["speedup_2_workers"] >= 1.9,
        ),
        (
            "runner overhead per replication",
            f"{100 * results['overhead_per_replication']:+.1f}%",
            "<= 5%",
            results["overhead_per_replication"] <= 0.05,
        ),
        (
            f"peak memory {10 * args.memory_small} / {args.memory_small} replications",
            f"{results['memory_ratio']:.2f}x",
            "<= 1.2x",
            results["memory_ratio"] <= 1.2,
        ),
    ]
    print(f"batch runner benchmark: {args.replications} replications of the baseline ({args.horizon})")
    print(f"  plain loop {loop:.2f} s, runner 1 worker {one:.2f} s, 2 workers {two:.2f} s (best of {REPEATS})")
    print(
        f"  peak RSS {small / 1024:.0f} MiB ({args.memory_small} reps) vs {large / 1024:.0f} MiB ({10 * args.memory_small})"
    )
    for name, value, target, met in rows:
        print(f"  {name:<45} {value:>8}   target {target:<8} {'met' if met else 'NOT MET'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
