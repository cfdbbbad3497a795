"""Command-line layer of the batch commands: ``experiment``, ``compare`` and ``sweep``.

Each command calls the Python API (:mod:`sim.api`) and returns the text it reports;
:func:`sim.cli.main` writes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from sim.api import (
    DEFAULT_DATA,
    RunOptions,
    analyse_folder,
    calibrate,
    run_experiment,
    run_sweep,
    shown_path,
)
from sim.calibration.fit import Settings
from sim.project import PROJECT_ROOT
from sim.config.errors import UsageError
from sim.design.experiment import load_experiment
from sim.batch.runner import default_workers
from sim.design.sweep import load_sweep

DEFAULT_EXPERIMENT = PROJECT_ROOT / "configs" / "experiments" / "policy_comparison.toml"
SHOWN_OUTCOMES = 8  # outcomes printed on the terminal; the files hold all of them


def add_batch_options(command: argparse.ArgumentParser, positive_int) -> None:
    command.add_argument("--out", type=Path, metavar="DIR",
                         help="results folder: new, or the folder of an interrupted run of the same command "
                         "to resume it (default: a new folder under results/)")
    command.add_argument("--workers", type=positive_int, metavar="N",
                         help=f"local worker processes (default: all cores, here {default_workers()}); "
                         "results do not depend on it")
    command.add_argument("--scheduler", metavar="ADDRESS",
                         help="run on a Dask cluster, e.g. tcp://host:8786 (needs the 'dask' extra); same results")
    command.add_argument("--replications", type=positive_int, metavar="N",
                         help="replications per scenario or design point (default: the file's)")
    command.add_argument("--fail-fast", action="store_true",
                         help="stop at the first replication that raises (default: record it and go on)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def add_batch_commands(commands, positive_int) -> None:
    experiment = commands.add_parser(
        "experiment", help="run an experiment file: scenarios x replications, compared under common random numbers"
    )
    experiment.add_argument("file", nargs="?", type=Path, default=DEFAULT_EXPERIMENT,
                            help="experiment TOML file (default configs/experiments/policy_comparison.toml)")
    add_batch_options(experiment, positive_int)
    compare = commands.add_parser("compare", help="(re)write the comparison tables and report of a results folder")
    compare.add_argument("folder", type=Path, help="a results folder made by 'experiment'")
    sweep = commands.add_parser("sweep", help="run a sweep file: a design of parameter values x replications")
    sweep.add_argument("file", type=Path, help="sweep TOML file, e.g. configs/sweeps/strike_effects.toml")
    add_batch_options(sweep, positive_int)


def command_experiment(args: argparse.Namespace, argv: list[str]) -> str:
    experiment = load_experiment(args.file, args.replications)
    out = args.out or new_folder(experiment.header.name)
    options = RunOptions(progress_bar(args, experiment.batch), args.fail_fast, ("run.py", *argv))
    result = run_experiment(experiment, out, args.workers, args.scheduler, options=options)
    batch = experiment.batch
    return (
        f"{batch.name}: {len(batch.scenarios)} scenarios x {batch.replications} replications, "
        f"seed {batch.root_seed}, {result.manifest['elapsed_s']:.1f} s{_resumed(result.manifest)}\n"
        f"{format_tables(result.summary, result.comparison, list(experiment.outcomes)[:SHOWN_OUTCOMES], experiment.reference)}"
        f"{_failures_note(result.failures, out)}wrote {out}/ (report.md, summary.csv, comparison.csv, runs.parquet)\n"
    )


def command_compare(args: argparse.Namespace, argv: list[str]) -> str:
    folder: Path = args.folder
    manifest_path, runs_path = folder / "manifest.json", folder / "runs.parquet"
    if not manifest_path.exists() or not runs_path.exists():
        raise UsageError(f"{folder} is not a finished results folder (no manifest.json or runs.parquet)")
    manifest = json.loads(manifest_path.read_text())
    if "reference" not in manifest:
        raise UsageError(f"{folder} holds no experiment (its manifest names no reference scenario)")
    runs = pd.read_parquet(runs_path)
    outcomes = manifest["outcomes"]
    comparison = analyse_folder(folder, runs, manifest["reference"], outcomes, manifest.get("batch", "Experiment"))
    table = format_tables(comparison.summary, comparison.comparison, outcomes[:SHOWN_OUTCOMES], manifest["reference"])
    return f"{table}wrote {folder}/ (report.md, summary.csv, comparison.csv)\n"


def command_sweep(args: argparse.Namespace, argv: list[str]) -> str:
    sweep = load_sweep(args.file, args.replications)
    out = args.out or new_folder(sweep.header.name)
    options = RunOptions(progress_bar(args, sweep.batch), args.fail_fast, ("run.py", *argv))
    result = run_sweep(sweep, out, args.workers, args.scheduler, options=options)
    paths, outcomes = [p.path for p in sweep.parameters], list(sweep.header.outcomes)
    text = result.points[["point", *paths, *outcomes]].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    if result.sensitivity is not None:
        text += "\n\nSobol' indices (S1 first order, ST total; *_conf: half-width of the 95% interval)\n"
        text += result.sensitivity.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    return (
        f"{sweep.header.name}: {len(sweep.design)} points x {sweep.batch.replications} replications, "
        f"{result.manifest['elapsed_s']:.1f} s{_resumed(result.manifest)}\n{text}\n"
        f"{_failures_note(result.failures, out)}wrote {out}/points.csv and {result.plots} plots\n"
    )


def format_tables(summary: pd.DataFrame, comparison: pd.DataFrame, outcomes: list[str], reference: str) -> str:
    """Means per scenario and paired differences from the reference, as terminal tables."""
    means = _cells(summary, "mean", "ci95_low", "ci95_high", outcomes, "")
    text = "mean [95% CI] per scenario\n" + means[list(dict.fromkeys(summary["scenario"]))].to_string() + "\n"
    if comparison.empty:
        return text
    diffs = _cells(comparison, "mean_diff", "diff_ci95_low", "diff_ci95_high", outcomes, "+")
    return text + f"\npaired difference from {reference} [95% CI]\n" + diffs.to_string() + "\n"


def _cells(table: pd.DataFrame, mean: str, low: str, high: str, outcomes: list[str], sign: str) -> pd.DataFrame:
    shown = table[table["outcome"].isin(outcomes)]
    cells = [f"{m:{sign}.2f} [{lo:{sign}.2f}, {hi:{sign}.2f}]" for m, lo, hi in zip(shown[mean], shown[low], shown[high])]
    return shown.assign(cell=cells).pivot(index="outcome", columns="scenario", values="cell").reindex(outcomes)


def _failures_note(failures: pd.DataFrame, out: Path) -> str:
    if failures.empty:
        return ""
    return f"{len(failures)} replications failed and are not in the tables: see {out}/failures.csv\n"


def _resumed(manifest: dict) -> str:
    resumed = manifest.get("chunks_resumed", 0)
    return f" (resumed: {resumed} chunks were already done)" if resumed else ""


def new_folder(name: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / f"{name}-{stamp}"


def progress_bar(args: argparse.Namespace, batch):
    if args.quiet:
        return None
    from tqdm import tqdm

    bar = tqdm(total=len(batch.scenarios) * batch.replications, unit="rep", disable=None, file=sys.stderr, leave=False)
    return bar.update


def add_calibrate_command(commands, positive_int, non_negative_int) -> None:
    calibrate = commands.add_parser(
        "calibrate", help="fit attack intensity to the observed 2020 quarterly counts (synthetic likelihood)"
    )
    calibrate.add_argument("scenario", nargs="?", type=Path, default=PROJECT_ROOT / "configs" / "baseline.toml",
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
    calibrated = args.calibrated or (out / "calibrated.toml" if args.quick or predict else PROJECT_ROOT / "configs" / "calibrated.toml")
    if calibrated.resolve() == args.scenario.resolve():
        raise UsageError(f"--calibrated {calibrated} would overwrite the scenario it extends: write it elsewhere")
    bar = None if args.quiet else _counter("evaluations")
    result = calibrate(args.scenario, out, args.data, fit_quarters, predict, args.seed, args.workers, settings,
                       calibrated, options=RunOptions(bar, False, ("run.py", *argv)))  # fmt: skip
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


def _counter(unit: str):
    from tqdm import tqdm

    return tqdm(unit=unit, disable=None, file=sys.stderr, leave=False).update
