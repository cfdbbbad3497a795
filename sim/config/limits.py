"""The upper bounds of every input, each with its reason, declared once.

A count, a seed or a file beyond these would not be a study but a typo or an attack: it
would fill memory (a plan of 10^20 replications), hang (a named pipe given as a file) or
end deep inside a library. Each bound is checked before anything is planned, read whole or
written, and a value beyond it is one :class:`~sim.config.errors.ConfigError` line that
gives the bound and its reason. README ("Limits of inputs") lists them.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sim.config.errors import NO_VALUE, ConfigError
from sim.config.schema import Rule

MB = 2**20


@dataclass(frozen=True)
class Bound:
    """The most a count may be, and why."""

    most: int
    reason: str

    def rule(self, least: int = 1) -> Rule:
        """``must be in [least, most]``, as a schema rule; a value above the bound is told its reason."""
        text = f"must be in [{least:,}, {self.most:,}]"
        return Rule(text, lambda v: least <= v <= self.most, lambda v: text if v < least else f"{text} ({self.reason})")


REPLICATIONS = Bound(
    10_000_000,
    "four days on one core at 30 replications/s; a 95% interval of 0.1% of an outcome's spread needs 4 million",
)
BATCH_RUNS = Bound(10_000_000, "the runs table is read whole for the summaries, about 430 bytes a row: 4 GB")
DESIGN_POINTS = Bound(
    100_000,
    "each point is a scenario validated (16 ms) and held in memory before anything runs; "
    "a Saltelli design of 20 parameters and 2,048 base points has 86,016",
)
SEED_TEXT = "2^64 - 1"
MAX_SEED = 2**64 - 1
SEED_RULE_TEXT = f"must be in [0, {SEED_TEXT}] (seeds are stored as unsigned 64-bit integers in runs.parquet)"
SEED = Rule(SEED_RULE_TEXT, lambda v: 0 <= v <= MAX_SEED, lambda v: "must be >= 0" if v < 0 else SEED_RULE_TEXT)
CONFIG_KEYS = Bound(10_000, "configs/baseline.toml, the whole 2020 world, holds 331")
CONFIG_BYTES = Bound(10 * MB, "configs/baseline.toml holds 32 kB")
RECORD_BYTES = Bound(10 * MB, "configs/data/public_record.csv holds 4 kB")
EVENTS_BYTES = Bound(10 * MB, "a year's event record of a few hundred attacks holds well under 1 MB")
POSTERIOR_BYTES = Bound(1024 * MB, "a posterior of 600 particles holds 164 kB; it is read whole")
POSTERIOR_ROWS = Bound(
    1_000_000,
    "a posterior of 600 particles has 600 rows; it is read whole into memory, and a few MB "
    "of compressed Parquet can hold hundreds of millions of rows",
)
POSTERIOR_COLUMNS = Bound(10_000, "one column per parameter: the project's posterior has 41")
STATES = Bound(
    DESIGN_POINTS.most,
    "each option in each state is a scenario validated (16 ms) and held in memory before "
    "anything runs, as a sweep's design points are",
)
PARTICLES = Bound(
    100_000,
    "pyabc holds every particle of a generation, with its statistics, in memory and in its "
    "database; the project's calibration uses 600",
)
HORIZON_DAYS = Bound(
    36_525,
    "a century: a replication's work and records grow with its days; the project's longest "
    "run, the replay of 2020-2021, spans 731",
)
SIMULATIONS = Bound(10_000_000, "four days on one core at 30 simulations/s; the project's calibration stops at 60,000")
GENERATIONS = Bound(1_000, "each generation halves the threshold at most; the project's calibration allows 20")
RECORD_DATES = ("1900-01-01", "2099-12-31")  # the days a record's rows may span: beyond them a date is a typo
RECORD_DATES_REASON = "a row dated centuries away is a typo, and a fitted row sets the horizon of every simulation"


def check_seed(seed: object, key: str, origin: str) -> None:
    """A root seed must be an integer in [0, 2^64 - 1]."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not SEED.check(seed):
        raise ConfigError(key, seed, SEED.broken_by(seed) if isinstance(seed, int) else SEED.text, origin)


