"""Benchmark of the militia-pressure model: throughput, SimPy event rate and where time goes.

Run from the project root (no installation needed):

    python bench/bench_model.py [--replications N] [--seed S] [--repeats R] [--json FILE]

Everything is measured in the same run and reported as best-of-repeats and as ratios, because
the machines this runs on are small and noisy. Nothing here asserts on time: the script prints
whether the target is met and always exits 0 unless the model itself fails. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import simpy  # noqa: E402
from simpy.events import Condition, Process  # noqa: E402

from sim.api import BatchOptions, run_scenario  # noqa: E402
from sim.batch.runner import default_workers, to_frame  # noqa: E402
from sim.config.loader import load_scenario  # noqa: E402
from sim.model import timeline  # noqa: E402
from sim.model.streams import Streams  # noqa: E402
from sim.model.world import World  # noqa: E402
from sim.policy.actors import start_actors  # noqa: E402
from sim.replication.outcomes import tabulate  # noqa: E402
from sim.replication.simulate import replicate  # noqa: E402

EVENT_RATIO_TARGET = 0.5  # model events/s over bare-SimPy events/s
DEFAULT_CONFIG = ROOT / "configs" / "baseline.toml"
now = time.perf_counter


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def best_of(samples: list[float]) -> float:
    return min(samples)


def spread(samples: list[float]) -> float:
    """Worst over best: 1.00 means the repeats agreed; large values mean a noisy machine."""
    return max(samples) / min(samples) if min(samples) > 0 else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t0 = now()
    out = fn()
    return now() - t0, out


def count_steps(env: simpy.Environment) -> list[int]:
    """Count the events ``env`` processes by wrapping its ``step`` (``Environment.run`` calls
    ``self.step()``, so an instance attribute takes effect). Returns a one-element counter."""
    counter = [0]
    step = env.step

    def counting_step() -> None:
        counter[0] += 1
        step()

    env.step = counting_step  # type: ignore[method-assign]
    return counter


def _generator_name(process: Process) -> str:
    gen = process._generator
    return getattr(gen, "__name__", type(gen).__name__)


def _woken(event: simpy.Event, via: str = "") -> str:
    """Which process an event will resume (possibly through a condition such as ``a | b``)."""
    for cb in event.callbacks or ():
        owner = getattr(cb, "__self__", None)
        if isinstance(owner, Process):
            return f"wakes {_generator_name(owner)}{via}"
        if isinstance(owner, Condition) and owner is not event and not via:
            return _woken(owner, " via condition")
    return "nothing waits"


def event_label(event: simpy.Event) -> tuple[str, str]:
    """(event type, what it does): a process start or end, or which process it wakes."""
    etype = type(event).__name__
    if etype == "Initialize":
        return etype, f"start of {_woken(event).removeprefix('wakes ')}"
    if isinstance(event, Process):
        return etype, f"end of {_generator_name(event)}, {_woken(event)}"
    return etype, _woken(event)


def process_of(what: str) -> str:
    """The process an event-mix label is about ('(unattributed)' when nothing waits)."""
    for prefix in ("start of ", "end of ", "wakes "):
        if what.startswith(prefix):
            return what.removeprefix(prefix).split(",")[0].split(" via ")[0]
    return "(unattributed)"


def attribute_steps(env: simpy.Environment, tally: Counter) -> None:
    """Like :func:`count_steps`, but tallies each processed event by its type and by the
    process it starts, ends or wakes (peeks at the head of the private queue; diagnostic only, not timed)."""
    step, queue = env.step, env._queue

    def attributing_step() -> None:
        if queue:
            event = queue[0][3]
            tally[event_label(event)] += 1
        step()

    env.step = attributing_step  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# The model and the bare loop
# --------------------------------------------------------------------------------------------


def model_pass(scenario, reps: range, seed: int, mode: str = "plain", tally: Counter | None = None) -> dict:
    """One pass over ``reps`` replications, timing each phase separately.

    mode: "plain" (no instrumentation), "count" (step counter), "attribute" (event mix).
    """
    phases = {"construct": 0.0, "start": 0.0, "run": 0.0, "summarise": 0.0}
    events = 0
    gc.collect()
    for r in reps:
        t0 = now()
        world = World(scenario, Streams(seed, r))
        t1 = now()
        counter = None
        if mode == "count":
            counter = count_steps(world.env)
        elif mode == "attribute":
            attribute_steps(world.env, tally)
        t2 = now()
        timeline.start(world)
        start_actors(world)
        t3 = now()
        timeline.run(world)
        t4 = now()
        tabulate(world.ledger.records, world.calendar)
        t5 = now()
        phases["construct"] += t1 - t0
        phases["start"] += t3 - t2
        phases["run"] += t4 - t3
        phases["summarise"] += t5 - t4
        if counter is not None:
            events += counter[0]
    return {"phases": phases, "events": events}


def ticker(env: simpy.Environment):
    while True:
        yield env.timeout(1)


def bare_pass(runs: int, events_per_run: int, counted: bool) -> dict:
    """``runs`` fresh environments, each running one process that yields ``env.timeout(1)``
    until ``events_per_run`` (sized like one model replication, so per-run costs match)."""
    total_time, events = 0.0, 0
    gc.collect()
    for _ in range(runs):
        env = simpy.Environment()
        counter = count_steps(env) if counted else None
        t0 = now()
        env.process(ticker(env))
        env.run(until=events_per_run)
        total_time += now() - t0
        if counter is not None:
            events += counter[0]
    return {"run": total_time, "events": events}


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def bench_throughput(scenario, n: int, seed: int, repeats: int, log) -> dict:
    modes: dict[str, Callable[[], Any]] = {
        "loop": lambda: [replicate(scenario, r, seed) for r in range(n)],
        "runner_w1": lambda: run_scenario(scenario, n, seed, batch=BatchOptions(workers=1)).runs,
        "runner_w2": lambda: run_scenario(scenario, n, seed, batch=BatchOptions(workers=2)).runs,
    }
    samples: dict[str, list[float]] = {m: [] for m in modes}
    outputs: dict[str, Any] = {}
    for i in range(repeats):  # round-robin, so a slow spell hits every mode
        for mode, fn in modes.items():
            dt, out = timed(fn)
            samples[mode].append(dt)
            outputs.setdefault(mode, out)
        log(f"  throughput repeat {i + 1}/{repeats}: " + ", ".join(f"{m} {samples[m][-1]:.2f}s" for m in modes))
    result: dict[str, Any] = {"replications": n, "repeats": repeats, "modes": {}}
    for mode in modes:
        best = best_of(samples[mode])
        result["modes"][mode] = {
            "best_s": best,
            "reps_per_s": n / best,
            "ms_per_rep": 1000 * best / n,
            "spread": spread(samples[mode]),
            "samples_s": samples[mode],
        }
    m = result["modes"]
    result["runner_w1_vs_loop"] = m["runner_w1"]["reps_per_s"] / m["loop"]["reps_per_s"]
    result["speedup_w2_vs_w1"] = m["runner_w2"]["reps_per_s"] / m["runner_w1"]["reps_per_s"]
    result["speedup_w2_vs_loop"] = m["runner_w2"]["reps_per_s"] / m["loop"]["reps_per_s"]
    # Same results whatever the mode (README: results do not depend on the number of workers).
    w1, w2 = outputs["runner_w1"], outputs["runner_w2"]
    loop = to_frame([{"scenario": scenario.scenario.name, **row} for row in outputs["loop"]], scenario)
    result["identical_results"] = bool(w1.equals(w2) and loop.equals(w1))
    return result


def bench_events(scenario, k: int, seed: int, repeats: int, log) -> dict:
    reps = range(k)
    # Event counts (deterministic for a given seed and replication, so they apply to the
    # uninstrumented passes too); first pass doubles as a warm-up.
    counted_model = model_pass(scenario, reps, seed, "count")
    model_events = counted_model["events"]
    per_run = max(2, round(model_events / k))
    bare_events = bare_pass(k, per_run, counted=True)["events"]

    model_plain: list[dict] = []
    model_counted: list[float] = []
    bare_plain: list[float] = []
    bare_counted: list[float] = []
    for i in range(repeats):  # round-robin again
        model_plain.append(model_pass(scenario, reps, seed, "plain")["phases"])
        model_counted.append(model_pass(scenario, reps, seed, "count")["phases"]["run"])
        bare_plain.append(bare_pass(k, per_run, counted=False)["run"])
        bare_counted.append(bare_pass(k, per_run, counted=True)["run"])
        log(
            f"  events repeat {i + 1}/{repeats}: model run {model_plain[-1]['run']:.3f}s"
            f" (counted {model_counted[-1]:.3f}s), bare {bare_plain[-1]:.3f}s (counted {bare_counted[-1]:.3f}s)"
        )
    run_samples = [p["run"] for p in model_plain]
    phase_best = {ph: best_of([p[ph] for p in model_plain]) for ph in model_plain[0]}
    total_samples = [sum(p.values()) for p in model_plain]

    def eps(events: int, seconds: float) -> float:
        return events / seconds if seconds > 0 else float("nan")

    model_eps = eps(model_events, best_of(run_samples))
    bare_eps = eps(bare_events, best_of(bare_plain))
    model_eps_c = eps(model_events, best_of(model_counted))
    bare_eps_c = eps(bare_events, best_of(bare_counted))
    model_eps_e2e = eps(model_events, best_of(total_samples))

    # Event mix (diagnostic pass, not timed).
    tally: Counter = Counter()
    model_pass(scenario, reps, seed, "attribute", tally)
    by_type: Counter = Counter()
    for (etype, _), c in tally.items():
        by_type[etype] += c
    mix_total = sum(tally.values())
    by_process: Counter = Counter()
    for (_, what), c in tally.items():
        by_process[process_of(what)] += c

    return {
        "replications": k,
        "repeats": repeats,
        "model_events_total": model_events,
        "model_events_per_replication": model_events / k,
        "bare_events_total": bare_events,
        "bare_events_per_run": bare_events / k,
        "model_events_per_s": model_eps,
        "bare_events_per_s": bare_eps,
        "ratio_model_over_bare": model_eps / bare_eps,
        "model_events_per_s_counted": model_eps_c,
        "bare_events_per_s_counted": bare_eps_c,
        "ratio_model_over_bare_counted": model_eps_c / bare_eps_c,
        "model_events_per_s_end_to_end": model_eps_e2e,
        "ratio_end_to_end_over_bare": model_eps_e2e / bare_eps,
        "target": EVENT_RATIO_TARGET,
        "target_met": model_eps / bare_eps >= EVENT_RATIO_TARGET,
        "spread_model_run": spread(run_samples),
        "spread_bare": spread(bare_plain),
        "phases_best_s": phase_best,
        "phases_ms_per_rep": {ph: 1000 * t / k for ph, t in phase_best.items()},
        "phases_spread": {ph: spread([p[ph] for p in model_plain]) for ph in model_plain[0]},
        "event_mix_check": mix_total == model_events,
        "event_mix_by_type": dict(by_type.most_common()),
        "event_mix_by_process": dict(by_process.most_common()),
        "event_mix_by_type_and_process": [
            {"type": et, "what": what, "events": c, "share": c / mix_total} for (et, what), c in tally.most_common()
        ],
    }


def area_of(filename: str) -> str:
    path = filename.replace("\\", "/")
    if path.startswith("~") or path.startswith("<"):
        return "builtins / C"
    if "/sim/" in path and path.startswith(str(ROOT).replace("\\", "/")):
        return "sim/" + path.rsplit("/", 1)[-1]
    for lib in ("simpy", "numpy", "pandas"):
        if f"/{lib}/" in path:
            return lib
    return "other Python"


def short_name(key: tuple) -> str:
    filename, line, func = key
    if filename.startswith("~"):
        return func
    path = filename.replace("\\", "/")
    for marker in ("/sim/", "/simpy/", "/numpy/"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1] + f":{line}({func})"
    return path.rsplit("/", 1)[-1] + f":{line}({func})"


def bench_profile(scenario, k: int, seed: int, top: int) -> dict:
    """cProfile of ``k`` replicate() calls: self time by area and the top functions. The
    profiler's overhead inflates small Python functions, so read the shares as indicative."""
    prof = cProfile.Profile()
    gc.collect()
    prof.enable()
    for r in range(k):
        replicate(scenario, r, seed)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    areas: Counter = Counter()
    for key, (_cc, _nc, tt, _ct, _callers) in stats.items():
        areas[area_of(key[0])] += tt
    funcs = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return {
        "replications": k,
        "self_time_by_area": [{"area": a, "share": t / total} for a, t in areas.most_common()],
        "top_functions": [
            {
                "function": short_name(key),
                "calls_per_rep": v[1] / k,
                "self_share": v[2] / total,
                "cum_share": v[3] / total,
            }
            for key, v in funcs
        ],
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def table(rows: list[list[str]], header: list[str], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(header)))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))
        )

    return "\n".join(["  " + fmt(header), "  " + "  ".join("-" * w for w in widths), *("  " + fmt(r) for r in rows)])


