"""The grammar of the command line: each command's arguments, options and help.

Only what parsing needs is imported here (argparse types and defaults), never the modules that
run a command: ``run.py --help`` and a usage error answer without loading the model, pandas or
scipy. :mod:`sim.cli.main` imports a command's module only when that command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from sim.cli.options import (
    add_batch_options,
    non_negative_int,
    outcome_half_width,
    positive_int,
    replications_count,
    seed_number,
)
from sim.project import CALIBRATION_METHODS, CONFIGS, DEFAULT_CALIBRATION

DEFAULT_SCENARIO = CONFIGS / "baseline.toml"
RUN_REPLICATIONS = 1000  # of `run`
DEFAULT_EXPERIMENT = CONFIGS / "experiments" / "policy_comparison.toml"
DEFAULT_RECORD = CONFIGS / "data" / "public_record.csv"
VALIDATION_REPLICATIONS = 1000  # of `validate`


class HelpShownLate(str):
    """A help text made only when it is shown (``trace --help``), not each time the parser is
    built: listing the event kinds imports the model, which declares them."""

    def __new__(cls, make: Callable[[], str]) -> HelpShownLate:
        text = super().__new__(cls, "(made when shown)")
        text.make = make
        return text

    def __mod__(self, values: object) -> str:  # argparse fills in a help text with %
        return self.make() % values


def event_kinds() -> list:
    """Every event kind (imports the model, which declares them), in the order they were listed
    when the command line imported the whole API at start: the model's own, the threats', then
    the actors' (kinds are listed in the order their modules declared them)."""
    import sim.replication.outcomes  # noqa: F401 (declares the model's own kinds)
    from sim.model.threats import threats

    threats()  # the threats' kinds, before the actors' modules declare theirs
    from sim.replication.simulate import record_kinds

    return record_kinds()


def _kinds_help() -> str:
    return f"only these event kinds, e.g. attack_rocket,us_killed (all: {', '.join(k.name for k in event_kinds())})"


def add_scenario_commands(commands) -> None:
    run = commands.add_parser("run", help="run replications of a scenario and summarise the outcomes")
    _scenario_arguments(run)
    add_batch_options(run, f"number of replications (default {RUN_REPLICATIONS})")
    trace = commands.add_parser("trace", help="print the timeline of one replication")
    _scenario_arguments(trace)
    trace.add_argument(
        "--replication",
        type=non_negative_int,
        default=0,
        metavar="R",
        help="which replication of the seed to trace (default 0): matches row R of a run",
    )
    trace.add_argument(
        "--kinds",
        metavar="K1,K2",
        help=HelpShownLate(_kinds_help),
    )
    trace.add_argument("--save", type=Path, metavar="FILE", help="also save the event log as .csv or .parquet")
    trace.add_argument(
        "--scenario",
        metavar="NAME",
        help="when the file is an experiment or a sweep: which of its scenarios or points "
        "(the seed defaults to the file's)",
    )


def _scenario_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "scenario_file",
        metavar="scenario",
        nargs="?",
        type=Path,
        default=DEFAULT_SCENARIO,
        help="scenario TOML file (default configs/baseline.toml)",
    )
    command.add_argument(
        "--seed", type=seed_number, default=None, dest="seed_given", help="root random seed (default 1)"
    )
    command.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a parameter by dotted path, e.g. threats.rocket.heavy_salvo_prob=0.2 (repeatable)",
    )


