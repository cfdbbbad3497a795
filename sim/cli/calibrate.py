"""The ``calibrate`` command: the posterior of the disputed parameters, given the public record."""

from __future__ import annotations

import argparse

from sim.calibration.settings import load_calibration
from sim.cli.options import new_folder, progress_bar
from sim.project import CONFIGS, DEFAULT_CALIBRATION, shown_path

INSTALLED_POSTERIOR = CONFIGS / "data" / "posterior.parquet"
CALIBRATED = CONFIGS / "calibrated.toml"


def command_calibrate(args: argparse.Namespace, argv: list[str]) -> str:
    hold_out = tuple(h.strip() for h in args.hold_out.split(",") if h.strip())
    calibration = load_calibration(args.calibration, args.record, hold_out)  # bad input stops here, before any folder
    from sim import api  # imported once the calibration file is checked (start-up time)

    budget = calibration.budget(args.quick)
    project_default = (
        not (args.quick or args.record or hold_out)
        and args.method == "abc"
        and args.calibration.resolve() == DEFAULT_CALIBRATION.resolve()
    )
    out = args.out or new_folder("calibration-quick" if args.quick else "calibration")
    calibrated = args.calibrated or (CALIBRATED if project_default else out / "calibrated.toml")
    install = INSTALLED_POSTERIOR if project_default and args.calibrated is None else None
    calibration.check_not_read(calibrated, "--calibrated")  # the replay, an input, or the same file under another name
    progress = progress_bar(args.quiet, budget.counted(args.method), "sim")
    options = api.CalibrationOptions(args.quick, args.record, hold_out, calibrated, install, args.method)
    result = api.calibrate(
        args.calibration,
        out,
        options,
        api.BatchOptions(progress, command=("run.py", *argv), workers=args.workers, scheduler=args.scheduler),
    )
    table = result.parameters
    shown = table[
        [
            "parameter",
            "prior_median",
            "posterior_median",
            "posterior_low90",
            "posterior_high90",
            "width_ratio",
            "attainable_width_ratio",
            "moved",
        ]
    ]
    state = result.inference.progress
    ran = (
        state.reason
        if args.method == "npe"
        else f"{state.generations} generations, {state.simulations} simulations; stopped by {state.reason}"
    )
    return (
        f"calibration {calibration.header.name} on {shown_path(calibration.record_path)}: "
        f"{ran}{' (--quick)' if args.quick else ''}\n\n"
        f"{shown.to_string(index=False, float_format=lambda v: f'{v:.4g}')}\n\n"
        f"moved by the data: {int(table['moved'].sum())} of {len(table)} parameters\n"
        f"posterior predictive check: {result.predictive.summary.removeprefix('summary: ')}\n"
        f"wrote {out}/ (posterior_report.md, posterior_report.html, posterior.parquet, parameters.csv, generations.csv, plots/, predictive/)\n"
        f"calibrated scenario (posterior medians): {shown_path(result.calibrated)}"
        + (f"; posterior installed as {shown_path(result.installed)}" if result.installed else "")
        + "\n"
    )
