"""The event log: one immutable flat row per thing that happens, tabulated at the end.

Kinds of record are declared next to the behaviour that writes them, with
:func:`record_kind`: a threat module declares its attacks and rounds, :mod:`sim.model.cram`
its engagements, Washington its strikes. The rest of the code compares kinds by identity and
reads the typed fields of a record (``count``, ``heavy``, ``origin``, ``generation``), never its
``detail`` text, which is there for people reading a trace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import NamedTuple

import simpy


class RecordKind:
    """What a record reports: a name (as shown in traces and ``--kinds``) and what it means."""

    __slots__ = ("name", "doc")

    def __init__(self, name: str, doc: str) -> None:
        self.name, self.doc = name, doc

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"RecordKind({self.name!r})"

    def __reduce__(self) -> tuple:
        return (record_kind_named, (self.name,))  # one object per name, also after pickling


_DECLARED: dict[str, RecordKind] = {}


def record_kind(name: str, doc: str) -> RecordKind:
    """Declare a kind of record; each name is declared once, next to what writes it."""
    if name in _DECLARED:
        raise ValueError(f"record kind {name!r} is declared twice")
    kind = _DECLARED[name] = RecordKind(name, doc)
    return kind


def record_kind_named(name: str) -> RecordKind:
    """The declared kind called ``name`` (KeyError if none is)."""
    return _DECLARED[name]


def declared_kinds() -> list[RecordKind]:
    """Every kind declared so far, in the order of declaration."""
    return list(_DECLARED.values())


class Origin(StrEnum):
    """Why an attack happened."""

    BACKGROUND = "background"  # the campaign's own tempo
    FOLLOW_UP = "follow-up"  # triggered by an earlier attack (self-excitation)
    REVENGE = "revenge"  # vowed after a U.S. strike
    BACKLASH = "backlash"  # after detainees were released


class Record(NamedTuple):
    """One event. Fields that do not apply to a kind are None.

    ``count`` is the number of things the record is about: rockets in a salvo, trucks damaged,
    people killed, revenge attacks vowed; 1 for a single event. ``heavy`` marks the salvo
    class of a rocket attack, ``origin`` why an attack happened, ``generation`` the place of
    an attack or strike in an escalation chain (attack -> strike -> revenge attack -> ...).
    """

    time_d: float
    kind: RecordKind
    site: str | None = None
    attack: str | None = None
    count: int = 1
    heavy: bool | None = None
    origin: Origin | None = None
    generation: int | None = None
    detail: str = ""


_new_record = tuple.__new__  # a Record from a full tuple of its fields, without NamedTuple's keyword handling


RECORDS_PER_DAY = 1_000
"""The most records a replication may write per day of its horizon (at least
:data:`LEAST_RECORD_BUDGET` in all). A run of the calibrated model writes about 3 a day, the
busiest option about 5; a thousand a day is a world that feeds on itself, such as revenge for
every strike that outruns the strike cooldown, and it would otherwise run until memory is gone."""
LEAST_RECORD_BUDGET = 100_000


def record_budget(horizon_days: float) -> int:
    """The record budget of a replication of ``horizon_days``."""
    return max(LEAST_RECORD_BUDGET, int(RECORDS_PER_DAY * horizon_days))


class RunawayReplication(RuntimeError):
    """A replication wrote more records than its budget: its configuration feeds on itself.
    The runner records it as a failed replication, with its seed, like any other error."""


class Ledger:
    """Collects the records of one replication, stamped with the simulation time, and tells
    subscribers (the policy actors) about each record of the kinds they follow, as it happens,
    in the order they subscribed. A replication that writes more than ``budget`` records stops
    with :class:`RunawayReplication`, naming the kinds that ran away."""

    def __init__(self, env: simpy.Environment, budget: int = LEAST_RECORD_BUDGET) -> None:
        self.records: list[Record] = []
        self.budget = budget
        self._env = env
        self._subscribers: dict[RecordKind, list[Callable[[Record], None]]] = {}

    def _runaway(self) -> str:
        kinds = Counter(r.kind.name for r in self.records)
        top = ", ".join(f"{name} {n / len(self.records):.0%}" for name, n in kinds.most_common(3))
        return (
            f"more than {self.budget:,} records by day {self._env.now:.1f} ({len(self.records) / max(self._env.now, 1.0):,.0f} "
            f"a day; a run of the calibrated model writes about 3): the configuration feeds on itself, for instance "
            f"revenge for strikes (revenge_prob x revenge_attacks_mean) outrunning strike_cooldown_days; most "
            f"frequent: {top}"
        )

    def subscribe(self, callback: Callable[[Record], None], kinds: Iterable[RecordKind]) -> None:
        """Call ``callback`` with every record of ``kinds`` from now on."""
        for kind in kinds:
            self._subscribers.setdefault(kind, []).append(callback)

    def record(
        self,
        kind: RecordKind,
        site: str | None = None,
        attack: str | None = None,
        count: int = 1,
        heavy: bool | None = None,
        origin: Origin | None = None,
        generation: int | None = None,
        detail: str = "",
    ) -> None:
        """Write a record at the current time (see :class:`Record` for the fields)."""
        # the hot path of a run: the tuple built directly, the clock read from the environment
        rec = _new_record(Record, (self._env._now, kind, site, attack, count, heavy, origin, generation, detail))
        records = self.records
        records.append(rec)
        if len(records) > self.budget:
            raise RunawayReplication(self._runaway())
        callbacks = self._subscribers.get(kind)
        if callbacks:
            for callback in callbacks:
                callback(rec)
