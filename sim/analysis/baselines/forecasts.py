"""The named baselines as forecasters: per replication, a synthetic log of attacks and their harm
over a check's dates, measured by the same :func:`sim.replication.checks.measure` as the model's.

Each check draws its own replications (the scores are per check, so only each check's own
distribution matters), from a ``numpy.random.Generator`` seeded by the validation's root seed,
the baseline's name and the check's id: the same seed gives the same values, and adding a check
changes no other check's.
"""

from __future__ import annotations

import math
import zlib
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.analysis.baselines.fit_window import ATTACKS, FitWindow
from sim.config.calendar import Calendar
from sim.model.records import Record, record_kind_named
from sim.replication.checks import Check, measure
from sim.replication.simulate import record_kinds

BASELINES = ("poisson", "negbin_monthly", "random_level", "persistence")
MAIN_BASELINE = "poisson"  # the one whose band validation.csv and the fan chart show
_STREAM = 0xBA5E  # keeps the baselines' streams apart from every other user of the root seed
_HARM_RECORDS = {
    "us_killed": ("us_killed", "us_fatal_attack"),
    "us_wounded": ("us_wounded",),
    "civilian_casualties": ("civilian_casualties",),
}


def baseline_values(name: str, fit: FitWindow, check: Check, replications: int, seed: int) -> np.ndarray:
    """The value of ``check`` in each of ``replications`` synthetic logs of baseline ``name``
    (NaN where the statistic has none, as for the model)."""
    rng = baseline_rng(seed, name, check.id)
    logs = synthetic_logs(name, fit, check, replications, rng)
    calendar = Calendar(check.start, check.end)
    return np.array([measure(check, log, calendar) for log in logs], dtype=float)


def baseline_rng(seed: int, name: str, check_id: str) -> np.random.Generator:
    """The generator of baseline ``name`` on check ``check_id`` under root seed ``seed``."""
    words = [zlib.crc32(name.encode()), zlib.crc32(check_id.encode())]
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAM, *words]))


def synthetic_logs(
    name: str, fit: FitWindow, check: Check, replications: int, rng: np.random.Generator
) -> list[list[Record]]:
    """``replications`` logs of baseline ``name`` over the check's dates (and, for
    ``followed_within``, its ``days`` after them), time in days from 00:00 of the check's start.
    Only the records the check reads are written: the attacks of its kinds, and the harm of
    every attack when it reads harm."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}")
    record_kinds()  # every kind declared
    wanted = set(check.kinds) | ({check.trigger} if check.trigger else set())
    harm_read = wanted & {k for kinds in _HARM_RECORDS.values() for k in kinds}
    attacks = [k for k in ATTACKS if k in wanted or (harm_read and fit.rates[k].rate > 0)]
    segments = _month_segments(check.start, check.end + timedelta(days=math.ceil(check.days or 0)))
    offsets, lengths = np.array([s[0] for s in segments]), np.array([s[1] for s in segments])
    factors = {
        g.kinds: _factors(name, g.monthly_k, g.level_k, replications, len(segments), rng)
        for g in fit.groups
        if set(g.kinds) & set(attacks)
    }
    kinds = sorted(wanted & ({*ATTACKS} | harm_read))
    parts = []  # (replication, time, kind index, count) of every record
    for kind in attacks:
        rate = fit.rates[kind].last_rate if name == "persistence" else fit.rates[kind].rate
        counts = rng.poisson(rate * lengths[None, :] * factors[fit.group_of(kind).kinds])
        flat = counts.ravel()
        rep = np.repeat(np.repeat(np.arange(replications), len(segments)), flat)
        seg = np.repeat(np.tile(np.arange(len(segments)), replications), flat)
        time = offsets[seg] + lengths[seg] * rng.random(len(seg))
        donor = rng.random(len(seg))  # one uniform picks the donor attack of every mark
        marks = fit.marks[kind]
        if kind in wanted:
            size = _resample(marks.rockets, donor, 1) if kind == "attack_rocket" else np.ones(len(seg), np.int64)
            parts.append((rep, time, np.full(len(seg), kinds.index(kind)), size))
        for field, records in _HARM_RECORDS.items():
            if not set(records) & wanted:
                continue
            harmed = _resample(marks.harm[field], donor, 0)
            hit = harmed > 0
            for record in records:
                if record in wanted:
                    count = harmed[hit] if record != "us_fatal_attack" else np.ones(int(hit.sum()), np.int64)
                    parts.append((rep[hit], time[hit], np.full(int(hit.sum()), kinds.index(record)), count))
    return _logs(parts, [record_kind_named(k) for k in kinds], replications)


def _factors(
    name: str, monthly_k: float, level_k: float, replications: int, months: int, rng: np.random.Generator
) -> np.ndarray:
    """Replications x months multipliers of the rate: 1 (poisson, persistence), one Gamma(k, 1/k)
    level per replication (random_level), one per replication and month (negbin_monthly)."""
    if name == "negbin_monthly" and math.isfinite(monthly_k):
        return rng.gamma(monthly_k, 1 / monthly_k, (replications, months))
    if name == "random_level" and math.isfinite(level_k):
        return np.repeat(rng.gamma(level_k, 1 / level_k, (replications, 1)), months, axis=1)
    return np.ones((replications, months))


def _resample(reported: np.ndarray, donor: np.ndarray, default: int) -> np.ndarray:
    """The reported value of the donor attack ``floor(u x n)`` per uniform ``u``; ``default``
    when nothing is reported."""
    if not len(reported):
        return np.full(len(donor), default, np.int64)
    return reported[np.minimum((donor * len(reported)).astype(np.int64), len(reported) - 1)]


def _month_segments(start: date, end: date) -> list[tuple[float, float]]:
    """(offset from ``start`` in days, length in days) of each calendar month's part of [start, end]."""
    segments = []
    for month in pd.period_range(start, end, freq="M"):
        first, last = max(start, month.start_time.date()), min(end, month.end_time.date())
        segments.append((float((first - start).days), float((last - first).days + 1)))
    return segments


def _logs(parts: list[tuple], kinds: list, replications: int) -> list[list[Record]]:
    """One time-ordered list of records per replication."""
    if not parts:
        return [[] for _ in range(replications)]
    rep, time, kind, count = (np.concatenate([p[i] for p in parts]) for i in range(4))
    order = np.lexsort((kind, time, rep))
    rep, time, kind, count = rep[order], time[order], kind[order], count[order]
    records = [Record(t, kinds[k], None, None, c) for t, k, c in zip(time.tolist(), kind.tolist(), count.tolist())]
    bounds = np.searchsorted(rep, np.arange(replications + 1)).tolist()
    return [records[bounds[r] : bounds[r + 1]] for r in range(replications)]
