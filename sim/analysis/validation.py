"""How a scenario does against the public record: per observation, the simulated
distribution, where the observation falls in it, and a proper score.

For each check: the observed range; the simulated mean and 5th/50th/95th percentiles; the
observation's mid-rank percentile (of the middle of a closed range, of the bound of a one-sided
one); whether the observed range overlaps the central 90% (for ``none``: whether the model gives
the observed outcome a probability of at least 0.05); and a score.

The score is the continuous ranked probability score (CRPS) of the simulated distribution, in
its form for a censored observation: for an observed range [a, b],
``int_{-inf}^{a} F(z)^2 dz + int_{b}^{inf} (1 - F(z))^2 dz``, which is the CRPS when a = b, and
charges nothing for mass inside the range (an "at least a" observation has b = infinity). For a
0/1 outcome (``none``) it is the Brier score. It is divided by max(1, the observation's value),
a constant of the check, so that checks of different sizes weigh alike; the mean over checks
stays a proper score. Lower is better: a model whose band is needlessly wide scores worse than
a sharper one that still covers the record.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from sim.analysis.figures import new_figure, save_figure
from sim.analysis.tables import fmt, markdown_table
from sim.calibration.public_record import Observation
from sim.config.scenario import Scenario
from sim.replication.checks import Check

BAND = (5.0, 95.0)  # the central 90%
NONE_FLOOR = 0.05  # a 0/1 observation is inside if the model gives it at least this probability


def midrank_percentile(value: float, simulated: np.ndarray) -> float:
    """100 x [P(sim < value) + P(sim = value) / 2]."""
    return float(100 * ((simulated < value).mean() + 0.5 * (simulated == value).mean()))


def censored_crps(simulated: np.ndarray, low: float, high: float | None) -> float:
    """CRPS of the empirical distribution of ``simulated`` against the range [low, high]
    (``high`` None: unbounded above); see the module docstring."""
    x = np.sort(np.asarray(simulated, dtype=float))
    n = len(x)
    steps = np.arange(1, n + 1) / n  # F on [x_i, x_{i+1})
    below = 0.0
    for i in range(n):
        right = x[i + 1] if i + 1 < n else math.inf
        left, right = x[i], min(right, low)
        if right > left:
            below += steps[i] ** 2 * (right - left)
    above = 0.0
    if high is not None:
        ends = np.concatenate([[-math.inf], x])
        for i in range(n + 1):
            left = max(ends[i], high)
            right = x[i] if i < n else math.inf
            F = i / n
            if right > left and F < 1:
                above += (1 - F) ** 2 * (right - left)
    return below + above


def score_checks(observations: Sequence[Observation], runs: pd.DataFrame) -> pd.DataFrame:
    """One row per observation (see the module docstring)."""
    rows = []
    for obs in observations:
        sim = runs[obs.check.column].dropna().to_numpy(float)
        check = obs.check
        p05, p50, p95 = np.percentile(sim, [5, 50, 95]) if len(sim) else (np.nan,) * 3
        if check.statistic == "none":
            probability = float((sim == obs.low).mean()) if len(sim) else np.nan
            inside = probability >= NONE_FLOOR
            score = float(np.mean((sim - obs.low) ** 2))
        else:
            probability = np.nan
            inside = bool(obs.low <= p95 and (obs.high is None or obs.high >= p05))
            score = censored_crps(sim, obs.low, obs.high) / max(1.0, abs(obs.point))
        rows.append({
            "check": check.id, "statistic": check.statistic, "kinds": "+".join(check.kinds),
            "from": check.start.isoformat(), "to": check.end.isoformat(), "use": obs.use,
            "observed_low": obs.low, "observed_high": obs.high if obs.high is not None else np.inf,
            "sim_mean": float(sim.mean()) if len(sim) else np.nan, "sim_p05": p05, "sim_p50": p50, "sim_p95": p95,
            "percentile": midrank_percentile(obs.point, sim) if len(sim) else np.nan,
            "p_observed": probability, "inside_90": inside, "score": score, "replications": len(sim),
            "source": obs.source,
        })  # fmt: skip
    return pd.DataFrame(rows)


def summary_line(table: pd.DataFrame) -> str:
    return (f"summary: {int(table['inside_90'].sum())} of {len(table)} checks inside the 90% band, "
            f"mean score {table['score'].mean():.3f}")  # fmt: skip


def write_validation(out: Path, table: pd.DataFrame, skipped: Sequence[Observation], title: str, fan: Path | None) -> Path:
    """``validation.md``: the summary, the table, what the scenario's horizon leaves out, the fan chart."""
    rows = []
    for _, r in table.iterrows():
        low, high = r["observed_low"], r["observed_high"]
        observed = fmt(low) if low == high else (f">= {fmt(low)}" if math.isinf(high) else f"{fmt(low)}-{fmt(high)}")
        rows.append([r["check"], r["use"], r["statistic"], f"{r['from']} .. {r['to']}", observed, fmt(r["sim_mean"]),
                     f"{fmt(r['sim_p05'])} / {fmt(r['sim_p50'])} / {fmt(r['sim_p95'])}", fmt(r["percentile"]),
                     "yes" if r["inside_90"] else "**no**", fmt(r["score"])])  # fmt: skip
    header = ["check", "use", "statistic", "window", "observed", "simulated mean", "p5 / p50 / p95",
              "percentile", "inside 90%", "score"]  # fmt: skip
    sections = [
        f"# Validation: {title}",
        f"**{summary_line(table).removeprefix('summary: ')}** ({table['replications'].max()} replications).",
        "Each check holds one observation of the public record against the simulated distribution of the same "
        "statistic. *percentile*: where the observation (the middle of a closed range, the bound of an 'at least' "
        "one) falls among the replications, mid-rank (50 = the median; near 0 or 100 = the model rarely gives it). "
        "*inside 90%*: the observed range overlaps the simulated 5th-95th percentiles (for a 0/1 check: the model "
        "gives the observed outcome a probability of at least 0.05). *score*: the CRPS for a censored observation "
        "(the Brier score for a 0/1 check), divided by the observed value when above 1; lower is better, and a "
        "sharper model that still covers the record scores better than one with wide bands. *use*: `fit` rows were "
        "used to set or fit parameters; `held-out` rows were not.",
        markdown_table(header, rows),
    ]
    if skipped:
        sections.append("Not checked (outside this scenario's horizon): " + ", ".join(o.check.id for o in skipped) + ".")
    sources = "\n".join(f"- `{check}`: {source}" for check, source in zip(table["check"], table["source"]))
    sections.append("## Sources\n\n" + sources)
    if fan is not None:
        sections.append(f"## Monthly attacks\n\n![simulated monthly attacks with the record]({fan.relative_to(out).as_posix()})")
    path = out / "validation.md"
    path.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return path


