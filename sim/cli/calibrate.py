"""The ``calibrate`` command: fit the attack intensity to the observed quarterly counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim import api
from sim.calibration.fit import Settings
from sim.cli.options import new_folder, non_negative_int, positive_int, progress_bar
from sim.config.errors import UsageError
from sim.project import CONFIGS, shown_path

DEFAULT_DATA = api.DEFAULT_DATA


def add_calibrate_command(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate", help="fit attack intensity to the observed 2020 quarterly counts (synthetic likelihood)"
    )
    calibrate.add_argument("scenario", nargs="?", type=Path, default=CONFIGS / "baseline.toml",
                           help="scenario to calibrate (default configs/baseline.toml)")
    calibrate.add_argument("--data", type=Path, default=DEFAULT_DATA,
                           help="observed counts (default configs/data/attacks_2020.csv)")
    calibrate.add_argument("--fit", default="Q1,Q2,Q3", metavar="Q1,Q2,...", help="quarters to fit (default Q1,Q2,Q3)")
    calibrate.add_argument("--predict", default="", metavar="Q3", help="held-back quarters to predict (a backtest)")
    calibrate.add_argument("--out", type=Path, metavar="DIR", help="new folder for the fit report (default under results/)")
    calibrate.add_argument("--calibrated", type=Path, metavar="FILE",
                           help="where to write the calibrated scenario (default configs/calibrated.toml; "
                           "DIR/calibrated.toml for --quick or --predict, which must not replace the project's)")
    calibrate.add_argument("--seed", type=non_negative_int, default=1, help="root seed of the simulations (default 1)")
    calibrate.add_argument("--workers", type=positive_int, metavar="N", help="worker processes (default: all cores)")
    calibrate.add_argument("--quick", action="store_true", help="a coarse fit in well under a minute (for tests and a first look)")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")


def command_calibrate(args: argparse.Namespace, argv: list[str]) -> str:
    fit_quarters = _quarters(args.fit, "--fit")
    predict = _quarters(args.predict, "--predict") if args.predict else []
    overlap = set(fit_quarters) & set(predict)
    if overlap:
        raise UsageError(f"--predict {args.predict}: {', '.join(sorted(overlap))} is also fitted")
    settings = Settings.quick() if args.quick else Settings()
    out = args.out or new_folder("calibration")
    calibrated = args.calibrated or (out / "calibrated.toml" if args.quick or predict else CONFIGS / "calibrated.toml")
    if calibrated.resolve() == args.scenario.resolve():
        raise UsageError(f"--calibrated {calibrated} would overwrite the scenario it extends: write it elsewhere")
    request = api.FitRequest(args.data, tuple(fit_quarters), tuple(predict), settings=settings)
    options = api.RunOptions(progress_bar(args.quiet, None, "evaluations"), False, ("run.py", *argv))
    result = api.calibrate(args.scenario, out, request, args.seed, args.workers, calibrated, options)
    fitted = result.parameters[result.parameters["status"].str.startswith("calibrated")]
    checks = "\n".join(f"P(no U.S. casualties in {q}) = {p:.3f}" for q, p in result.p_no_us_casualties.items())
    return (
        f"calibration of {shown_path(args.scenario)} on {shown_path(args.data)} (fit {','.join(fit_quarters)}"
        f"{'; predict ' + ','.join(predict) if predict else ''}), {result.fit.evaluations} evaluations\n\n"
        f"{fitted[['parameter', 'value', 'ci95_low', 'ci95_high']].to_string(index=False, float_format=lambda v: f'{v:.4g}')}\n\n"
        f"{result.counts.drop(columns='within_central_90').to_string(index=False, float_format=lambda v: f'{v:.1f}')}\n\n"
        f"{result.dispersion.to_string(index=False, float_format=lambda v: f'{v:.2f}')}\n\n{checks}\n"
        f"wrote {out}/ (fit_report.md, fit_report.csv, parameters.csv, fit.png, runs.parquet) and {calibrated}\n"
    )


def _quarters(text: str, option: str) -> list[str]:
    quarters = [q.strip().upper() for q in text.split(",") if q.strip()]
    if not quarters or any(q not in ("Q1", "Q2", "Q3", "Q4") for q in quarters):
        raise UsageError(f"{option} {text!r} must list quarters such as Q1,Q2,Q3")
    return quarters
