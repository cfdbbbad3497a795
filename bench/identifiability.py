#!/usr/bin/env python3
"""A simulation study: what the calibration's statistics can tell about each parameter at best.

Run from the project root:  python bench/identifiability.py [--replications 300] [--joint 1000] [--workers N]

Two studies on the project calibration (configs/calibration.toml, its record, its event record):

- joint: parameters drawn together from their priors (as the calibration's prior pilot does);
- alone: one parameter drawn from its prior, every other at its prior median (the most
  favourable case: as if all the others were known).

For each parameter a cross-validated regression predicts it from the simulated statistics
(sim/calibration/identifiability.py); sqrt(1 - R^2) is the width ratio (posterior 90% width over
prior 90% width) an ideal inference on these statistics could expect. Near 1: the window's
statistics cannot inform the parameter. The script prints both ratios per parameter and the
spread of the joint one over --splits halves of the draws (a rerun with the same arguments gives
the same numbers: the draws and the replications' streams are fixed by the calibration's seed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from sim.batch.execution import Execution, run_batch  # noqa: E402
from sim.batch.runner import default_workers  # noqa: E402
from sim.calibration.identifiability import attainable_widths, one_at_a_time  # noqa: E402
from sim.calibration.pilot import PILOT_CHUNK, prior_draws  # noqa: E402
from sim.calibration.settings import load_calibration  # noqa: E402
from sim.design.batch import Batch, Source  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=300, help="draws per parameter in the one-at-a-time study")
    parser.add_argument("--joint", type=int, default=1000, help="draws of the joint study")
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    calibration = load_calibration(ROOT / "configs" / "calibration.toml")
    execution = Execution(workers=args.workers)
    checks = tuple(o.check for o in calibration.fitted)
    draws = prior_draws(calibration.priors, args.joint, calibration.header.root_seed, "the priors", "study")
    batch = Batch(
        "joint",
        (("priors", calibration.scenario),),
        args.joint,
        calibration.header.root_seed,
        Source("calibration", calibration.path),
        chunk_size=PILOT_CHUNK,
        checks=checks,
        draws=draws,
    )
    runs = run_batch(batch, execution=execution).runs
    joint = attainable_widths(runs, calibration.priors, calibration.fitted)
    halves = [
        attainable_widths(runs.iloc[k::2].reset_index(drop=True), calibration.priors, calibration.fitted)
        for k in (0, 1)
    ]
    alone = one_at_a_time(calibration, args.replications, execution)
    table = pd.DataFrame(
        {
            "parameter": joint["parameter"],
            "joint": joint["attainable_width_ratio"].round(3),
            "joint, halves": [
                f"{a:.2f} / {b:.2f}"
                for a, b in zip(halves[0]["attainable_width_ratio"], halves[1]["attainable_width_ratio"])
            ],
            "alone": alone["attainable_width_ratio"].round(3),
        }
    )
    print(
        f"{len(calibration.fitted)} statistics; joint study {args.joint} draws, one-at-a-time {args.replications} per parameter; "
        f"seed {calibration.header.root_seed}"
    )
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