def report(res: dict) -> str:
    meta, tp, ev = res["meta"], res["throughput"], res["events"]
    out: list[str] = []
    out.append("=" * 78)
    out.append("Militia-pressure model benchmark")
    out.append(
        f"config {meta['config']}  seed {meta['seed']}  replications {tp['replications']}"
        f"  repeats {tp['repeats']} (events: {ev['repeats']})"
    )
    out.append(
        f"python {meta['python']}  simpy {meta['simpy']}  numpy {meta['numpy']}  cpus usable {meta['cpus_usable']}"
        f"  load avg {meta['loadavg_start']} -> {meta['loadavg_end']}  wall {meta['wall_s']:.1f}s"
    )
    out.append("All times: best of the repeats; 'spread' = worst/best (noise indicator, 1.00 = steady).")

    out.append("\n1. Replications per second (baseline, same replications in every mode)")
    m = tp["modes"]
    rows = []
    labels = {
        "loop": "plain loop of replicate()",
        "runner_w1": "run_scenario workers=1",
        "runner_w2": "run_scenario workers=2",
    }
    for mode, label in labels.items():
        d = m[mode]
        rows.append(
            [
                label,
                f"{d['reps_per_s']:.1f}",
                f"{d['ms_per_rep']:.2f}",
                f"{d['reps_per_s'] / m['loop']['reps_per_s']:.2f}x",
                f"{d['spread']:.2f}",
            ]
        )
    out.append(table(rows, ["mode", "reps/s", "ms/rep", "vs loop", "spread"]))
    out.append(
        f"  speedup workers=2 / workers=1: {tp['speedup_w2_vs_w1']:.2f}x  (ideal {min(2, meta['cpus_usable'])}.00x"
        f" on {meta['cpus_usable']} usable CPU(s); includes starting the process pool)"
    )
    out.append(
        f"  same rows in all three modes: {'yes' if tp['identical_results'] else 'NO (bug: results depend on the mode)'}"
    )

    out.append(f"\n2. SimPy events per second ({ev['replications']} replications vs as many bare runs)")
    out.append(
        f"  events per replication: {ev['model_events_per_replication']:.0f} (model)"
        f"; bare loop sized to {ev['bare_events_per_run']:.0f} per run"
    )
    rows = [
        [
            "model: World.run()",
            f"{ev['model_events_per_s']:,.0f}",
            f"{ev['model_events_per_s_counted']:,.0f}",
            f"{ev['spread_model_run']:.2f}",
        ],
        [
            "bare: yield env.timeout(1)",
            f"{ev['bare_events_per_s']:,.0f}",
            f"{ev['bare_events_per_s_counted']:,.0f}",
            f"{ev['spread_bare']:.2f}",
        ],
        ["ratio model/bare", f"{ev['ratio_model_over_bare']:.3f}", f"{ev['ratio_model_over_bare_counted']:.3f}", ""],
    ]
    out.append(table(rows, ["", "events/s", "events/s (counting on)", "spread"]))
    out.append(
        f"  end to end (construct + start + run + summarise): {ev['model_events_per_s_end_to_end']:,.0f} events/s,"
        f" {ev['ratio_end_to_end_over_bare']:.3f} of bare"
    )
    out.append(
        f"  target model/bare >= {ev['target']}: {'MET' if ev['target_met'] else 'NOT MET'}"
        f" ({ev['ratio_model_over_bare']:.3f})"
    )

    out.append("\n3. Where a replication's time goes (uninstrumented, per replication)")
    ph = ev["phases_ms_per_rep"]
    total = sum(ph.values())
    labels = {
        "construct": "World(scenario, Streams(...))",
        "start": "timeline.start + start_actors",
        "run": "timeline.run(world)",
        "summarise": "tabulate(records, calendar)",
    }
    rows = [[labels[p], f"{ph[p]:.3f}", f"{100 * ph[p] / total:.1f}%", f"{ev['phases_spread'][p]:.2f}"] for p in labels]
    rows.append(["sum of phases", f"{total:.3f}", "100.0%", ""])
    rows.append(["replicate() in the plain loop (sect. 1)", f"{m['loop']['ms_per_rep']:.3f}", "", ""])
    rows.append(["run_scenario w=1 (adds the Arrow table)", f"{m['runner_w1']['ms_per_rep']:.3f}", "", ""])
    out.append(table(rows, ["phase", "ms/rep", "share", "spread"]))

    out.append("\n  Event mix of world.run() (processed events by type, and the process each starts, ends or wakes)")
    rows = [
        [e["type"], e["what"], f"{e['events'] / ev['replications']:.0f}", f"{100 * e['share']:.1f}%"]
        for e in ev["event_mix_by_type_and_process"][:12]
    ]
    out.append(table(rows, ["event type", "what it does", "per rep", "share"], right={2, 3}))
    mix = ev["event_mix_by_process"]
    n_mix = sum(mix.values())
    out.append(
        "  by process (start + end + wake-ups): "
        + ", ".join(f"{p} {100 * c / n_mix:.0f}%" for p, c in list(mix.items())[:6])
    )
    if not ev["event_mix_check"]:
        out.append("  (warning: event-mix total differs from the step count)")

    if res.get("profile"):
        pr = res["profile"]
        out.append(f"\n  cProfile of {pr['replications']} replicate() calls (indicative: profiler overhead)")
        rows = [[a["area"], f"{100 * a['share']:.1f}%"] for a in pr["self_time_by_area"][:12]]
        out.append(table(rows, ["self time by area", "share"]))
        rows = [
            [
                f["function"],
                f"{f['calls_per_rep']:.0f}",
                f"{100 * f['self_share']:.1f}%",
                f"{100 * f['cum_share']:.1f}%",
            ]
            for f in pr["top_functions"]
        ]
        out.append(table(rows, ["top functions by self time", "calls/rep", "self", "cum"]))

    out.append("\n" + "=" * 78)
    out.append("SUMMARY")
    rows = [
        ["replications/s, plain loop", f"{m['loop']['reps_per_s']:.1f}", ""],
        ["replications/s, run_scenario workers=1", f"{m['runner_w1']['reps_per_s']:.1f}", ""],
        ["replications/s, run_scenario workers=2", f"{m['runner_w2']['reps_per_s']:.1f}", ""],
        ["speedup workers=2 / workers=1", f"{tp['speedup_w2_vs_w1']:.2f}x", f"ideal {min(2, meta['cpus_usable'])}x"],
        ["model events/s (World.run)", f"{ev['model_events_per_s']:,.0f}", ""],
        ["bare SimPy events/s", f"{ev['bare_events_per_s']:,.0f}", ""],
        [
            "model/bare events/s",
            f"{ev['ratio_model_over_bare']:.3f}",
            f"target >= {ev['target']}: {'MET' if ev['target_met'] else 'NOT MET'}",
        ],
        [
            "model/bare events/s, counting on",
            f"{ev['ratio_model_over_bare_counted']:.3f}",
            f"target >= {ev['target']}: {'MET' if ev['ratio_model_over_bare_counted'] >= ev['target'] else 'NOT MET'}",
        ],
        ["largest phase", max(ph, key=ph.get), f"{100 * max(ph.values()) / total:.0f}% of a replication"],
    ]
    out.append(table(rows, ["metric", "value", "note"], right={1}))
    out.append("=" * 78)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--replications", type=int, default=100, help="replications per throughput measurement (default 100)"
    )
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument(
        "--repeats", type=int, default=3, help="repeats of each throughput measurement; best is kept (default 3)"
    )
    p.add_argument(
        "--event-replications", type=int, default=20, help="replications per event-rate / breakdown pass (default 20)"
    )
    p.add_argument("--event-repeats", type=int, default=5, help="repeats of the event-rate passes (default 5)")
    p.add_argument(
        "--profile-replications", type=int, default=10, help="replications under cProfile; 0 skips (default 10)"
    )
    p.add_argument("--top", type=int, default=15, help="functions listed from the profile (default 15)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="scenario file (default configs/baseline.toml)")
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the report")
    args = p.parse_args(argv)
    for name in ("replications", "repeats", "event_replications", "event_repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    wall0 = now()
    loadavg = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"  # noqa: E731
    meta = {
        "config": os.path.relpath(args.config, ROOT)
        if Path(args.config).resolve().is_relative_to(ROOT)
        else args.config,
        "seed": args.seed,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpus_usable": default_workers(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": loadavg(),
    }
    scenario = load_scenario(args.config)

    log("warm-up ...")
    for r in range(3):
        replicate(scenario, r, args.seed)

    log(f"throughput: {args.replications} replications x {args.repeats} repeats x 3 modes ...")
    throughput = bench_throughput(scenario, args.replications, args.seed, args.repeats, log)
    log(f"events and breakdown: {args.event_replications} replications x {args.event_repeats} repeats ...")
    events = bench_events(scenario, args.event_replications, args.seed, args.event_repeats, log)
    profile = None
    if args.profile_replications > 0:
        log(f"profile: {args.profile_replications} replications under cProfile ...")
        profile = bench_profile(scenario, args.profile_replications, args.seed, args.top)

    meta["loadavg_end"] = loadavg()
    meta["wall_s"] = now() - wall0
    results = {"meta": meta, "throughput": throughput, "events": events, "profile": profile}
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
