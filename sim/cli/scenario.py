"""The commands on one scenario: ``run`` (replications into a results folder) and ``trace``
(the timeline of one replication)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim import api
from sim.analysis.summary import format_summary
from sim.batch.cells import neutralise_cells
from sim.cli.options import (
    add_batch_options,
    batch_options,
    failures_note,
    new_folder,
    non_negative_int,
    progress_bar,
    resumed,
    seed_number,
)
from sim.config.errors import UsageError
from sim.config.loader import load_scenario, read_toml
from sim.config.scenario import Scenario
from sim.design.experiment import load_experiment
from sim.design.sweep import load_sweep
from sim.model.records import RunawayReplication
from sim.project import CONFIGS
from sim.replication.simulate import event_log, event_table, record_kinds

DEFAULT_SCENARIO = CONFIGS / "baseline.toml"
DEFAULT_REPLICATIONS = 1000


def add_scenario_commands(commands) -> None:
    run = commands.add_parser("run", help="run replications of a scenario and summarise the outcomes")
    _scenario_arguments(run)
    add_batch_options(run, f"number of replications (default {DEFAULT_REPLICATIONS})")
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
        help=f"only these event kinds, e.g. attack_rocket,us_killed (all: {', '.join(k.name for k in record_kinds())})",
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


def command_run(args: argparse.Namespace, argv: list[str]) -> str:
    seed = 1 if args.seed_given is None else args.seed_given
    replications = args.replications or DEFAULT_REPLICATIONS
    scenario = load_scenario(args.scenario_file, args.overrides)  # bad input stops here, before any folder
    out = args.out or new_folder(f"{scenario.scenario.name}-seed{seed}")
    result = api.run_scenario(
        args.scenario_file,
        replications,
        seed,
        out,
        overrides=args.overrides,
        batch=batch_options(args, argv, progress_bar(args.quiet, replications)),
    )
    return (
        f"{scenario.scenario.name}: {replications} replications, seed {seed}, "
        f"{result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n"
        f"{format_summary(result.summary)}\n"
        f"{failures_note(result.failures, out)}wrote {out}/ (runs.parquet, summary.csv, failures.csv, manifest.json, describe.md)\n"
    )


def command_trace(args: argparse.Namespace, argv: list[str]) -> str:
    scenario, seed = _traced_scenario(args)
    kinds = _parse_kinds(args.kinds)
    if args.save is not None and args.save.suffix not in (".csv", ".parquet"):
        raise UsageError(f"--save {args.save}: the file must end in .csv or .parquet")
    try:
        log = event_log(scenario, args.replication, seed)
    except RunawayReplication as exc:
        raise UsageError(f"replication {args.replication} of seed {seed} stopped: {exc}") from None
    records = [r for r in log if kinds is None or r.kind in kinds]
    table = event_table(records, scenario)
    shown = table.drop(columns=["time_d"]).astype({"generation": "object"}).fillna("")
    report = (
        f"{scenario.scenario.name}: seed {seed}, replication {args.replication}, {len(table)} events\n"
        f"{shown.to_string(index=False)}\n"
    )
    if args.save is not None:
        _save_table(table, args.save)
        report += f"wrote {args.save}\n"
    return report


def _traced_scenario(args: argparse.Namespace) -> tuple[Scenario, int]:
    """The scenario to trace: a scenario file, or one scenario of an experiment or sweep file."""
    seed = 1 if args.seed_given is None else args.seed_given
    if args.scenario is None:
        return load_scenario(args.scenario_file, args.overrides), seed
    if args.overrides:
        raise UsageError("--set cannot be combined with --scenario: change the experiment or sweep file instead")
    document = read_toml(args.scenario_file, "experiment or sweep file")
    batch = (load_sweep(args.scenario_file) if "sweep" in document else load_experiment(args.scenario_file)).batch
    scenarios = dict(batch.scenarios)
    if args.scenario not in scenarios:
        raise UsageError(f"--scenario {args.scenario!r} is not in {args.scenario_file} (known: {', '.join(scenarios)})")
    return scenarios[args.scenario], batch.root_seed if args.seed_given is None else args.seed_given


def _parse_kinds(text: str | None) -> set | None:
    if text is None:
        return None
    known = {k.name: k for k in record_kinds()}
    chosen = set()
    for name in (n.strip() for n in text.split(",")):
        if name not in known:
            raise UsageError(f"--kinds {name!r} is not an event kind (known: {', '.join(known)})")
        chosen.add(known[name])
    return chosen


def _save_table(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix == ".parquet":
        table.to_parquet(partial, index=False)
    else:
        neutralise_cells(table).to_csv(partial, index=False)
    partial.replace(path)
