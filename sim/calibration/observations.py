"""Observed quarterly counts, the data a calibration fits (``configs/data/attacks_2020.csv``).

One row per count: ``series`` (a quarterly outcome: ``rocket_drone_attacks``,
``convoy_attacks`` or ``us_casualties``), ``quarter`` (``Q1`` ... of the calendar year),
``start`` and ``end`` (the quarter's first and last day), ``count``, ``use`` (``fit``: may be
fitted or predicted; ``check``: a qualitative check reported beside the fit) and ``source``.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from sim.config.calendar import Calendar
from sim.config.errors import NO_VALUE, ConfigError
from sim.replication.outcomes import quarterly_series

COLUMNS = ("series", "quarter", "start", "end", "count", "use", "source")
USES = ("fit", "check")


def load_observations(path: str | Path, calendar: Calendar) -> pd.DataFrame:
    """Read and validate the observations; add ``column``, the matching outcome column of
    a run over ``calendar`` (e.g. ``rocket_drone_attacks_q3``)."""
    path, origin = Path(path), str(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except FileNotFoundError:
        raise ConfigError("", NO_VALUE, "data file not found", origin) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError("", NO_VALUE, f"data file cannot be read ({exc})", origin) from None
    if list(header) != list(COLUMNS):
        raise ConfigError("header", ",".join(header), f"must be {','.join(COLUMNS)}", origin)
    labels = calendar.quarter_labels()
    starts = calendar.quarter_starts()
    table = [_row(i + 2, row, labels, starts, calendar, origin) for i, row in enumerate(rows)]
    frame = pd.DataFrame(table)
    duplicated = frame.duplicated(["series", "quarter"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise ConfigError(f"line {int(row['line'])}", f"{row['series']} {row['quarter']}", "appears twice", origin)
    return frame


def _row(line: int, row: dict, labels: list[str], starts: list[float], calendar: Calendar, origin: str) -> dict:
    def bad(column: str, rule: str) -> ConfigError:
        return ConfigError(f"line {line}: {column}", row.get(column), rule, origin)

    series = [s.name for s in quarterly_series()]
    if row["series"] not in series:
        raise bad("series", f"must be one of {', '.join(series)}")
    if row["use"] not in USES:
        raise bad("use", f"must be one of {', '.join(USES)}")
    try:
        start, end = date.fromisoformat(row["start"]), date.fromisoformat(row["end"])
    except (TypeError, ValueError):
        raise bad("start", "and end must be dates like 2020-01-01") from None
    if not (row["count"].isascii() and row["count"].isdigit()):
        raise bad("count", "must be a whole number >= 0")
    label = f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if label not in labels or calendar.day_of(start) != starts[labels.index(label)] or row["quarter"] != label[4:]:
        raise bad("start", f"must be the first day of quarter {row['quarter']} within the run")
    if end != date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1) - timedelta(days=1):
        raise bad("end", "must be the last day of the quarter that start begins")
    column = f"{row['series']}_q{labels.index(label) + 1}"
    return {"line": line, **{k: row[k] for k in COLUMNS}, "count": int(row["count"]), "start": start, "end": end, "column": column}


def select_quarters(observations: pd.DataFrame, quarters: list[str], origin: str) -> pd.DataFrame:
    """The fitted (``use = fit``) rows of the given quarters, e.g. ``["Q1", "Q2"]``."""
    chosen = observations[(observations["use"] == "fit") & observations["quarter"].isin(quarters)]
    missing = [q for q in quarters if q not in set(chosen["quarter"])]
    if missing:
        raise ConfigError("--fit/--predict", ",".join(missing), "names quarters with no fitted count in the data", origin)
    return chosen
