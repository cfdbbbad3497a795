"""How often the robustness experiment's 95% intervals cover, measured in a bootstrap world.

    python run.py experiment configs/experiments/robustness.toml --replications 200 --out POP   # the population (about an hour on 2 cores)
    python bench/robustness_coverage.py POP [--replications 40] [--experiments 400] [--seed 1]

The replications of a large run of the robustness experiment are taken as all the futures there
are, and each metric's value over all of them as the truth (sim/analysis/coverage.py). Each
small experiment draws --replications of those futures with replacement, the same draw for every
option and state (as a run's replications are shared by all of them), and computes the intervals
of robustness.csv as the experiment does; the script counts how often each interval holds the
truth and prints, per metric, the coverages over options and outcomes with their Monte Carlo
spread (95% Wilson intervals of each count), the mean half-widths, and every row with --all.
Metrics without noise (every interval of width 0, holding the truth: separation's regret on
strikes it never makes) are counted apart: their coverage says nothing of the method.

Replications 0..n-1 of a run are those of a run of n, so the population's first --replications
replications are the shipped experiment itself: the script also prints that experiment's widest
half-widths (the ones the [precision] table of the experiment file is checked against). Nothing
asserts; the script exits 0 whatever the coverage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.analysis.coverage import coverage  # noqa: E402
from sim.analysis.regret import RESAMPLES, metric_table, value_cube  # noqa: E402
from sim.design.experiment import load_experiment  # noqa: E402
from sim.design.robustness import StatesDesign  # noqa: E402

SHIPPED = ROOT / "configs" / "experiments" / "robustness.toml"
BAND = (0.93, 0.97)
REGRET = ("regret_mean", "regret_max", "regret_p90")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("population", type=Path, help="results folder of a large run of a robustness experiment")
    parser.add_argument(
        "--replications", type=int, default=None, help="of each small experiment (default: the shipped file's)"
    )
    parser.add_argument("--experiments", type=int, default=400, help="small experiments (default 400)")
    parser.add_argument(
        "--resamples", type=int, default=RESAMPLES, help=f"bootstrap resamples of each (default {RESAMPLES})"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="print every option, outcome and metric")
    args = parser.parse_args()
    n = args.replications or load_experiment(SHIPPED).batch.replications
    manifest = json.loads((args.population / "manifest.json").read_text(encoding="utf-8"))
    design = StatesDesign.from_manifest(manifest["reference"], manifest["robustness"])
    runs = pd.read_parquet(args.population / "runs.parquet")
    outcomes = list(manifest["outcomes"])
    cubes = {
        o: value_cube(runs, design, o) for o in dict.fromkeys([*outcomes, *(t.outcome for t in design.thresholds)])
    }
    futures = next(iter(cubes.values())).shape[-1]
    print(
        f"population: {args.population} ({len(design.options)} options x {len(design.states)} states x {futures} "
        f"replications); {args.experiments} experiments of {n} replications, {args.resamples} resamples each, seed {args.seed}"
    )
    started = time.perf_counter()
    table = coverage(cubes, design.options, outcomes, design.thresholds, n, args.experiments, args.seed, args.resamples)
    print(f"{time.perf_counter() - started:.0f} s\n")
    pd.set_option("display.width", 200)
    noisy = table[~table["exact"]]
    print(
        f"coverage of the 95% intervals (target {BAND[0]:.0%}-{BAND[1]:.0%}); Monte Carlo spread of one coverage: "
        f"+-{1.96 * np.sqrt(0.95 * 0.05 / args.experiments):.3f} at 95%\n"
    )
    print(summary(noisy).to_string(float_format=lambda v: f"{v:.3f}"))
    exact = table[table["exact"]]
    if len(exact):
        groups = exact.groupby(["outcome", "option"], sort=False)["metric"].apply(len)
        print(
            f"\nwithout noise (every interval of width 0, holding the truth), left out above: {len(exact)} intervals, "
            + "; ".join(f"{outcome} of {option} ({k})" for (outcome, option), k in groups.items())
        )
    focus = noisy[noisy.metric.isin(REGRET) | (noisy.metric == "satisficing")]
    inside = ((focus["coverage_high"] >= BAND[0]) & (focus["coverage_low"] <= BAND[1])).mean()
    print(
        f"\nregret and satisficing: {len(focus)} intervals, coverage {focus['coverage'].min():.3f}-{focus['coverage'].max():.3f} "
        f"(median {focus['coverage'].median():.3f}); {inside:.0%} of them with a Monte Carlo interval reaching the target band"
    )
    if args.all:
        print("\n" + table.to_string(float_format=lambda v: f"{v:.3f}"))
    shipped = metric_table(
        {k: v[..., :n] for k, v in cubes.items()},
        design.options,
        outcomes,
        design.thresholds,
        manifest["root_seed"],
        args.resamples,
    )
    print(
        f"\nthe experiment of replications 0-{n - 1} (the shipped file's run): widest 95% half-width over the options"
    )
    print(half_widths(shipped).to_string(float_format=lambda v: f"{v:.3g}"))


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per metric: how many intervals, their coverages' minimum, median and maximum, and the
    share of them whose Monte Carlo interval reaches the target band."""
    rows = []
    for metric, group in table.groupby("metric", sort=False):
        reaches = (group["coverage_high"] >= BAND[0]) & (group["coverage_low"] <= BAND[1])
        worst = group.loc[group["coverage"].idxmin()]
        rows.append(
            {
                "metric": metric,
                "intervals": len(group),
                "min": group["coverage"].min(),
                "median": group["coverage"].median(),
                "max": group["coverage"].max(),
                "reach band": reaches.mean(),
                "lowest": f"{worst['option']} {worst['outcome']}",
                "mean half-width (lowest)": worst["half_width"],
            }
        )
    return pd.DataFrame(rows).set_index("metric")


def half_widths(table: pd.DataFrame) -> pd.DataFrame:
    """Per outcome: the widest half-width over the options of mean regret and of the shares."""
    widths = table.assign(half_width=(table["ci95_high"] - table["ci95_low"]) / 2)
    chosen = widths[(widths.metric == "regret_mean") | (widths.metric == "satisficing")]
    return chosen.groupby(["metric", "outcome"], sort=False)["half_width"].max().to_frame()


if __name__ == "__main__":
    main()
