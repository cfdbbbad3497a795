"""The public record as a file of checks: what was observed, over which dates, and where it
was published (``configs/data/public_record.csv``).

One row per observation: ``check`` (its id), ``statistic`` (see :mod:`sim.replication.checks`),
``kinds`` (record kinds joined by ``+``), ``from`` and ``to`` (ISO dates, inclusive),
``trigger`` and ``days`` (for ``followed_within``), ``observed_low`` and ``observed_high`` (the
observed range; an empty high means "at least low"), ``source``. Extra columns are ignored by
validation; ``use`` says what a row was used for: ``fit`` (in the calibration's distance),
``set`` (used by hand to set a parameter's value or prior; the note says which), ``overlap``
(used for nothing, but its dates overlap what the calibration reads, so it is not independent
evidence) or ``held-out`` (used for nothing, and after everything the calibration reads: the
only rows that count as validation).
A malformed row stops with one line naming the row, the column and the rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sim.config.errors import NO_VALUE, ConfigError
from sim.config.limits import RECORD_BYTES, RECORD_DATES, RECORD_DATES_REASON, read_csv_rows
from sim.replication.checks import STATISTICS, Check
from sim.replication.simulate import record_kinds

REQUIRED = ("check", "statistic", "kinds", "from", "to", "trigger", "days", "observed_low", "observed_high", "source")
USES = ("fit", "set", "overlap", "held-out")
ID = re.compile(r"[A-Za-z0-9_.\-]+")
FIRST_DAY, LAST_DAY = (date.fromisoformat(d) for d in RECORD_DATES)
RESERVED_PREFIX = "month."  # validate's own monthly checks (the fan chart) are named month.<family>.<month>
MAX_OBSERVED = (
    10**9
)  # a count, sum or number of days of a record of a few thousand events; the baselines draw Poisson counts from it
MAX_DAYS = 3653  # followed_within: ten years; the baselines simulate this many days past the window (a date beyond 9999 overflows)


@dataclass(frozen=True)
class Observation:
    """One row: the check, the observed range and its provenance."""

    check: Check
    low: float
    high: float | None  # None: no upper bound ("at least low")
    source: str
    use: str = "held-out"
    note: str = ""

    @property
    def point(self) -> float:
        """The value the observation stands for: the middle of a closed range, else its bound."""
        return self.low if self.high is None else (self.low + self.high) / 2


def load_record(path: str | Path) -> list[Observation]:
    """Read and validate a public-record file (see the module docstring)."""
    path, origin = Path(path), str(path)
    rows = read_csv_rows(path, "record file", RECORD_BYTES, REQUIRED)
    if not rows:
        raise ConfigError("", NO_VALUE, "record file holds no rows", origin)
    known = {k.name for k in record_kinds()}
    observations = [_row(i + 2, row, known, origin) for i, row in enumerate(rows)]
    seen: set[str] = set()
    for i, obs in enumerate(observations):
        if obs.check.id in seen:
            raise ConfigError(f"row {i + 2}: check", obs.check.id, "appears twice", origin)
        seen.add(obs.check.id)
    return observations


def _row(line: int, row: dict, known: set[str], origin: str) -> Observation:
    def bad(column: str, rule: str) -> ConfigError:
        return ConfigError(f"row {line}: {column}", row.get(column), rule, origin)

    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    if not ID.fullmatch(text("check")):
        raise bad("check", "must be a name of letters, digits, '_', '-' or '.'")
    if text("check").lower().startswith(RESERVED_PREFIX):
        raise bad("check", f"must not start with '{RESERVED_PREFIX}' (validate names its own monthly checks so)")
    statistic = text("statistic")
    if statistic not in STATISTICS:
        raise bad("statistic", f"must be one of {', '.join(STATISTICS)}")
    kinds = tuple(k.strip() for k in text("kinds").split("+"))
    if not all(kinds) or any(k not in known for k in kinds):
        raise bad("kinds", "must name record kinds joined by '+' (see run.py trace --help)")
    start, end = (_date(text(c), bad, c) for c in ("from", "to"))
    for column, day in (("from", start), ("to", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise bad(column, f"must be within {FIRST_DAY} .. {LAST_DAY} ({RECORD_DATES_REASON})")
    if end < start:
        raise bad("to", f"must not be before from ({start})")
    trigger, days = text("trigger") or None, text("days") or None
    if statistic == "followed_within":
        if trigger not in known:
            raise bad("trigger", "must name a record kind (for followed_within)")
        days_value = _number(days, bad, "days")
        if not 0 < days_value <= MAX_DAYS:
            raise bad("days", f"must be in (0, {MAX_DAYS:,}] (ten years: a reply later than that is no reply)")
    elif trigger or days:
        raise bad("trigger" if trigger else "days", f"must be empty for {statistic}")
    low = _number(text("observed_low"), bad, "observed_low")
    high = _number(text("observed_high"), bad, "observed_high") if text("observed_high") else None
    for column, value in (("observed_low", low), ("observed_high", high)):
        if value is not None and value > MAX_OBSERVED:
            raise bad(column, f"must be at most {MAX_OBSERVED:,} (a count, a sum or a number of days of the record)")
    if low < 0 or (high is not None and high < low):
        raise bad(
            "observed_high" if high is not None and high < low else "observed_low",
            "must be >= 0 and observed_low <= observed_high",
        )
    if statistic == "none" and (low not in (0, 1) or high != low):
        raise bad("observed_low", "must be 0 or 1, with observed_high equal to it, for none")
    if statistic == "followed_within" and (high is None or high > 1):
        raise bad("observed_high", "must be a share in [0, 1] for followed_within")
    if not text("source"):
        raise bad("source", "must name where the observation was published")
    use = text("use") or "held-out"
    if use not in USES:
        raise bad("use", f"must be one of {', '.join(USES)}")
    check = Check(text("check"), statistic, kinds, start, end, trigger, float(days) if days else None)
    return Observation(check, low, high, text("source"), use, text("note"))


def _date(value: str, bad, column: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad(column, "must be a date like 2020-07-27") from None


def _number(value: str | None, bad, column: str) -> float:
    try:
        number = float(value or "")
    except ValueError:
        raise bad(column, "must be a number") from None
    if not math.isfinite(number):
        raise bad(column, "must be a finite number")
    return number
