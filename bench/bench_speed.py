#!/usr/bin/env python3
"""A replication's CPU time in bare SimPy events, reproducibly, before and after a change.

Run from the project root (no installation needed; git is needed only for a ``--before`` that
is a revision rather than a checkout):

    python bench/bench_speed.py [--before PATH|REF|none] [--after PATH] [--replications N]
                                [--repeats R] [--bare-processes B] [--json FILE] [--no-dask]

The yardstick. A bare SimPy event (one process doing ``yield env.timeout(1)``) costs a
different time in different processes (hash seeds, memory layout: 465-744 ns were seen on one
machine), so one short loop in one process is no yardstick. The bare event is timed in ``B``
fresh processes (default 5, spread over the rounds), in CPU time (``time.process_time``); its
median is the unit and its min-max is printed.

A replication. For each scenario (the calibrated 2020 world and a policy option, tougher love)
and each tree, a fresh process runs ``run.py run FILE --replications n --workers 1 --quiet`` as
a user does, with PYTHONPATH set to the tree, once with n0 = n / 10 and once with n
replications; the marginal cost (C(n) - C(n0)) / (n - n0), in the children's CPU time
(``resource.getrusage(RUSAGE_CHILDREN)``, user + system), leaves out the start-up. Wall time is
measured the same way and printed alongside. The trees and scenarios alternate within each of
``R`` rounds, so that a busy spell of a shared machine hits both.

Printed: for every scenario and tree, the median over the rounds and the min-max of the CPU ms
per replication, the wall ms, the events per replication, and the ratio to the bare event
(the median of a replication's cost over the median bare event, with the min-max over the
rounds of each round's replication against the median bare event, and the widest range the
bare event's own min-max allows). Targets: at most 8,000 (calibrated) and 12,000 (tougher love)
bare events per replication. Then, unless ``--no-dask``, the Dask-versus-local ratio of the
default job (``bench/bench_dask.py``). Nothing here asserts on time: it exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {  # scenario file -> the target ratio of one replication's CPU time to one bare event
    "configs/calibrated.toml": 8_000,
    "configs/scenarios/tougher_love.toml": 12_000,
}
DEFAULT_BEFORE = "a8b9feb"  # the last commit before a replication's garbage was collected once

# One bare event's CPU time, in a fresh process. Prints one JSON line.
BARE = r"""
import gc, json, time
import simpy

def bare(events):
    env = simpy.Environment()

    def ticker():
        while True:
            yield env.timeout(1)

    env.process(ticker())
    gc.collect()
    start = time.process_time()
    env.run(until=events)
    return (time.process_time() - start) / events

bare(20_000)  # warm-up
print(json.dumps({"event_s": min(bare(200_000) for _ in range(3))}))
"""

# The events one replication processes (counted by wrapping env.step), in the tree measured.
EVENTS = r"""
import json, sys
from sim.config.loader import load_scenario
from sim.model import timeline
from sim.model.streams import Streams
from sim.model.world import World
from sim.policy.actors import start_actors

path, seed, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
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
print(json.dumps({"events_per_rep": total / reps}))
"""


def _env(tree: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}


def _json_of(done: subprocess.CompletedProcess, what: str) -> dict:
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bare_event() -> float:
    """One bare event's CPU seconds, timed in a fresh process."""
    done = subprocess.run([sys.executable, "-c", BARE], capture_output=True, text=True)
    return _json_of(done, "timing a bare event")["event_s"]


def events_per_replication(tree: Path, scenario: str, seed: int, reps: int = 50) -> float:
    done = subprocess.run(
        [sys.executable, "-c", EVENTS, scenario, str(seed), str(reps)],
        cwd=tree,
        env=_env(tree),
        capture_output=True,
        text=True,
    )
    return _json_of(done, f"counting the events of {scenario} in {tree}")["events_per_rep"]


