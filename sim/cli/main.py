"""The command line. Bad input ends with one line on stderr and exit code 2.

Commands return the text they report; :func:`main` alone writes to the terminal, through
the streams it is given (the layers below never write to the terminal).

The parser is built from :mod:`sim.cli.grammar` alone; a command's module (and with it the
model, pandas, scipy ...) is imported only when that command runs (:data:`COMMAND_FUNCTIONS`),
so help, the version and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import functools
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import TextIO

from sim import __version__
from sim.batch.workers import WorkersUnavailable, quiet_signals
from sim.cli.grammar import (
    add_batch_commands,
    add_calibrate_command,
    add_describe_command,
    add_scenario_commands,
    add_validate_command,
)
from sim.config.errors import ConfigError, UsageError
from sim.config.extras import MissingExtra

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
  python run.py describe configs/experiments/policy_comparison.toml --out results/pc-description.md

Each command has its own --help. Bad input stops with one line and exit code 2; an interrupted
experiment or sweep resumes when the same command is run again."""
COMMANDS = ("run", "trace", "experiment", "compare", "sweep", "calibrate", "validate", "describe")
RESUMABLE = "the chunks already finished are kept; run the same command again to resume"
INTERRUPTED = {
    "run": RESUMABLE,
    "trace": "nothing was written",
    "compare": "the folder's runs are intact",
    "experiment": RESUMABLE,
    "sweep": RESUMABLE,
    "calibrate": "finished generations are kept; run the same command with the same --out to resume",
    "validate": RESUMABLE,
    "describe": "nothing was written",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {one_line(message)} (see '{one_line(self.prog)} --help')\n")


def one_line(text: str) -> str:
    """A message as one printable line: line breaks and control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Interruption:
    """The handler of SIGINT and SIGTERM while a command runs: either signal stops it the way
    Ctrl-C does (finished work kept, nothing half-written, the workers stopped), once.

    ``timeout`` and many supervisors send SIGTERM to the main process and then to its whole
    group, and Ctrl-C reaches the whole group: a second signal must not interrupt the
    clean-up of the first, nor the one line that reports it, so only the first raises. Once
    the outcome is known (:meth:`stop`), none does. A worker process forked from this one
    runs this handler until its initializer replaces it: there it ignores the signal, as the
    worker's own handlers do (see :func:`~sim.batch.workers.quiet_signals`)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.signalled = False
        self.stopped = False

    def __call__(self, signum: int, frame: object) -> None:
        if os.getpid() != self.pid:
            quiet_signals()
            return
        if self.signalled or self.stopped:
            return
        self.signalled = True
        raise KeyboardInterrupt

    def stop(self) -> None:
        self.stopped = True


@contextlib.contextmanager
def _interruptible() -> Iterator[_Interruption]:
    """Install an :class:`_Interruption` for SIGTERM, and for SIGINT unless it is ignored (a
    shell's background job) or handled by the caller; put the previous handlers back after,
    unless a signal stopped the command: the process is then ending, and a supervisor's second
    signal, which may come while it exits, must not change its exit code nor add a traceback.
    Both are then ignored outright, since the interpreter, as it exits, gives the default
    action (death by SIGTERM) back to a signal with a Python handler."""
    interruption = _Interruption()
    if threading.current_thread() is not threading.main_thread():  # signals are for the main thread
        yield interruption
        return
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, interruption)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, interruption)
    try:
        yield interruption
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if interruption.signalled else handler)


def program_name() -> str:
    """``militia-sim`` when started by the console command of that name, else ``run.py``."""
    return "militia-sim" if os.path.basename(sys.argv[0] if sys.argv else "") == "militia-sim" else "run.py"


