#!/usr/bin/env python3
"""Benchmark of writing a report's figures: matplotlib's ``savefig`` against drawing once.

Run from the project root:  python bench/bench_figures.py [--rounds 3] [--replications 20]

It runs the default job's experiment (``configs/experiments/policy_comparison.toml``) once with
``--replications`` replications into a temporary folder, then, in ``--rounds`` rounds, starts two
fresh processes that each build the report's 16 figures from that folder
(:func:`sim.analysis.report.report_figures`) and write them as PNG files, one by ``savefig``
(which draws a figure with a layout engine twice: once to lay it out, once to render) and one by
:func:`sim.analysis.png.write_png` (one draw), alternating which goes first. Each child prints
the CPU seconds of building the figures and of writing them (``time.process_time``) and a digest
of the PNG bytes. The script prints each round, the median and min-max of the writing CPU of each
method and of their ratio, and whether the bytes were the same. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("savefig", "once")


def child(method: str, folder: Path) -> None:
    import io
    import time

    import pandas as pd

    from sim.analysis.png import png_bytes
    from sim.analysis.report import report_figures
    from sim.api.experiment import compare

    runs = pd.read_parquet(folder / "runs.parquet")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    outcomes = manifest["outcomes"]
    comparison = compare(runs, manifest["reference"], outcomes)
    start = time.process_time()
    figures = report_figures(runs, comparison.summary, comparison.decisions, outcomes, None, manifest.get("period", ""))
    built = time.process_time()
    digest = hashlib.sha256()
    for figure in figures.values():
        if method == "savefig":
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", metadata={"Software": None})
            digest.update(buffer.getvalue())
        else:
            digest.update(png_bytes(figure))
    written = time.process_time()
    print(
        json.dumps(
            {"figures": len(figures), "build": built - start, "write": written - built, "digest": digest.hexdigest()}
        )
    )


def measure(method: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(folder)], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the two methods (default 3)")
    parser.add_argument("--replications", type=int, default=20, help="replications of the experiment (default 20)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pc"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "run.py"),
                "experiment",
                str(ROOT / "configs" / "experiments" / "policy_comparison.toml"),
                "--replications",
                str(args.replications),
                "--out",
                str(folder),
                "--quiet",
            ],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        results: dict[str, list[dict]] = {m: [] for m in METHODS}
        for k in range(args.rounds):
            order = METHODS if k % 2 == 0 else METHODS[::-1]
            for method in order:
                results[method].append(measure(method, folder))
            print(
                f"round {k + 1}: "
                + ", ".join(
                    f"{m}: build {results[m][-1]['build']:.2f} s, write {results[m][-1]['write']:.2f} s"
                    for m in METHODS
                )
            )
    writes = {m: [r["write"] for r in results[m]] for m in METHODS}
    ratios = [a / b for a, b in zip(writes["savefig"], writes["once"], strict=True)]
    same = len({r["digest"] for m in METHODS for r in results[m]}) == 1
    figures = results["once"][0]["figures"]
    for m in METHODS:
        print(
            f"{m}: writing {figures} figures took {statistics.median(writes[m]):.2f} s of CPU "
            f"(min-max {min(writes[m]):.2f}-{max(writes[m]):.2f})"
        )
    print(
        f"savefig / once: {statistics.median(ratios):.2f} (min-max {min(ratios):.2f}-{max(ratios):.2f}); "
        f"the PNG bytes are {'the same' if same else 'NOT the same'}"
    )


if __name__ == "__main__":
    main()
