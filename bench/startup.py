#!/usr/bin/env python3
"""Start-up time of the command line: `run.py --help`, a refused input and a short `trace`.

Run from the project root:  python bench/startup.py [--root DIR] [--repeats 7]

Each case runs in a fresh process (`python run.py ...` in the project folder ``--root``, by
default this checkout, with it first on PYTHONPATH); the cases alternate, ``--repeats`` rounds, so
a busy spell of the machine spreads over all of them. For each case it prints the median CPU time
(user + system of the child, from ``resource.getrusage(RUSAGE_CHILDREN)`` before and after) and
wall time, and the spread (slowest / fastest). Nothing asserts on time: the script exits 0
whatever the numbers, unless a case does not end with its expected exit code.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "--help": (["--help"], 0),
    "refused input": (["run", "configs/baseline.toml", "--set", "cram.kill_prob=1.5"], 2),
    "trace": (["trace", "configs/scenarios/ultimatum.toml", "--seed", "7"], 0),
}


def once(root: Path, arguments: list[str], expected: int) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one fresh `run.py` process."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "run.py", *arguments], cwd=root, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != expected:
        raise SystemExit(f"run.py {' '.join(arguments)}: exit code {done.returncode}, expected {expected}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder to measure (default: this checkout)")
    parser.add_argument("--repeats", type=int, default=7, help="rounds over the cases (default 7)")
    args = parser.parse_args()
    root = args.root.resolve()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    once(root, *CASES["--help"])  # warm the file cache and the byte-code
    for _ in range(args.repeats):
        for name, (arguments, expected) in CASES.items():
            times[name].append(once(root, arguments, expected))
    print(f"{root}: {args.repeats} rounds, Python {sys.version.split()[0]}")
    print(f"{'case':<15} {'CPU median':>11} {'spread':>7} {'wall median':>12} {'spread':>7}")
    for name, samples in times.items():
        cpu, wall = [s[0] for s in samples], [s[1] for s in samples]
        print(
            f"{name:<15} {statistics.median(cpu):>10.3f}s {max(cpu) / min(cpu):>6.2f}x "
            f"{statistics.median(wall):>11.3f}s {max(wall) / min(wall):>6.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
