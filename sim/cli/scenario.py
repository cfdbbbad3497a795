"""The commands on one scenario: ``run`` (replications into a results folder) and ``trace``
(the timeline of one replication)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.grammar import RUN_REPLICATIONS, event_kinds
from sim.cli.options import batch_options, failures_note, new_folder, progress_bar, resumed
from sim.config.errors import UsageError
from sim.config.loader import load_scenario, read_toml
from sim.config.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

# The model, the API and pandas are imported in the functions that use them, once the input
# is checked: a refused scenario file answers without loading them (start-up time).


def command_run(args: argparse.Namespace, argv: list[str]) -> str:
    seed = 1 if args.seed_given is None else args.seed_given
    replications = args.replications or RUN_REPLICATIONS
    scenario = load_scenario(args.scenario_file, args.overrides)  # bad input stops here, before any folder
    from sim import api
    from sim.analysis.summary import format_summary

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
    from sim.model.records import RunawayReplication
    from sim.replication.simulate import event_log, event_table

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
    from sim.design.experiment import load_experiment
    from sim.design.sweep import load_sweep

    batch = (load_sweep(args.scenario_file) if "sweep" in document else load_experiment(args.scenario_file)).batch
    scenarios = dict(batch.scenarios)
    if args.scenario not in scenarios:
        raise UsageError(f"--scenario {args.scenario!r} is not in {args.scenario_file} (known: {', '.join(scenarios)})")
    return scenarios[args.scenario], batch.root_seed if args.seed_given is None else args.seed_given


def _parse_kinds(text: str | None) -> set | None:
    if text is None:
        return None
    known = {k.name: k for k in event_kinds()}
    chosen = set()
    for name in (n.strip() for n in text.split(",")):
        if name not in known:
            raise UsageError(f"--kinds {name!r} is not an event kind (known: {', '.join(known)})")
        chosen.add(known[name])
    return chosen


def _save_table(table: pd.DataFrame, path: Path) -> None:
    from sim.batch.cells import neutralise_cells

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix == ".parquet":
        table.to_parquet(partial, index=False)
    else:
        neutralise_cells(table).to_csv(partial, index=False)
    partial.replace(path)