def add_batch_commands(commands) -> None:
    experiment = commands.add_parser(
        "experiment", help="run an experiment file: scenarios x replications, compared under common random numbers"
    )
    experiment.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=DEFAULT_EXPERIMENT,
        help="experiment TOML file (default configs/experiments/policy_comparison.toml)",
    )
    add_batch_options(experiment, "replications per scenario (default: the file's; with --precision, the first stage)")
    experiment.add_argument(
        "--precision",
        type=outcome_half_width,
        action="append",
        metavar="OUTCOME=HALF_WIDTH",
        help="add replications (doubling) until the 95%% interval of every paired difference of "
        "OUTCOME has at most this absolute half-width, e.g. us_killed=0.05 (repeatable)",
    )
    experiment.add_argument(
        "--max-replications",
        type=replications_count,
        metavar="N",
        help="with --precision: the most replications per scenario (default: 8 times the start, within the batch bounds)",
    )
    compare = commands.add_parser("compare", help="(re)write the comparison tables and report of a results folder")
    compare.add_argument(
        "folder",
        type=Path,
        help="a finished results folder made by 'experiment' (status complete; an "
        "unfinished one is finished by running its command again)",
    )
    sweep = commands.add_parser("sweep", help="run a sweep file: a design of parameter values x replications")
    sweep.add_argument("file", type=Path, help="sweep TOML file, e.g. configs/sweeps/strike_effects.toml")
    add_batch_options(sweep, "replications per design point (default: the file's)")


def add_calibrate_command(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate",
        help="Bayesian calibration on the public record (ABC-SMC, or neural posterior estimation): "
        "a posterior and its report",
    )
    calibrate.add_argument(
        "calibration",
        nargs="?",
        type=Path,
        default=DEFAULT_CALIBRATION,
        help="calibration file: scenario, record, budget and priors (default configs/calibration.toml)",
    )
    calibrate.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="public-record file instead of the calibration file's (rows marked use = fit are fitted)",
    )
    calibrate.add_argument(
        "--hold-out",
        default="",
        metavar="ID,ID",
        help="fitted rows of the record to keep out of the fit and predict (a backtest)",
    )
    calibrate.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder: new, or that of a stopped calibration of the same inputs to resume it "
        "(default: a new folder under results/)",
    )
    calibrate.add_argument(
        "--calibrated",
        type=Path,
        metavar="FILE",
        help="where to write the scenario of posterior medians (default configs/calibrated.toml, "
        "with the posterior copied to configs/data/posterior.parquet; DIR/calibrated.toml for "
        "--quick, --record, --hold-out or --method npe, which must not replace the project's)",
    )
    calibrate.add_argument(
        "--method",
        choices=CALIBRATION_METHODS,
        default="abc",
        help="the inference: abc, ABC-SMC with pyabc (the project's posterior); npe, neural posterior "
        "estimation with sbi, trained on the prior pilot (several times cheaper; the 'npe' extra)",
    )
    calibrate.add_argument(
        "--workers", type=positive_int, metavar="N", help="worker processes (default: all cores); same posterior"
    )
    calibrate.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786; same posterior"
    )
    calibrate.add_argument(
        "--quick",
        action="store_true",
        help="the calibration file's quick budget: a first look in under 3 minutes on 2 cores",
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")


def add_validate_command(commands) -> None:
    validate = commands.add_parser(
        "validate",
        help="score a scenario, or several side by side, against the public record (configs/data/public_record.csv)",
    )
    validate.add_argument(
        "scenario",
        type=Path,
        nargs="+",
        help="scenario TOML file, e.g. configs/scenarios/history_2020_2021.toml; with two or more, each "
        "is validated into DIR/<file stem>/ and DIR/side_by_side.md, .html and .csv set them side by side",
    )
    validate.add_argument(
        "--record",
        type=Path,
        default=DEFAULT_RECORD,
        help="public-record file (default configs/data/public_record.csv)",
    )
    validate.add_argument(
        "--events",
        type=Path,
        default=None,
        help="event record of the fit window, for the naive baselines the model's skill is measured "
        "against (default configs/data/events_2019_2020.csv; if that is missing, no baseline is scored)",
    )
    validate.add_argument("--seed", type=seed_number, default=1, help="root random seed (default 1)")
    validate.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a parameter by dotted path (repeatable)",
    )
    add_batch_options(validate, f"replications (default {VALIDATION_REPLICATIONS})")


def add_describe_command(commands) -> None:
    parser = commands.add_parser(
        "describe",
        help="write the model description (STRESS-DES layout) of a scenario, experiment or sweep file, or a results folder",
    )
    parser.add_argument("file", type=Path, help="a scenario, experiment or sweep TOML file, or a results folder")
    parser.add_argument("--out", type=Path, metavar="PATH", help="also write the description to this file (Markdown)")
