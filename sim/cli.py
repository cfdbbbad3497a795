"""The command line. Bad input ends with one line on stderr and exit code 2.

Commands return the text they report; :func:`main` alone writes to the terminal, through
the streams it is given (the model layers below never write to the terminal).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence, TextIO

import pandas as pd

from .config import load_scenario, scenario_hash, to_plain
from .errors import ConfigError, UsageError
from .records import Kind, Record
from .replication import event_log
from .runner import default_workers, run_replications
from .scenario import Scenario
from .storage import check_output_folder, code_version, environment, utc_now, write_results
from .summary import format_summary, summarise_runs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = PROJECT_ROOT / "configs" / "baseline.toml"
DEFAULT_REPLICATIONS = 1000
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
COMMANDS = ("run", "trace")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


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
        description="Simulate militia attacks on the U.S. presence in Iraq, C-RAM interception and "
        "their outcomes. With no command, runs the default job: the 2020 baseline, "
        f"{DEFAULT_REPLICATIONS} replications, results under results/.",
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
                       f"(all: {', '.join(k.value for k in Kind)})")
    trace.add_argument("--save", type=Path, metavar="FILE", help="also save the event log as .csv or .parquet")
    return parser


def _scenario_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO,
                         help="scenario TOML file (default configs/baseline.toml)")
    command.add_argument("--seed", type=_non_negative_int, default=1, help="root random seed (default 1)")
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                         help="override a parameter by dotted path, e.g. threats.rocket.heavy_salvo_prob=0.2 (repeatable)")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a command line; return its exit code (0, 2 for bad input, 130 if interrupted)."""
    out, err = out or sys.stdout, err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv = ["run", *argv]  # the default job: `run.py` alone, or `run.py --seed 3`
    args = build_parser().parse_args(argv)
    try:
        report = command_run(args, argv) if args.command == "run" else command_trace(args)
    except (ConfigError, UsageError) as exc:
        err.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.write("interrupted: nothing was written\n")
        return EXIT_INTERRUPTED
    out.write(report)
    return 0


def command_run(args: argparse.Namespace, argv: list[str]) -> str:
    scenario = load_scenario(args.scenario, args.overrides)
    out = args.out or default_output_folder(scenario, args.seed)
    check_output_folder(out)
    started, clock = utc_now(), time.perf_counter()
    runs = run_replications(scenario, args.replications, args.seed, args.workers, _progress(args))
    elapsed = time.perf_counter() - clock
    summary = summarise_runs(runs)
    manifest = {
        "command": ["run.py", *argv],
        "scenario_file": str(args.scenario),
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


def command_trace(args: argparse.Namespace) -> str:
    scenario = load_scenario(args.scenario, args.overrides)
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


def _parse_kinds(text: str | None) -> set[Kind] | None:
    if text is None:
        return None
    known = {k.value: k for k in Kind}
    chosen = set()
    for name in (n.strip() for n in text.split(",")):
        if name not in known:
            raise UsageError(f"--kinds {name!r} is not an event kind (known: {', '.join(known)})")
        chosen.add(known[name])
    return chosen


def event_table(records: list[Record], scenario: Scenario) -> pd.DataFrame:
    """The event log as a table: time, date, site, kind, count, attack and details."""
    start = datetime(scenario.scenario.start_date.year, scenario.scenario.start_date.month, scenario.scenario.start_date.day)
    return pd.DataFrame(
        {
            "time_d": [r.time_d for r in records],
            "date": [(start + pd.Timedelta(days=r.time_d)).strftime("%Y-%m-%d %H:%M:%S") for r in records],
            "site": [r.site for r in records],
            "kind": [r.kind.value for r in records],
            "n": [r.n for r in records],
            "attack": [r.attack for r in records],
            "detail": [r.detail for r in records],
        }
    )


def _save_table(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix == ".parquet":
        table.to_parquet(partial, index=False)
    else:
        table.to_csv(partial, index=False)
    partial.replace(path)