def check_batch(scenarios: int, replications: int, origin: str) -> None:
    """Replications per scenario, and scenarios x replications, within their upper bounds
    (the lower bounds are the files' and options' own rules)."""
    if replications > REPLICATIONS.most:
        raise ConfigError(
            "replications", replications, f"must be at most {REPLICATIONS.most:,} ({REPLICATIONS.reason})", origin
        )
    if scenarios * replications > BATCH_RUNS.most:
        raise ConfigError(
            "",
            NO_VALUE,
            f"{scenarios} scenarios x {replications} replications = {scenarios * replications:,} "
            f"runs: a batch may hold at most {BATCH_RUNS.most:,} ({BATCH_RUNS.reason})",
            origin,
        )


def check_states(options: int, states: int, replications: int, origin: str) -> None:
    """The (option, state) scenarios of a robustness experiment within the design bound, and the
    batch they make within the batch bounds, before any state is designed."""
    pairs = options * states
    if pairs > STATES.most:
        raise ConfigError(
            "experiment.states",
            states,
            f"with {options} options makes {pairs:,} scenarios; a "
            f"robustness experiment may hold at most {STATES.most:,} ({STATES.reason})",
            origin,
        )
    check_batch(pairs, replications, origin)


def check_regular_file(path: Path, what: str, bound: Bound) -> int:
    """Check, before opening it, that ``path`` is a regular file of at most ``bound`` bytes
    (a device such as ``/dev/zero`` would be read until memory runs out, a named pipe would
    wait for a writer for ever); return its size. Raises a one-line :class:`ConfigError`."""
    origin = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError("", NO_VALUE, f"{what} not found", origin) from None
    except (OSError, ValueError) as exc:
        raise ConfigError("", NO_VALUE, f"{what} cannot be read ({exc.__class__.__name__})", origin) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError("", NO_VALUE, f"{what} cannot be read (IsADirectoryError)", origin)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError("", NO_VALUE, f"{what} is not a regular file (a device, a pipe or a socket)", origin)
    if info.st_size > bound.most:
        raise ConfigError(
            "", NO_VALUE, f"{what} holds {info.st_size} bytes, more than {bound.most // MB} MB ({bound.reason})", origin
        )
    return info.st_size


def read_bounded_text(path: Path, what: str, bound: Bound, universal_newlines: bool = True) -> str:
    """The UTF-8 text of a regular file of at most ``bound`` bytes, a byte-order mark removed
    (some editors write one) and, with ``universal_newlines``, line ends made ``\\n`` as
    :meth:`pathlib.Path.read_text` makes them; at most ``bound`` + 1 bytes are read, even if
    the file grows after it was checked."""
    check_regular_file(path, what, bound)
    origin = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(bound.most + 1)
    except OSError as exc:
        raise ConfigError("", NO_VALUE, f"{what} cannot be read ({exc.__class__.__name__})", origin) from None
    if len(data) > bound.most:
        raise ConfigError("", NO_VALUE, f"{what} holds more than {bound.most // MB} MB ({bound.reason})", origin)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError("", NO_VALUE, f"{what} cannot be read (UnicodeDecodeError)", origin) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if universal_newlines else text


def read_csv_rows(path: Path, what: str, bound: Bound, required: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a CSV file (a header line, then one row a line) read as :func:`read_bounded_text`
    reads its text; a file that is not CSV, or lacks one of the ``required`` columns, stops with
    one line naming the file."""
    origin = str(path)
    text = read_bounded_text(path, what, bound, universal_newlines=False)  # csv reads the line ends
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as exc:
        raise ConfigError("", NO_VALUE, f"{what} cannot be read ({exc.__class__.__name__})", origin) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(
            "header",
            ",".join(header),
            f"must have the columns {','.join(required)} (missing {','.join(missing)})",
            origin,
        )
    return rows