def unknown_command(token: str) -> str | None:
    """The one line for a first argument that is neither an option, a command nor an experiment
    file (the default job takes one): a word, perhaps a mistyped command. None otherwise."""
    if token.startswith("-") or token in COMMANDS or any(c in token for c in "/.\\") or os.path.exists(token):
        return None
    close = difflib.get_close_matches(token, COMMANDS, n=1, cutoff=0.6)
    hint = (
        f"did you mean '{close[0]}'?"
        if close
        else f"the commands are {', '.join(COMMANDS)} (see '{program_name()} --help')"
    )
    return f"error: unknown command '{one_line(token)}'; {hint}\n"


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, built once per program name in a process: parsing does not
    change it, and a program that calls :func:`main` many times (a notebook, the tests) need not
    build it again (about 5 ms each time)."""
    return _parser_named(program_name())


@functools.cache
def _parser_named(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Simulate militia attacks on the U.S. presence in Iraq, C-RAM interception, the "
        "policy responses of Washington and Baghdad, and their outcomes. With no command, runs the "
        "default job: the policy comparison experiment (configs/experiments/policy_comparison.toml), "
        "results in a new folder under results/; options given without a command go to it.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_scenario_commands(commands)
    add_batch_commands(commands)
    add_calibrate_command(commands)
    add_validate_command(commands)
    add_describe_command(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a command line; return its exit code (0, 2 for bad input, 130 if interrupted)."""
    out, err = out or sys.stdout, err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (unknown := unknown_command(argv[0])):
        err.write(unknown)
        return EXIT_BAD_INPUT
    if not argv or argv[0] not in COMMANDS + ("-h", "--help", "--version"):
        argv = ["experiment", *argv]  # the default job: `run.py` alone, or `run.py --replications 50`
    parser = build_parser()
    for token in argv:
        if token.startswith("--") and token.endswith("=--"):  # argparse would drop the value "--" and pass on []
            parser.error(f"argument {token[:-3]}: expected one value, got '--'")
    args = parser.parse_args(argv)
    with _interruptible() as interruption:
        try:
            try:
                code, text = _outcome(args, argv)
            finally:
                interruption.stop()
        except KeyboardInterrupt:  # the signal came while another outcome was being made
            code, text = _interrupted(args.command)
        if interruption.signalled and code != 0:  # its KeyboardInterrupt became another error on its way out
            code, text = _interrupted(args.command)
        (out if code == 0 else err).write(text)
    return code


def _outcome(args: argparse.Namespace, argv: list[str]) -> tuple[int, str]:
    """The exit code of a command, and its report (or the one line that says why it stopped)."""
    try:
        return 0, command_function(args.command)(args, argv)
    except MissingExtra as exc:  # PRIM runs after the batch: the runs are kept
        kept = (
            f" ({RESUMABLE} once it is installed)" if exc.extra == "discovery" and args.command == "experiment" else ""
        )
        return EXIT_BAD_INPUT, f"error: {one_line(str(exc))}{kept}\n"
    except (ConfigError, UsageError) as exc:
        return EXIT_BAD_INPUT, f"error: {one_line(str(exc))}\n"
    except KeyboardInterrupt:
        return _interrupted(args.command)
    except BrokenProcessPool:
        return (
            EXIT_ENVIRONMENT,
            f"error: a worker process died (killed, out of memory or crashed): {INTERRUPTED[args.command]}\n",
        )
    except WorkersUnavailable as exc:
        return EXIT_ENVIRONMENT, one_line(f"error: {exc.strerror}") + "\n"
    except OSError as exc:  # a full disk, a folder without write permission ...
        where = f" {exc.filename}" if exc.filename else ""
        return EXIT_ENVIRONMENT, one_line(
            f"error: cannot read or write{where}: {exc.strerror or exc} ({INTERRUPTED[args.command]})"
        ) + "\n"


def _interrupted(command: str) -> tuple[int, str]:
    return EXIT_INTERRUPTED, f"interrupted: {INTERRUPTED[command]}\n"


COMMAND_FUNCTIONS = {
    "run": "sim.cli.scenario:command_run",
    "trace": "sim.cli.scenario:command_trace",
    "experiment": "sim.cli.batch:command_experiment",
    "compare": "sim.cli.batch:command_compare",
    "sweep": "sim.cli.batch:command_sweep",
    "calibrate": "sim.cli.calibrate:command_calibrate",
    "validate": "sim.cli.validate:command_validate",
    "describe": "sim.cli.describe:command_describe",
}
"""Each command's function, as ``module:function``: the module is imported when the command runs."""


def command_function(command: str) -> Callable[[argparse.Namespace, list[str]], str]:
    """The function of ``command``, its module imported now (inside the command's error
    handling: a missing extra or a damaged install is reported as the command's failure)."""
    module, _, function = COMMAND_FUNCTIONS[command].partition(":")
    return getattr(importlib.import_module(module), function)