def fan_chart(path: Path, monthly: dict[str, pd.DataFrame], observed: dict[str, list[tuple[pd.Timestamp, pd.Timestamp, float]]],
              events: list[tuple[pd.Timestamp, str]]) -> Path:
    """One panel per family of attacks: the simulated monthly count (median, 50% and 90%
    bands) with the observed counts (as a per-month average over their window) and the dated
    events marked."""
    fig = new_figure((10.0, 3.3 * len(monthly)))
    for i, (family, table) in enumerate(monthly.items()):
        ax = fig.add_subplot(len(monthly), 1, i + 1)
        months = table.columns
        q = np.percentile(table.to_numpy(float), [5, 25, 50, 75, 95], axis=0)
        ax.fill_between(months, q[0], q[4], alpha=0.2, color="tab:blue", step="mid", label="simulated 5-95%")
        ax.fill_between(months, q[1], q[3], alpha=0.35, color="tab:blue", step="mid", label="simulated 25-75%")
        ax.plot(months, q[2], color="tab:blue", drawstyle="steps-mid", label="simulated median")
        for j, (start, end, per_month) in enumerate(observed.get(family, [])):
            ax.hlines(per_month, start, end, color="crimson", linewidth=2.5, label="observed (per month)" if j == 0 else None)
        top = ax.get_ylim()[1]
        for k, (when, label) in enumerate(sorted(events)):
            ax.axvline(when, color="grey", linestyle=":", linewidth=1)
            if i == 0:  # labelled once, on the first panel, at staggered heights so close dates stay legible
                ax.annotate(label, (when, top * (1.0 - 0.22 * (k % 3))), rotation=90, fontsize=6, va="top", ha="right", color="dimgrey")
        ax.set_title(f"{family.replace('_', ' ')}: attacks per month")
        ax.set_ylabel("attacks / month")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="upper left")
    return save_figure(fig, path)


def monthly_checks(start: date, end: date, families: dict[str, tuple[str, ...]]) -> list[Check]:
    """A ``count`` check per calendar month of the run and family of attacks (the fan chart)."""
    checks = []
    for month in pd.period_range(start, end, freq="M"):
        first, last = max(start, month.start_time.date()), min(end, month.end_time.date())
        for family, kinds in families.items():
            checks.append(Check(f"month.{family}.{month}", "count", kinds, first, last))
    return checks


def monthly_tables(runs: pd.DataFrame, checks: Sequence[Check]) -> dict[str, pd.DataFrame]:
    """Family -> replications x months of simulated counts."""
    tables: dict[str, dict[pd.Timestamp, pd.Series]] = {}
    for check in checks:
        family, month = check.id.split(".")[1:]
        tables.setdefault(family, {})[pd.Period(month).start_time + pd.Timedelta(days=14)] = runs[check.column]
    return {family: pd.DataFrame(columns) for family, columns in tables.items()}


def observed_per_month(observations: Sequence[Observation], families: dict[str, tuple[str, ...]]) -> dict[str, list]:
    """Family -> (start, end, observed count per month) of every closed ``count`` observation of it."""
    found: dict[str, list] = {}
    for obs in observations:
        check = obs.check
        family = next((f for f, kinds in families.items() if set(kinds) == set(check.kinds)), None)
        if family is None or check.statistic != "count" or obs.high is None:
            continue
        months = ((check.end - check.start).days + 1) / 30.44
        found.setdefault(family, []).append((pd.Timestamp(check.start), pd.Timestamp(check.end), obs.point / months))
    return found


def dated_events(scenario: Scenario) -> list[tuple[pd.Timestamp, str]]:
    """The dated history of a scenario, as (date, label) marks for a chart."""
    return [(pd.Timestamp(event.date), f"{event.date:%d %b %Y} {event.event.replace('_', ' ')}")
            for event in scenario.history.values()]  # fmt: skip
