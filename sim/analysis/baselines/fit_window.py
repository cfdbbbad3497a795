"""What the naive baselines take from the observed fit window: a rate per kind of attack, made
complete by the record's fit counts, the dispersion of its monthly and quarterly counts, and the
marks of its attacks (rockets per salvo, people harmed per attack).

The fit window is the span of dates of the record's ``fit`` rows (2020-01-01 .. 2020-09-30 in
``configs/data/public_record.csv``); attacks of the event record outside it are not used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.calibration.event_record import ATTACK_KINDS, ObservedAttack
from sim.calibration.public_record import Observation
from sim.config.errors import NO_VALUE, ConfigError

ATTACKS = tuple(ATTACK_KINDS.values())  # every threat kind's attack record: attack_rocket, attack_drone, ...
HARM = ("us_killed", "us_wounded", "civilian_casualties")  # the casualty marks of an attack


@dataclass(frozen=True)
class KindGroup:
    """Kinds of attack whose level moves together in the dispersed baselines: the kinds a fit
    row counts together (``rows``: those rows), or one kind no fit row counts (``rows`` empty).

    ``monthly_k`` and ``level_k`` are the shapes of the Gamma(k, 1/k) factors of
    ``negbin_monthly`` and ``random_level`` (``inf``: no extra dispersion, Poisson)."""

    kinds: tuple[str, ...]
    rows: tuple[str, ...]
    monthly_k: float
    level_k: float


@dataclass(frozen=True)
class KindRate:
    """One kind of attack over the fit window: its attacks in the event record, the completeness
    factor that scales them to the fit rows' total (1 when no fit row counts the kind), and the
    rate per day over the whole window and over its last quarter."""

    kind: str
    events: int
    scale: float
    rate: float
    last_rate: float


@dataclass(frozen=True)
class Marks:
    """The reported marks of one kind's attacks in the fit window, in date order (blanks left out):
    rockets fired per salvo and, per attack, U.S./coalition killed, wounded and civilians harmed."""

    kind: str
    rockets: np.ndarray
    harm: dict[str, np.ndarray]


@dataclass(frozen=True)
class FitWindow:
    """Everything the baselines take from the fit window."""

    start: date
    end: date
    last_start: date  # first day of the window's last calendar quarter
    rates: dict[str, KindRate]
    groups: tuple[KindGroup, ...]
    marks: dict[str, Marks]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def group_of(self, kind: str) -> KindGroup:
        return next(g for g in self.groups if kind in g.kinds)


def fit_window(observations: Sequence[Observation], attacks: Sequence[ObservedAttack], origin: str) -> FitWindow:
    """The fit window of ``observations`` (their ``fit`` rows) and what its attacks give (see the
    module docstring of :mod:`sim.analysis.baselines`). ``origin`` names the record file for errors."""
    fit = [o for o in observations if o.use == "fit"]
    if not fit:
        raise ConfigError(
            "use", NO_VALUE, "no row of the record is marked fit: the baselines have no fit window", origin
        )
    start, end = min(o.check.start for o in fit), max(o.check.end for o in fit)
    inside = [a for a in sorted(attacks, key=lambda a: a.day) if start <= a.day <= end]
    last_start = max(start, date(end.year, 3 * ((end.month - 1) // 3) + 1, 1))
    groups, rates = [], {}
    for kinds, rows in _counted_groups(fit).items():
        group_rates = _scaled_rates(kinds, rows, inside, last_start, end)
        rates.update(group_rates)
        monthly = _monthly_counts(kinds, inside, start, end) * next(iter(group_rates.values())).scale
        groups.append(
            KindGroup(
                kinds,
                tuple(o.check.id for o in rows),
                _gamma_shape(monthly),
                _gamma_shape(np.array([o.point for o in rows])),
            )
        )
    for kind in (k for k in ATTACKS if k not in rates):  # no fit row counts it: the event record as it stands
        events = sum(a.kind == kind for a in inside)
        last = sum(a.kind == kind and a.day >= last_start for a in inside)
        rates[kind] = KindRate(
            kind, events, 1.0, events / ((end - start).days + 1), last / ((end - last_start).days + 1)
        )
        groups.append(
            KindGroup(
                (kind,),
                (),
                _gamma_shape(_monthly_counts((kind,), inside, start, end)),
                _gamma_shape(_quarterly_counts(kind, inside, start, end)),
            )
        )
    marks = {kind: _marks(kind, [a for a in inside if a.kind == kind]) for kind in ATTACKS}
    return FitWindow(start, end, last_start, rates, tuple(groups), marks)


def _counted_groups(fit: Sequence[Observation]) -> dict[tuple[str, ...], list[Observation]]:
    """Kinds of attack -> the fit rows that count them together (closed ``count`` rows of attacks
    only); a group sharing a kind with an earlier one is left out, so no kind is scaled twice."""
    groups: dict[tuple[str, ...], list[Observation]] = {}
    for obs in fit:
        kinds = tuple(sorted(obs.check.kinds, key=ATTACKS.index)) if set(obs.check.kinds) <= set(ATTACKS) else ()
        if obs.check.statistic == "count" and obs.high is not None and kinds:
            if kinds in groups or not any(set(kinds) & set(other) for other in groups):
                groups.setdefault(kinds, []).append(obs)
    return groups


def _scaled_rates(
    kinds: tuple[str, ...], rows: list[Observation], attacks: list[ObservedAttack], last_start: date, end: date
) -> dict[str, KindRate]:
    """Rates of ``kinds`` made complete by ``rows``: rate_k = events_k x total / events of the
    group, per day of the rows' windows; the split between kinds is the event record's (equal
    when it holds none of them). Over the last quarter, the rows inside it give the total."""
    days = _days_of(rows)
    events = {k: sum(a.kind == k and a.day in days for a in attacks) for k in kinds}
    total = sum(o.point for o in rows)
    scale = total / sum(events.values()) if sum(events.values()) else math.nan
    last = [o for o in rows if o.check.start >= last_start and o.check.end <= end]
    last_days = _days_of(last) if last else {last_start + timedelta(d) for d in range((end - last_start).days + 1)}
    last_events = {k: sum(a.kind == k and a.day in last_days for a in attacks) for k in kinds}
    last_total = sum(o.point for o in last) if last else None
    rates = {}
    for k in kinds:
        rate = total / len(kinds) / len(days) if math.isnan(scale) else events[k] * scale / len(days)
        if last_total is None:  # no fit row in the last quarter: its events, scaled as the window's
            last_rate = last_events[k] * (1.0 if math.isnan(scale) else scale) / len(last_days)
        elif sum(last_events.values()):
            last_rate = last_events[k] * last_total / sum(last_events.values()) / len(last_days)
        else:  # the last quarter's total, split between kinds as over the whole window
            share = events[k] / sum(events.values()) if sum(events.values()) else 1 / len(kinds)
            last_rate = last_total * share / len(last_days)
        rates[k] = KindRate(k, events[k], 1.0 if math.isnan(scale) else scale, rate, last_rate)
    return rates


def _days_of(rows: Sequence[Observation]) -> set[date]:
    return {o.check.start + timedelta(d) for o in rows for d in range((o.check.end - o.check.start).days + 1)}


def _monthly_counts(kinds: tuple[str, ...], attacks: list[ObservedAttack], start: date, end: date) -> np.ndarray:
    """Attacks of ``kinds`` per calendar month wholly inside [start, end]."""
    months = [
        m for m in pd.period_range(start, end, freq="M") if m.start_time.date() >= start and m.end_time.date() <= end
    ]
    return np.array([sum(a.kind in kinds and pd.Period(a.day, "M") == m for a in attacks) for m in months], dtype=float)


def _quarterly_counts(kind: str, attacks: list[ObservedAttack], start: date, end: date) -> np.ndarray:
    quarters = [
        q for q in pd.period_range(start, end, freq="Q") if q.start_time.date() >= start and q.end_time.date() <= end
    ]
    return np.array(
        [sum(a.kind == kind and pd.Period(a.day, "Q") == q for a in attacks) for q in quarters], dtype=float
    )


def _gamma_shape(counts: np.ndarray) -> float:
    """Method of moments for counts N ~ Poisson(m G), G ~ Gamma(k, 1/k): k = mean^2 / (var - mean);
    ``inf`` (Poisson) when var <= mean or fewer than two counts."""
    if len(counts) < 2:
        return math.inf
    mean, var = float(np.mean(counts)), float(np.var(counts, ddof=1))
    return mean**2 / (var - mean) if var - mean > 1e-9 * max(mean, 1.0) else math.inf  # not a rounding error


def _marks(kind: str, attacks: list[ObservedAttack]) -> Marks:
    def reported(values) -> np.ndarray:
        return np.array([v for v in values if v is not None], dtype=np.int64)

    harm = {field: reported(getattr(a, field) for a in attacks) for field in HARM}
    return Marks(kind, reported(a.rockets_fired for a in attacks), harm)
