"""The command line. Bad input ends with one line on stderr and exit code 2.

Commands return the text they report; :func:`main` alone writes to the terminal, through
the streams it is given (the model layers below never write to the terminal).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence, TextIO

import pandas as pd

from sim.cli.batch import (
    add_batch_commands,
    add_calibrate_command,
    command_calibrate,
    command_compare,
    command_experiment,
    command_sweep,
)
from sim.config.loader import load_scenario, scenario_hash, to_plain
from sim.project import PROJECT_ROOT
from sim.config.errors import ConfigError, UsageError
from sim.design.experiment import load_experiment
from sim.replication.simulate import event_log, event_table, record_kinds
from sim.batch.runner import default_workers, run_replications
from sim.config.scenario import Scenario
from sim.batch.folder import (
    check_output_folder,
    code_version,
    environment,
    utc_now,
    write_results,
)
from sim.analysis.summary import format_summary, summarise_runs

DEFAULT_SCENARIO = PROJECT_ROOT / "configs" / "baseline.toml"
DEFAULT_REPLICATIONS = 1000
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_ENVIRONMENT = 1
EXAMPLES = """examples:
  python run.py                                              the policy comparison (default job)
  python run.py run configs/baseline.toml --replications 1000 --set cram.kill_prob=0.8
  python run.py trace configs/scenarios/ultimatum.toml --seed 7 --kinds ultimatum,truce_start,embassy_closed
  python run.py experiment configs/experiments/policy_comparison.toml --out results/pc
  python run.py compare results/pc
  python run.py sweep configs/sweeps/strike_effects.toml --out results/sweep
  python run.py calibrate configs/baseline.toml --out results/fit

Each command has its own --help. Bad input stops with one line and exit code 2; an interrupted
experiment or sweep resumes when the same command is run again."""
COMMANDS = ("run", "trace", "experiment", "compare", "sweep", "calibrate")
RESUMABLE = "the chunks already finished are kept; run the same command again to resume"
INTERRUPTED = {"run": "nothing was written", "trace": "nothing was written", "compare": "the folder's runs are intact",
               "experiment": RESUMABLE, "sweep": RESUMABLE, "calibrate": "no calibrated file was written"}  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {one_line(message)} (see '{one_line(self.prog)} --help')\n")


def one_line(text: str) -> str:
    """A message as one printable line: line breaks and control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM stops a run the way Ctrl-C does: finished work is kept, nothing half-written."""
    raise KeyboardInterrupt


def _int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``, else one clear line."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be an integer >= {minimum}")
        return value

    return parse


_non_negative_int = _int_at_least(0)
_positive_int = _int_at_least(1)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run.py",
        description="Simulate militia attacks on the U.S. presence in Iraq, C-RAM interception, the "
        "policy responses of Washington and Baghdad, and their outcomes. With no command, runs the "
        "default job: the policy comparison experiment (configs/experiments/policy_comparison.toml), "
        "results in a new folder under results/; options given without a command go to it.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser("run", help="run replications of a scenario and summarise the outcomes")
    _scenario_arguments(run)
    run.add_argument("--replications", type=_positive_int, default=DEFAULT_REPLICATIONS, metavar="N",
                     help=f"number of replications (default {DEFAULT_REPLICATIONS})")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="results folder, must be new or empty (default: a new folder under results/)")
    run.add_argument("--workers", type=_positive_int, metavar="N",
                     help=f"worker processes (default: all cores, here {default_workers()}); results do not depend on it")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    trace = commands.add_parser("trace", help="print the timeline of one replication")
    _scenario_arguments(trace)
    trace.add_argument("--replication", type=_non_negative_int, default=0, metavar="R",
                       help="which replication of the seed to trace (default 0): matches row R of a run")
    trace.add_argument("--kinds", metavar="K1,K2", help=f"only these event kinds, e.g. attack_rocket,us_killed "
                       f"(all: {', '.join(k.name for k in record_kinds())})")
    trace.add_argument("--save", type=Path, metavar="FILE", help="also save the event log as .csv or .parquet")
    trace.add_argument("--scenario", metavar="NAME",
                       help="when the file is an experiment: which of its scenarios (the seed defaults to the experiment's)")
    add_batch_commands(commands, _positive_int)
    add_calibrate_command(commands, _positive_int, _non_negative_int)
    return parser


def _scenario_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("scenario_file", metavar="scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO,
                         help="scenario TOML file (default configs/baseline.toml)")
    command.add_argument("--seed", type=_non_negative_int, default=None, dest="seed_given",
                         help="root random seed (default 1)")
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                         help="override a parameter by dotted path, e.g. threats.rocket.heavy_salvo_prob=0.2 (repeatable)")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a command line; return its exit code (0, 2 for bad input, 130 if interrupted)."""
    out, err = out or sys.stdout, err or sys.stderr
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv = ["experiment", *argv]  # the default job: `run.py` alone, or `run.py --replications 50`
    args = build_parser().parse_args(argv)
    if hasattr(args, "seed_given"):
        args.seed = 1 if args.seed_given is None else args.seed_given
    try:
        report = COMMAND_FUNCTIONS[args.command](args, argv)
    except (ConfigError, UsageError) as exc:
        err.write(f"error: {one_line(str(exc))}\n")
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, BrokenProcessPool):
        err.write(f"interrupted: {INTERRUPTED[args.command]}\n")
        return EXIT_INTERRUPTED
    except OSError as exc:  # a full disk, a folder without write permission ...
        where = f" {exc.filename}" if exc.filename else ""
        err.write(one_line(f"error: cannot read or write{where}: {exc.strerror or exc} ({INTERRUPTED[args.command]})") + "\n")
        return EXIT_ENVIRONMENT
    out.write(report)
    return 0


