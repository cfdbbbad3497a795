#!/usr/bin/env python3
"""Replications per second against SimPy's own speed, before and after a change, in one run.

Run from the project root (no installation needed; git is needed for the "before" column):

    python bench/bench_speed.py [--before REF] [--replications N] [--repeats R] [--json FILE]

For each scenario (the calibrated 2020 world and a policy option, tougher love) and for each
source tree (this checkout, and the commit ``--before`` checked out in a temporary git
worktree), a fresh Python process measures, interleaved in the same run:

- the time of one replication through the runner on one worker, as ``run.py run --workers
  1`` runs it (``sim.api.run_scenario(path, n, seed, batch=BatchOptions(workers=1))``): the
  marginal time, that is (T(n) - T(n0)) / (n - n0) with n0 = n / 10, so that the fixed
  start-up of a run (reading the scenario, the manifest) is not charged to the replications;
- the time of one event of a bare SimPy loop (one process doing ``yield env.timeout(1)``),
  in the same process;
- the events one replication processes (counted by wrapping ``env.step``).

It prints replications per second, the ratio of a replication's time to one bare event (the
targets: at most 10,000 for the calibrated world and 15,000 for tougher love) and the
replication's time over the bare time of its own events (its multiple of the kernel floor).
Each measurement is the best of ``--inner`` tries inside its process, and each process is
run ``--repeats`` times, the trees alternating, so that a busy spell of a small shared
machine hits both; the median over the repeats is reported, with the spread (worst / best).
Then, unless ``--no-dask``, the Dask-versus-local ratio of the default job
(``bench/bench_dask.py``). Nothing here asserts on time: it exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {  # scenario file -> the target ratio of one replication to one bare event
    "configs/calibrated.toml": 10_000,
    "configs/scenarios/tougher_love.toml": 15_000,
}
DEFAULT_BEFORE = "7526f71"  # the last commit before replications were made lighter
FLOOR_TARGET = 3.0  # a replication within 3x the bare time of its own events

# Runs inside the tree measured (its root first on sys.path), with only the APIs that both
# the tree before and the tree after have. Prints one JSON line.
MEASURE = r"""
import gc, json, sys, time
sys.path.insert(0, ".")
import simpy
from sim.api import run_scenario
try:  # a tree after the API's split: how a batch runs is one options object
    from sim.api import BatchOptions
    ONE_WORKER = {"batch": BatchOptions(workers=1)}
except ImportError:  # a tree before it
    ONE_WORKER = {"workers": 1}
from sim.config.loader import load_scenario
from sim.model import timeline
from sim.model.streams import Streams
from sim.model.world import World
from sim.policy.actors import start_actors

path, n, seed, inner = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n0 = max(1, n // 10)
now = time.perf_counter


def runner(reps):
    gc.collect()
    start = now()
    run_scenario(path, reps, seed, **ONE_WORKER)
    return now() - start


def bare(events):
    env = simpy.Environment()

    def ticker():
        while True:
            yield env.timeout(1)

    env.process(ticker())
    gc.collect()
    start = now()
    env.run(until=events)
    return (now() - start) / events


def events_per_replication(reps):
    scenario, total = load_scenario(path), 0
    for r in range(reps):
        world = World(scenario, Streams(seed, r))
        counter, step = [0], world.env.step

        def counting_step(step=step, counter=counter):
            counter[0] += 1
            step()

        world.env.step = counting_step
        timeline.start(world)
        start_actors(world)
        timeline.run(world)
        total += counter[0]
    return total / reps


runner(n0)  # warm-up: imports, caches
marginal, small, event = [], [], []
for _ in range(inner):
    t_small, t_big = runner(n0), runner(n)
    marginal.append((t_big - t_small) / (n - n0))
    small.append(t_big / n)
    event.append(bare(200_000))
print(json.dumps({"rep_s": min(marginal), "rep_s_with_startup": min(small), "event_s": min(event),
                  "events_per_rep": events_per_replication(min(n, 50))}))
"""


def measure(tree: Path, scenario: str, replications: int, seed: int, inner: int) -> dict:
    """One fresh process measuring ``scenario`` in the source ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, scenario, str(replications), str(seed), str(inner)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring {scenario} in {tree} failed:\n{done.stderr.strip()}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["ratio"] = out["rep_s"] / out["event_s"]
    out["floor_multiple"] = out["rep_s"] / (out["events_per_rep"] * out["event_s"])
    return out


def dask_versus_local(repeats: int) -> dict:
    """bench/bench_dask.py on the default job (its own process: Dask re-runs the script that
    starts its workers); its numbers, among them ``ratio``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dask.json"
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "bench_dask.py"),
                "--repeats",
                str(repeats),
                "--quiet",
                "--json",
                str(out),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if not out.exists():
            raise RuntimeError(f"bench/bench_dask.py failed:\n{done.stderr.strip()}")
        return json.loads(out.read_text())


class Worktree:
    """``ref`` checked out, detached, in a temporary git worktree (removed on exit)."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.path = Path(tempfile.mkdtemp(prefix="bench-before-")) / "tree"

    def __enter__(self) -> Path:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(self.path), self.ref],
            check=True,
            capture_output=True,
            text=True,
        )
        return self.path

    def __exit__(self, *exc) -> None:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(self.path)], capture_output=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)
        self.path.parent.rmdir()


