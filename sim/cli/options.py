"""What the commands share: argument types, the options of every batch, progress (a bar on a
terminal, plain lines in a log) and default output folders."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sim.batch.workers import default_workers
from sim.config.errors import shorten
from sim.config.limits import MAX_SEED, REPLICATIONS, SEED_TEXT

if TYPE_CHECKING:
    from sim.api.options import BatchOptions


def int_at_least(minimum: int) -> Callable[[str], int]:
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


non_negative_int = int_at_least(0)
positive_int = int_at_least(1)


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0, else one clear line."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds > 0")
    return value


def int_within(least: int, most: int, shown_most: str, reason: str) -> Callable[[str], int]:
    """An argparse type: an integer in [least, most], else one line (with the reason for the
    upper bound). Text too long to be in range is not parsed (``int`` of a million digits is slow)."""

    def parse(text: str) -> int:
        digits = text.strip()
        try:
            value = int(digits) if len(digits) <= 100 else most + 1 if digits.isdigit() else None
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(f"{shorten(repr(text))} must be an integer >= {least}")
        if value > most:
            raise argparse.ArgumentTypeError(f"{shorten(repr(text))} must be an integer <= {shown_most} ({reason})")
        return value

    return parse


replications_count = int_within(1, REPLICATIONS.most, f"{REPLICATIONS.most:,}", REPLICATIONS.reason)
seed_number = int_within(0, MAX_SEED, SEED_TEXT, "seeds are stored as unsigned 64-bit integers in runs.parquet")


def outcome_half_width(text: str) -> tuple[str, float]:
    """An argparse type: ``OUTCOME=HALF_WIDTH`` with a half-width > 0, else one clear line
    (whether OUTCOME is one of the experiment's is checked with the experiment)."""
    outcome, sign, width = text.partition("=")
    try:
        value = float(width)
    except ValueError:
        value = None
    if not sign or not outcome.strip() or value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be OUTCOME=HALF_WIDTH with a half-width > 0, e.g. us_killed=0.05"
        )
    return outcome.strip(), value


def add_batch_options(command: argparse.ArgumentParser, replications_help: str) -> None:
    """--out, --workers, --scheduler, --scheduler-timeout, --replications, --fail-fast and --quiet."""
    command.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder: new, or the folder of an interrupted run of the same command "
        "to resume it (default: a new folder under results/)",
    )
    command.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help=f"local worker processes (default: all cores, here {default_workers()}); results do not depend on it",
    )
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://host:8786 (needs the 'dask' extra); same results",
    )
    command.add_argument(
        "--scheduler-timeout",
        type=positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="with --scheduler: how long the scheduler has to answer before the run stops (default 5)",
    )
    command.add_argument("--replications", type=replications_count, metavar="N", help=replications_help)
    command.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first replication that raises (default: record it and go on)",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def batch_options(args: argparse.Namespace, argv: list[str], progress: Callable[[int], None] | None) -> BatchOptions:
    """How the batch runs, from the options of :func:`add_batch_options` and the command line."""
    from sim.api.options import BatchOptions

    return BatchOptions(
        progress, args.fail_fast, ("run.py", *argv), args.scheduler_timeout, args.workers, args.scheduler
    )


def progress_bar(quiet: bool, total: int | None, unit: str = "rep") -> Callable[[int], None] | None:
    """Progress on stderr: plain lines (:class:`ProgressLines`) when it is a file or a pipe (a
    log, a batch system), where a bar would show nothing until the end; else a bar on a terminal
    or a widget in a notebook (tqdm, which shows nothing on other streams). None when quiet."""
    if quiet:
        return None
    if _file_or_pipe(sys.stderr):
        return ProgressLines(total, unit, sys.stderr)
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, disable=None, file=sys.stderr, leave=False).update


def _file_or_pipe(stream: TextIO) -> bool:
    """A stream on a file descriptor that is not a terminal, outside a Jupyter kernel (whose
    streams forward to the notebook, where tqdm shows a widget). An in-memory stream is neither."""
    if "ipykernel" in sys.modules:
        return False
    try:
        return not os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):  # no descriptor (StringIO), or closed
        return False


class ProgressLines:
    """Progress as plain lines, each written and flushed at once: one each time another tenth of
    ``total`` is done, or ``every`` seconds have passed since the last line (without a total:
    every ``every`` seconds), and one at the end (``done`` reaching ``total``), e.g.
    ``progress: 1,200/4,000 rep (30%), 41 s``. Called with the count just finished, as
    ``tqdm.update`` is."""

    STEPS = 10

    def __init__(
        self,
        total: int | None,
        unit: str,
        stream: TextIO,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.unit, self.stream, self.every, self.clock = total, unit, stream, every, clock
        self.done = 0
        self.start = self.last_time = clock()
        self.last_step = 0

    def __call__(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        step = self.done * self.STEPS // self.total if self.total else 0
        if step > self.last_step or now - self.last_time >= self.every:
            self.last_step, self.last_time = max(step, self.last_step), now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now: float) -> str:
        done = f"{self.done:,}/{self.total:,} {self.unit}" if self.total else f"{self.done:,} {self.unit}"
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        return f"progress: {done}{share}, {now - self.start:.0f} s"


def new_folder(name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / f"{name}-{stamp}"


def resumed(manifest: dict) -> str:
    """How much of the run a resume kept, and each damaged part it recomputed (one line each)."""
    count = manifest.get("chunks_resumed", 0)
    damaged = "".join(f"\n{line}" for line in manifest.get("chunks_damaged", ()))
    return (f" (resumed: {count} chunks were already done)" if count else "") + damaged


def failures_note(failures, out: Path) -> str:
    if failures.empty:
        return ""
    return f"{len(failures)} replications failed and are not in the tables: see {out}/failures.csv\n"
