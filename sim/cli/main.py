"""The command line. Bad input ends with one line on stderr and exit code 2.

Commands return the text they report; :func:`main` alone writes to the terminal, through
the streams it is given (the layers below never write to the terminal).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from typing import Sequence, TextIO

from sim.batch.runner import WorkersUnavailable
from sim.cli.batch import (
    add_batch_commands,
    command_compare,
    command_experiment,
    command_sweep,
)
from sim.cli.calibrate import add_calibrate_command, command_calibrate
from sim.cli.scenario import add_scenario_commands, command_run, command_trace
from sim.cli.validate import add_validate_command, command_validate
from sim.config.errors import ConfigError, UsageError

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
  python run.py calibrate --quick --out results/calibration-quick

Each command has its own --help. Bad input stops with one line and exit code 2; an interrupted
experiment or sweep resumes when the same command is run again."""
COMMANDS = ("run", "trace", "experiment", "compare", "sweep", "calibrate", "validate")
RESUMABLE = "the chunks already finished are kept; run the same command again to resume"
INTERRUPTED = {"run": RESUMABLE, "trace": "nothing was written", "compare": "the folder's runs are intact",
               "experiment": RESUMABLE, "sweep": RESUMABLE, "calibrate": "finished generations are kept; run the same command with the same --out to resume",
               "validate": RESUMABLE}  # fmt: skip


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
    add_scenario_commands(commands)
    add_batch_commands(commands)
    add_calibrate_command(commands)
    add_validate_command(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a command line; return its exit code (0, 2 for bad input, 130 if interrupted)."""
    out, err = out or sys.stdout, err or sys.stderr
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv = ["experiment", *argv]  # the default job: `run.py` alone, or `run.py --replications 50`
    parser = build_parser()
    for token in argv:
        if token.startswith("--") and token.endswith("=--"):  # argparse would drop the value "--" and pass on []
            parser.error(f"argument {token[:-3]}: expected one value, got '--'")
    args = parser.parse_args(argv)
    try:
        report = COMMAND_FUNCTIONS[args.command](args, argv)
    except (ConfigError, UsageError) as exc:
        err.write(f"error: {one_line(str(exc))}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.write(f"interrupted: {INTERRUPTED[args.command]}\n")
        return EXIT_INTERRUPTED
    except BrokenProcessPool:
        err.write(f"error: a worker process died (killed, out of memory or crashed): {INTERRUPTED[args.command]}\n")
        return EXIT_ENVIRONMENT
    except WorkersUnavailable as exc:
        err.write(one_line(f"error: {exc.strerror}") + "\n")
        return EXIT_ENVIRONMENT
    except OSError as exc:  # a full disk, a folder without write permission ...
        where = f" {exc.filename}" if exc.filename else ""
        err.write(one_line(f"error: cannot read or write{where}: {exc.strerror or exc} ({INTERRUPTED[args.command]})") + "\n")
        return EXIT_ENVIRONMENT
    out.write(report)
    return 0


COMMAND_FUNCTIONS = {
    "run": command_run,
    "trace": command_trace,
    "experiment": command_experiment,
    "compare": command_compare,
    "sweep": command_sweep,
    "calibrate": command_calibrate,
    "validate": command_validate,
}