def summarise(samples: list[dict]) -> dict:
    ratios = [s["ratio"] for s in samples]
    return {
        "reps_per_s": statistics.median(1.0 / s["rep_s"] for s in samples),
        "ms_per_rep": statistics.median(1000 * s["rep_s"] for s in samples),
        "ms_per_rep_with_startup": statistics.median(1000 * s["rep_s_with_startup"] for s in samples),
        "ns_per_bare_event": statistics.median(1e9 * s["event_s"] for s in samples),
        "events_per_rep": samples[0]["events_per_rep"],
        "ratio": statistics.median(ratios),
        "ratio_spread": max(ratios) / min(ratios),
        "floor_multiple": statistics.median(s["floor_multiple"] for s in samples),
        "samples": samples,
    }


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join(["  " + line(header), "  " + "  ".join("-" * w for w in widths), *("  " + line(r) for r in rows)])


def report(results: dict, trees: list[str]) -> str:
    out = ["=" * 100, "Replications per second against SimPy's own speed (medians over the repeats)"]
    meta = results["meta"]
    out.append(
        f"seed {meta['seed']}, {meta['replications']} replications per timing, {meta['repeats']} repeats x"
        f" {meta['inner']} tries; python {meta['python']}; load {meta['load_start']} -> {meta['load_end']}"
    )
    rows = []
    for scenario, target in SCENARIOS.items():
        for tree in trees:
            r = results["scenarios"][scenario][tree]
            met = "MET" if r["ratio"] <= target else "NOT MET"
            rows.append(
                [
                    f"{Path(scenario).stem} ({tree})",
                    f"{r['reps_per_s']:.1f}",
                    f"{r['ms_per_rep']:.2f}",
                    f"{r['events_per_rep']:.0f}",
                    f"{r['ns_per_bare_event']:.0f}",
                    f"{r['ratio']:,.0f}",
                    f"<= {target:,} {met}",
                    f"{r['ratio_spread']:.2f}",
                    f"{r['floor_multiple']:.1f}x",
                ]
            )
    out.append(
        table(
            rows,
            [
                "scenario (tree)",
                "reps/s",
                "ms/rep",
                "events/rep",
                "ns/bare event",
                "rep / bare event",
                "target",
                "spread",
                "x floor",
            ],
        )
    )
    if len(trees) == 2:
        for scenario in SCENARIOS:
            before, after = (results["scenarios"][scenario][t] for t in trees)
            out.append(
                f"  {Path(scenario).stem}: {before['ratio'] / after['ratio']:.2f}x more replications per bare"
                f" event after than before ({before['ratio']:,.0f} -> {after['ratio']:,.0f});"
                f" kernel-floor multiple {before['floor_multiple']:.1f}x -> {after['floor_multiple']:.1f}x"
                f" (target <= {FLOOR_TARGET:.0f}x)"
            )
    out.append(
        "  'rep / bare event': a replication's marginal time through run_scenario(workers=1) over one event of a"
        " bare env.timeout loop timed in the same process; 'x floor': over the bare time of its own events."
    )
    if results.get("dask"):
        d = results["dask"]
        out.append(
            f"\nDask on one machine / local processes, default job ({d['options']} x {d['replications']} replications,"
            f" {d['tasks']} tasks of {d['chunk_size']}): {d['local_replications_per_s']:.1f} against"
            f" {d['dask_replications_per_s']:.1f} replications/s, ratio {d['ratio']:.3f}"
            f" (target >= 0.95: {'MET' if d['met'] else 'NOT MET'}); identical runs.parquet:"
            f" {'yes' if d['same_runs_parquet'] else 'NO'}; details: bench/bench_dask.py"
        )
    out.append("=" * 100)
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--before",
        default=DEFAULT_BEFORE,
        help=f"git revision to compare with (default {DEFAULT_BEFORE}); 'none' skips it",
    )
    p.add_argument("--replications", type=int, default=200, help="replications per timing (default 200)")
    p.add_argument("--repeats", type=int, default=3, help="measuring processes per scenario and tree (default 3)")
    p.add_argument("--inner", type=int, default=2, help="tries inside each process, best kept (default 2)")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask-versus-local section")
    p.add_argument("--json", metavar="FILE", help="also write every number as JSON to FILE")
    args = p.parse_args(argv)
    for name in ("replications", "repeats", "inner"):
        if getattr(args, name) < (10 if name == "replications" else 1):
            p.error(f"--{name} is too small")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    results: dict = {
        "meta": {
            "seed": args.seed,
            "replications": args.replications,
            "repeats": args.repeats,
            "inner": args.inner,
            "python": sys.version.split()[0],
            "load_start": load(),
            "before": args.before,
        }
    }
    wall = time.perf_counter()
    with Worktree(args.before) if args.before != "none" else _nothing() as before_tree:
        trees = {"before": before_tree, "after": ROOT} if before_tree else {"after": ROOT}
        samples: dict = {s: {t: [] for t in trees} for s in SCENARIOS}
        for i in range(args.repeats):
            for scenario in SCENARIOS:
                for name, tree in trees.items():
                    samples[scenario][name].append(measure(tree, scenario, args.replications, args.seed, args.inner))
                    print(
                        f"  repeat {i + 1}/{args.repeats} {Path(scenario).stem} ({name}): ratio"
                        f" {samples[scenario][name][-1]['ratio']:,.0f}",
                        file=sys.stderr,
                        flush=True,
                    )
    results["scenarios"] = {s: {t: summarise(v) for t, v in by_tree.items()} for s, by_tree in samples.items()}
    if not args.no_dask:
        results["dask"] = dask_versus_local(args.repeats)
    results["meta"].update({"load_end": load(), "wall_s": time.perf_counter() - wall})
    print(report(results, list(trees)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
