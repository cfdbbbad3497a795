"""How the forecast replay's truces follow the political inputs: the chance that the militias
declare a truce within 60 days of a date, for the threat of 20 September 2020 and for other
dates of 2020-2021, with 95% Wilson intervals over replications; and the share of days in truce.

    python bench/truce_forecast.py [--replications 1000] [--seed 1] [--scenario configs/scenarios/forecast_2020_2021.toml]

The forecast replay is told only of governments' actions (configs/scenarios/forecast_2020_2021.toml),
so a chance near the threat far above the chance elsewhere is what the decision model forecasts
from the inputs of September 2020, not a truce it was given. The README's Validation section
quotes this script's output; a rerun with the same seed gives the same figures.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.analysis.summary import wilson_interval  # noqa: E402
from sim.config.loader import load_scenario  # noqa: E402
from sim.model.records import record_kind_named  # noqa: E402
from sim.replication.simulate import simulate  # noqa: E402

WINDOW_DAYS = 60
DATES = (
    date(2020, 2, 1),
    date(2020, 4, 1),
    date(2020, 6, 1),
    date(2020, 9, 20),
    date(2021, 1, 1),
    date(2021, 3, 1),
    date(2021, 6, 1),
    date(2021, 9, 1),
)
THREAT = date(2020, 9, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenario", type=Path, default=ROOT / "configs" / "scenarios" / "forecast_2020_2021.toml")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    start, horizon = scenario.scenario.start_date, int(scenario.scenario.horizon_days)
    truce_start, truce_end = record_kind_named("truce_start"), record_kind_named("truce_end")
    starts: list[list[float]] = []
    in_truce = np.zeros(horizon)
    for rep in range(args.replications):
        records = simulate(scenario, rep, args.seed).ledger.records
        begun = [r.time_d for r in records if r.kind is truce_start]
        ended = [r.time_d for r in records if r.kind is truce_end]
        starts.append(begun)
        for i, t0 in enumerate(begun):
            t1 = ended[i] if i < len(ended) else horizon
            in_truce[int(t0) : int(min(t1, horizon))] += 1
    n = args.replications
    print(f"{args.scenario.name}: {n} replications, seed {args.seed}")
    print(f"P(the militias declare a truce within {WINDOW_DAYS} days of the date) [95% Wilson interval]:")
    for day in DATES:
        first = (day - start).days
        hits = sum(any(first <= t < first + WINDOW_DAYS for t in s) for s in starts)
        lo, hi = wilson_interval(hits, n)
        mark = "  <- the threat of 20 Sep 2020" if day == THREAT else ""
        print(f"  {day} to {day + timedelta(days=WINDOW_DAYS - 1)}: {hits / n:.3f} [{lo:.3f}, {hi:.3f}]{mark}")
    threat = (THREAT - start).days
    print(f"in a truce already on {THREAT} (not counted above: no truce is declared then): {in_truce[threat] / n:.3f}")
    year = (date(start.year + 1, 1, 1) - start).days
    print(
        f"share of days in truce: {start.year} {in_truce[:year].mean() / n:.3f}, {start.year + 1} {in_truce[year:].mean() / n:.3f}"
    )
    print(f"truces declared per replication: {np.mean([len(s) for s in starts]):.2f}")


if __name__ == "__main__":
    main()