def command_line(tree: Path, scenario: str, replications: int, seed: int) -> tuple[float, float]:
    """(CPU s, wall s) of ``run.py run`` in ``tree`` with one worker, child processes included."""
    with tempfile.TemporaryDirectory() as out:
        before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        done = subprocess.run(
            [sys.executable, "run.py", "run", scenario, "--replications", str(replications), "--seed", str(seed)]
            + ["--workers", "1", "--quiet", "--out", str(Path(out) / "run")],
            cwd=tree,
            env=_env(tree),
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"run.py run {scenario} in {tree} failed:\n{done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def measure(tree: Path, scenario: str, replications: int, seed: int) -> dict:
    """A replication's marginal CPU and wall seconds through the command line."""
    n0 = max(1, replications // 10)
    cpu0, wall0 = command_line(tree, scenario, n0, seed)
    cpu1, wall1 = command_line(tree, scenario, replications, seed)
    return {"cpu_s": (cpu1 - cpu0) / (replications - n0), "wall_s": (wall1 - wall0) / (replications - n0)}


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


def spread(values: list[float]) -> tuple[float, float]:
    return min(values), max(values)


def summarise(samples: list[dict], events_per_rep: float, bare: list[float]) -> dict:
    """Medians and min-max over the rounds; ratios against the median bare event."""
    unit = statistics.median(bare)
    cpu = [s["cpu_s"] for s in samples]
    ratios = [c / unit for c in cpu]
    return {
        "ms_per_rep_cpu": 1000 * statistics.median(cpu),
        "ms_per_rep_cpu_range": [1000 * v for v in spread(cpu)],
        "ms_per_rep_wall": 1000 * statistics.median(s["wall_s"] for s in samples),
        "ms_per_rep_wall_range": [1000 * s for s in spread([s["wall_s"] for s in samples])],
        "reps_per_s_cpu": 1.0 / statistics.median(cpu),
        "events_per_rep": events_per_rep,
        "ratio": statistics.median(cpu) / unit,
        "ratio_range": list(spread(ratios)),
        "ratio_range_with_bare": [min(cpu) / max(bare), max(cpu) / min(bare)],
        "floor_multiple": statistics.median(cpu) / (events_per_rep * unit),
        "samples": samples,
    }


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join(["  " + line(header), "  " + "  ".join("-" * w for w in widths), *("  " + line(r) for r in rows)])


def report(results: dict, trees: list[str]) -> str:
    meta, bare = results["meta"], results["bare"]
    out = ["=" * 110, "A replication's CPU time through the command line (one worker), in bare SimPy events"]
    out.append(
        f"seed {meta['seed']}, {meta['replications']} replications per timing (marginal over"
        f" {max(1, meta['replications'] // 10)}), {meta['repeats']} rounds; python {meta['python']};"
        f" load {meta['load_start']} -> {meta['load_end']}; trees: "
        + ", ".join(f"{t} = {meta['trees'][t]}" for t in trees)
    )
    out.append(
        f"  bare event (CPU, {len(bare['samples_ns'])} fresh processes): median {bare['median_ns']:.0f} ns,"
        f" min-max {bare['min_ns']:.0f}-{bare['max_ns']:.0f} ns"
    )
    rows = []
    for scenario, target in SCENARIOS.items():
        for tree in trees:
            r = results["scenarios"][scenario][tree]
            lo, hi = r["ratio_range"]
            blo, bhi = r["ratio_range_with_bare"]
            clo, chi = r["ms_per_rep_cpu_range"]
            rows.append(
                [
                    f"{Path(scenario).stem} ({tree})",
                    f"{r['ms_per_rep_cpu']:.2f} ({clo:.2f}-{chi:.2f})",
                    f"{r['ms_per_rep_wall']:.2f}",
                    f"{r['events_per_rep']:.0f}",
                    f"{r['ratio']:,.0f}",
                    f"{lo:,.0f}-{hi:,.0f}",
                    f"{blo:,.0f}-{bhi:,.0f}",
                    f"<= {target:,} {'MET' if r['ratio'] <= target else 'NOT MET'}",
                    f"{r['floor_multiple']:.1f}x",
                ]
            )
    out.append(
        table(
            rows,
            [
                "scenario (tree)",
                "CPU ms/rep (min-max)",
                "wall ms/rep",
                "events/rep",
                "rep / bare event",
                "min-max (rounds)",
                "min-max (with bare's)",
                "target",
                "x floor",
            ],
        )
    )
    if len(trees) == 2:
        for scenario in SCENARIOS:
            before, after = (results["scenarios"][scenario][t] for t in trees)
            paired = [b["cpu_s"] / a["cpu_s"] for b, a in zip(before["samples"], after["samples"])]
            out.append(
                f"  {Path(scenario).stem}: {before['ratio']:,.0f} -> {after['ratio']:,.0f} bare events per replication;"
                f" before / after CPU per round: median {statistics.median(paired):.2f},"
                f" min-max {min(paired):.2f}-{max(paired):.2f}"
            )
    out.append(
        "  'rep / bare event': a replication's marginal CPU time through run.py run --workers 1 over the median bare"
        " event; 'x floor': over the bare time of its own events."
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
    out.append("=" * 110)
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--before",
        default=DEFAULT_BEFORE,
        help=f"a checkout's path, or a git revision checked out in a temporary worktree (default {DEFAULT_BEFORE});"
        " 'none' measures only --after",
    )
    p.add_argument("--after", default=str(ROOT), help="the checkout measured as 'after' (default this one)")
    p.add_argument("--replications", type=int, default=200, help="replications per timing (default 200)")
    p.add_argument("--repeats", type=int, default=3, help="rounds, trees alternating (default 3)")
    p.add_argument("--bare-processes", type=int, default=5, help="fresh processes timing a bare event (default 5)")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask-versus-local section")
    p.add_argument("--json", metavar="FILE", help="also write every number as JSON to FILE")
    args = p.parse_args(argv)
    for name in ("replications", "repeats", "bare_processes"):
        if getattr(args, name) < (10 if name == "replications" else 1):
            p.error(f"--{name.replace('_', '-')} is too small")
    return args


def _before_tree(before: str):
    if before == "none":
        return _nothing()
    if Path(before).is_dir():
        return _nothing(Path(before).resolve())
    return Worktree(before)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    results: dict = {
        "meta": {
            "seed": args.seed,
            "replications": args.replications,
            "repeats": args.repeats,
            "python": sys.version.split()[0],
            "load_start": load(),
        }
    }
    wall = time.perf_counter()
    with _before_tree(args.before) as before_tree:
        after_tree = Path(args.after).resolve()
        trees = {"before": before_tree, "after": after_tree} if before_tree else {"after": after_tree}
        results["meta"]["trees"] = {name: f"{tree} ({_revision(tree)})" for name, tree in trees.items()}
        samples: dict = {s: {t: [] for t in trees} for s in SCENARIOS}
        bare: list[float] = []
        per_round = -(-args.bare_processes // args.repeats)  # spread over the rounds
        for i in range(args.repeats):
            for scenario in SCENARIOS:
                for name, tree in trees.items():
                    sample = measure(tree, scenario, args.replications, args.seed)
                    samples[scenario][name].append(sample)
                    print(
                        f"  round {i + 1}/{args.repeats} {Path(scenario).stem} ({name}):"
                        f" {1000 * sample['cpu_s']:.2f} ms CPU per replication",
                        file=sys.stderr,
                        flush=True,
                    )
                    if len(bare) < min(args.bare_processes, per_round * (i + 1)):
                        bare.append(bare_event())
        while len(bare) < args.bare_processes:
            bare.append(bare_event())
        events = {s: {t: events_per_replication(tree, s, args.seed) for t, tree in trees.items()} for s in SCENARIOS}
    results["bare"] = {
        "samples_ns": [1e9 * b for b in bare],
        "median_ns": 1e9 * statistics.median(bare),
        "min_ns": 1e9 * min(bare),
        "max_ns": 1e9 * max(bare),
    }
    results["scenarios"] = {
        s: {t: summarise(v, events[s][t], bare) for t, v in by_tree.items()} for s, by_tree in samples.items()
    }
    if not args.no_dask:
        results["dask"] = dask_versus_local(args.repeats)
    results["meta"].update({"load_end": load(), "wall_s": time.perf_counter() - wall})
    print(report(results, list(trees)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


def _revision(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return (done.stdout.strip() or "?") + ("+changes" if dirty.stdout.strip() else "")


class _nothing:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def __enter__(self) -> Path | None:
        return self.path

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
