"""The ``validate`` command: score a scenario against a public-record file."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim import api
from sim.cli.options import (
    add_batch_options,
    failures_note,
    new_folder,
    progress_bar,
    resumed,
    seed_number,
)
from sim.analysis.validation import skill_table
from sim.project import CONFIGS, shown_path

DEFAULT_RECORD = CONFIGS / "data" / "public_record.csv"
DEFAULT_REPLICATIONS = 1000


def add_validate_command(commands) -> None:
    validate = commands.add_parser("validate", help="score a scenario against the public record (configs/data/public_record.csv)")
    validate.add_argument("scenario", type=Path, help="scenario TOML file, e.g. configs/scenarios/history_2020_2021.toml")
    validate.add_argument("--record", type=Path, default=DEFAULT_RECORD,
                          help="public-record file (default configs/data/public_record.csv)")
    validate.add_argument("--events", type=Path, default=None,
                          help="event record of the fit window, for the naive baselines the model's skill is measured "
                               "against (default configs/data/events_2019_2020.csv; if that is missing, no baseline is scored)")
    validate.add_argument("--seed", type=seed_number, default=1, help="root random seed (default 1)")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                          help="override a parameter by dotted path (repeatable)")
    add_batch_options(validate, f"replications (default {DEFAULT_REPLICATIONS})")


def command_validate(args: argparse.Namespace, argv: list[str]) -> str:
    replications = args.replications or DEFAULT_REPLICATIONS
    api.load_scenario(args.scenario, args.overrides)  # bad input stops here, before any folder
    out = args.out or new_folder(f"validation-{args.scenario.stem}")
    options = api.RunOptions(progress_bar(args.quiet, replications), args.fail_fast, ("run.py", *argv), args.scheduler_timeout)
    result = api.validate(args.scenario, args.record, out, replications, args.seed, args.overrides, args.workers, options,
                          events=args.events)  # fmt: skip
    columns = ["check", "use", "observed_low", "observed_high", "sim_mean", "sim_p05", "sim_p95", "percentile", "inside_90", "score"]
    columns += [c for c in result.table.columns if c.startswith("skill_")]
    in_sample = result.table["use"] != "held-out"
    tables = "".join(
        f"{title}:\n{result.table.loc[rows, columns].to_string(index=False, float_format=lambda v: f'{v:.3g}')}\n"
        for title, rows in (("in-sample checks (use fit, set or overlap: they tuned the model, or overlap what did)", in_sample), ("held-out checks", ~in_sample))
        if rows.any()
    )  # fmt: skip
    skill = ""
    if result.fit is not None:
        skills = skill_table(result.table)
        skills["skill"] = [f"{v:+.3f}" for v in skills["skill"]]
        skill = f"{skills.to_string(index=False, float_format=lambda v: f'{v:.3g}')}\n"
    skipped = f"not checked (outside the horizon): {', '.join(o.check.id for o in result.skipped)}\n" if result.skipped else ""
    return (
        f"validation of {shown_path(args.scenario)} against {shown_path(args.record)}: {replications} replications, "
        f"seed {args.seed}, {result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n"
        f"{result.skill}\n{skill}{tables}{skipped}{result.summary}\n"
        f"{failures_note(result.failures, out)}wrote {out}/ (validation.md, validation.html, validation.csv, plots/fan_chart.png, runs.parquet)\n"
    )