def command_run(args: argparse.Namespace, argv: list[str]) -> str:
    scenario = load_scenario(args.scenario_file, args.overrides)
    out = args.out or default_output_folder(scenario, args.seed)
    check_output_folder(out)
    started, clock = utc_now(), time.perf_counter()
    runs = run_replications(scenario, args.replications, args.seed, args.workers, _progress(args))
    elapsed = time.perf_counter() - clock
    summary = summarise_runs(runs)
    manifest = {
        "command": ["run.py", *argv],
        "scenario_file": str(args.scenario_file),
        "overrides": args.overrides,
        "scenario": to_plain(scenario),
        "scenario_hash": scenario_hash(scenario),
        "root_seed": args.seed,
        "replications": args.replications,
        "workers": args.workers or default_workers(),
        "started_utc": started,
        "elapsed_s": round(elapsed, 3),
        "code_version": code_version(),
        "environment": environment(),
    }
    write_results(out, {"runs.parquet": runs, "summary.csv": summary}, manifest)
    return (
        f"{scenario.scenario.name}: {args.replications} replications, seed {args.seed}, {elapsed:.1f} s\n"
        f"{format_summary(summary)}\n"
        f"wrote {out}/runs.parquet, summary.csv, manifest.json\n"
    )


def default_output_folder(scenario: Scenario, seed: int) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / f"{scenario.scenario.name}-seed{seed}-{stamp}"


def _progress(args: argparse.Namespace):
    if args.quiet:
        return None
    from tqdm import tqdm

    bar = tqdm(total=args.replications, unit="rep", disable=None, file=sys.stderr, leave=False)
    return bar.update


def command_trace(args: argparse.Namespace, argv: list[str]) -> str:
    scenario, seed = _traced_scenario(args)
    args.seed = seed
    kinds = _parse_kinds(args.kinds)
    if args.save is not None and args.save.suffix not in (".csv", ".parquet"):
        raise UsageError(f"--save {args.save}: the file must end in .csv or .parquet")
    records = [r for r in event_log(scenario, args.replication, args.seed) if kinds is None or r.kind in kinds]
    table = event_table(records, scenario)
    report = (
        f"{scenario.scenario.name}: seed {args.seed}, replication {args.replication}, {len(table)} events\n"
        f"{table.drop(columns=['time_d']).to_string(index=False, na_rep='')}\n"
    )
    if args.save is not None:
        _save_table(table, args.save)
        report += f"wrote {args.save}\n"
    return report


def _traced_scenario(args: argparse.Namespace) -> tuple[Scenario, int]:
    """The scenario to trace: a scenario file, or one scenario of an experiment file."""
    if args.scenario is None:
        return load_scenario(args.scenario_file, args.overrides), args.seed
    if args.overrides:
        raise UsageError("--set cannot be combined with --scenario: change the experiment file instead")
    experiment = load_experiment(args.scenario_file)
    scenarios = dict(experiment.batch.scenarios)
    if args.scenario not in scenarios:
        raise UsageError(f"--scenario {args.scenario!r} is not in {args.scenario_file} (known: {', '.join(scenarios)})")
    seed = experiment.batch.root_seed if args.seed_given is None else args.seed_given
    return scenarios[args.scenario], seed


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
        table.to_csv(partial, index=False)
    partial.replace(path)


COMMAND_FUNCTIONS = {
    "run": command_run,
    "trace": command_trace,
    "experiment": command_experiment,
    "compare": command_compare,
    "sweep": command_sweep,
    "calibrate": command_calibrate,
}
