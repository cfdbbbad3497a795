"""What the posterior changes in the default job's verdicts, and whether 400 draws are enough.

Runs (or reads, when the folders exist) the policy comparison over the posterior
(configs/experiments/policy_comparison.toml, the default job), the same comparison at the
posterior medians (policy_comparison_at_medians.toml), and the default job again with another
root seed (other draws from the same posterior, other random streams). Prints, over every
(option, outcome): how many verdicts differ between the medians and the posterior, how many
estimates at the medians fall outside the posterior's 95% interval, the effects whose sign
differs; and between the two seeds, how many verdicts differ and how far the estimates move
in units of the interval's half-width. The README quotes this output.

    python bench/medians_vs_posterior.py [--out results/bench-medians]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import api  # noqa: E402
from sim.analysis.decision import verdict  # noqa: E402
from sim.replication.outcomes import better_direction  # noqa: E402

EXPERIMENTS = {"posterior": "policy_comparison.toml", "medians": "policy_comparison_at_medians.toml"}
OTHER_SEED = 7


def comparison(folder: Path, experiment: str, seed: int | None = None) -> pd.DataFrame:
    if not (folder / "comparison.csv").is_file():
        path = ROOT / "configs" / "experiments" / experiment
        if seed is None:
            api.run_experiment(path, folder)
        else:  # the same file with another root seed, beside it so that its relative paths hold
            copy = path.with_name(f".seed-{seed}-{experiment}")
            copy.write_text(
                path.read_text(encoding="utf-8").replace("root_seed = 2020", f"root_seed = {seed}"), encoding="utf-8"
            )
            try:
                api.run_experiment(copy, folder)
            finally:
                copy.unlink()
    return pd.read_csv(folder / "comparison.csv").set_index(["scenario", "outcome"])


def verdicts(table: pd.DataFrame) -> pd.Series:
    return pd.Series(
        {
            key: verdict(r["mean_diff"], r["diff_ci95_low"], r["diff_ci95_high"], better_direction(key[1]))
            for key, r in table.iterrows()
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench-medians")
    args = parser.parse_args()
    tables = {name: comparison(args.out / name, file) for name, file in EXPERIMENTS.items()}
    post, med = tables["posterior"], tables["medians"]
    rows = []
    for key in post.index:
        p, m = post.loc[key], med.loc[key]
        better = better_direction(key[1])
        rows.append(
            {
                "option": key[0],
                "outcome": key[1],
                "at medians": m["mean_diff"],
                "over the posterior": p["mean_diff"],
                "posterior 95% CI": f"[{p['diff_ci95_low']:.3g}, {p['diff_ci95_high']:.3g}]",
                "verdict at medians": verdict(m["mean_diff"], m["diff_ci95_low"], m["diff_ci95_high"], better),
                "verdict over the posterior": verdict(p["mean_diff"], p["diff_ci95_low"], p["diff_ci95_high"], better),
                "outside": not p["diff_ci95_low"] <= m["mean_diff"] <= p["diff_ci95_high"],
            }
        )
    table = pd.DataFrame(rows)
    differ = table[table["verdict at medians"] != table["verdict over the posterior"]]
    print(
        f"{len(table)} effects (option x outcome); verdicts that differ: {len(differ)}; "
        f"estimates at the medians outside the posterior 95% interval: {int(table['outside'].sum())}"
    )
    print(differ.drop(columns="outside").to_string(index=False, float_format=lambda v: f"{v:+.3g}"))
    signs = table[(table["at medians"] * table["over the posterior"] < 0) & table["outside"]]
    print(f"\nsign changes outside the posterior interval: {len(signs)}")
    print(signs.drop(columns="outside").to_string(index=False, float_format=lambda v: f"{v:+.3g}"))
    other = comparison(args.out / f"posterior-seed-{OTHER_SEED}", EXPERIMENTS["posterior"], OTHER_SEED)
    half = (post["diff_ci95_high"] - post["diff_ci95_low"]) / 2
    moved = ((other["mean_diff"] - post["mean_diff"]).abs() / half).replace([float("inf")], float("nan")).dropna()
    changed = (verdicts(other) != verdicts(post)).sum()
    print(
        f"\nanother seed ({OTHER_SEED}: other draws, other streams): verdicts that differ: {changed} of {len(post)}; "
        f"the estimates move by a median of {moved.median():.2f} and at most {moved.max():.2f} half-widths of the 95% "
        f"interval (two independent estimates differ by less than 1.39 half-widths 83% of the time)"
    )


if __name__ == "__main__":
    main()
