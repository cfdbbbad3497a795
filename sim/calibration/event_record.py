"""The observed log of the fit window: one row per attack of the public record
(``configs/data/events_2019_2020.csv``), read into the model's record vocabulary.

Columns: ``event`` (its id), ``date`` (ISO, 2019-10-01 .. 2020-09-30), ``kind`` (a threat
kind's name: ``rocket``, ``drone``, ``convoy``, ``security_detail``), ``site``, ``place``, ``province``, the counts
``rockets_fired``, ``rockets_inside``, ``intercepted``, ``us_killed``, ``us_wounded``,
``coalition_killed``, ``coalition_wounded``, ``iraqi_killed``, ``iraqi_wounded``,
``civilian_killed``, ``civilian_wounded``, and ``claimed_by``, ``source``, ``url``, ``note``.
A count is blank when the sources do not report it (unknown) and 0 when they report none; the
two are kept apart throughout.

Each attack becomes the records the model writes for it: ``attack_rocket`` (count = rockets
fired, unknown when blank), ``attack_drone`` (count unknown: the file does not give the drones
per attack), ``attack_convoy`` and ``attack_security_detail`` (count 1); and, when the attack
harmed people, ``us_killed`` (U.S. plus coalition killed) with one ``us_fatal_attack``,
``us_wounded`` (U.S. plus coalition wounded) and ``civilian_casualties`` (civilians killed plus
wounded). A sum is unknown when all its parts are blank; a blank beside a reported part counts
as none reported. A malformed row stops with one line naming the file, the row, the column,
the value and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sim.config.errors import ConfigError
from sim.config.limits import EVENTS_BYTES, read_csv_rows
from sim.model.threats import threats
from sim.project import CONFIGS

DEFAULT_EVENTS = CONFIGS / "data" / "events_2019_2020.csv"
FIRST, LAST = date(2019, 10, 1), date(2020, 9, 30)  # the dates the event record covers
COUNTS = (
    "rockets_fired",
    "rockets_inside",
    "intercepted",
    "us_killed",
    "us_wounded",
    "coalition_killed",
    "coalition_wounded",
    "iraqi_killed",
    "iraqi_wounded",
    "civilian_killed",
    "civilian_wounded",
)
TEXTS = ("site", "place", "province", "claimed_by", "source", "url", "note")
REQUIRED = ("event", "date", "kind", *COUNTS, *TEXTS)
ATTACK_KINDS = {t.name: t.attack_record.name for t in threats()}  # kind column -> attack record, one per threat kind
ID = re.compile(r"[A-Za-z0-9_.\-]+")
INTEGER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ObservedAttack:
    """One attack of the event record, its counts summed as the model records them (None: unknown)."""

    event: str
    day: date
    kind: str  # the model's record kind: attack_rocket, attack_drone, attack_convoy, attack_security_detail
    rockets_fired: int | None
    us_killed: int | None  # U.S. plus coalition
    us_wounded: int | None  # U.S. plus coalition
    civilian_casualties: int | None  # civilians killed plus wounded

    @property
    def count(self) -> int | None:
        """The ``count`` of the attack's record: rockets for a salvo, unknown for drones, 1 otherwise."""
        if self.kind == "attack_rocket":
            return self.rockets_fired
        return None if self.kind == "attack_drone" else 1


@dataclass(frozen=True)
class ObservedRecord:
    """A record of the observed log, in the model's vocabulary; ``count`` None = not reported."""

    day: date
    kind: str
    count: int | None
    event: str


def load_events(path: str | Path) -> list[ObservedAttack]:
    """Read and validate an event-record file (see the module docstring), in file order."""
    path, origin = Path(path), str(path)
    rows = read_csv_rows(path, "event record", EVENTS_BYTES, REQUIRED)
    attacks, seen = [], set()
    for i, row in enumerate(rows):
        attack = _row(i + 2, row, origin)
        if attack.event in seen:
            raise ConfigError(f"row {i + 2}: event", attack.event, "appears twice", origin)
        seen.add(attack.event)
        attacks.append(attack)
    return attacks


def observed_records(attacks: list[ObservedAttack]) -> list[ObservedRecord]:
    """The records the model would have written for ``attacks``, by date (see the module docstring)."""
    records = []
    for a in sorted(attacks, key=lambda a: a.day):
        records.append(ObservedRecord(a.day, a.kind, a.count, a.event))
        if a.us_killed:
            records += [
                ObservedRecord(a.day, "us_killed", a.us_killed, a.event),
                ObservedRecord(a.day, "us_fatal_attack", 1, a.event),
            ]
        if a.us_wounded:
            records.append(ObservedRecord(a.day, "us_wounded", a.us_wounded, a.event))
        if a.civilian_casualties:
            records.append(ObservedRecord(a.day, "civilian_casualties", a.civilian_casualties, a.event))
    return records


def _row(line: int, row: dict, origin: str) -> ObservedAttack:
    def bad(column: str, rule: str) -> ConfigError:
        return ConfigError(f"row {line}: {column}", row.get(column), rule, origin)

    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    if not ID.fullmatch(text("event")):
        raise bad("event", "must be an id of letters, digits, '_', '-' or '.'")
    try:
        day = date.fromisoformat(text("date"))
    except ValueError:
        raise bad("date", "must be a date like 2020-03-11") from None
    if not FIRST <= day <= LAST:
        raise bad("date", f"must be within {FIRST} .. {LAST}, the dates the event record covers")
    if text("kind") not in ATTACK_KINDS:
        raise bad("kind", f"must be one of {', '.join(ATTACK_KINDS)}")
    counts: dict[str, int | None] = {}
    for column in COUNTS:
        value = text(column)
        if value and not INTEGER.fullmatch(value):
            raise bad(column, "must be a whole number >= 0, or blank when not reported")
        counts[column] = int(value) if value else None
    return ObservedAttack(
        text("event"),
        day,
        ATTACK_KINDS[text("kind")],
        counts["rockets_fired"],
        _total(counts, "us_killed", "coalition_killed"),
        _total(counts, "us_wounded", "coalition_wounded"),
        _total(counts, "civilian_killed", "civilian_wounded"),
    )


def _total(counts: dict[str, int | None], *columns: str) -> int | None:
    """The sum of the reported columns; None if none of them is reported."""
    parts = [counts[c] for c in columns if counts[c] is not None]
    return sum(parts) if parts else None
