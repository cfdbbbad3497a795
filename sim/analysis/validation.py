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

For a 0/1 check (``none``: 1 if nothing of its kinds happened in its window), ``p_event`` is the
model's probability that something did, 1 - the mean over replications, with its 95% Wilson
score interval over the replications (``p_event_lo``, ``p_event_hi``); NaN for other statistics.

Skill: each naive baseline of :mod:`sim.analysis.baselines` is scored on every check exactly as
the model is (``score_<name>``), and the model's skill against it is
``1 - score / score_<name>`` (NaN when the baseline scores 0): above 0 the model beats the
baseline, 0 is no better, below 0 is worse. Overall, on the ``held-out`` rows only,
``1 - mean model score / mean baseline score``; rows marked ``fit`` or ``set`` tuned the model
and are in-sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.baselines import BASELINES, MAIN_BASELINE, FitWindow
from sim.analysis.figures import new_figure, save_figure, short_label, short_labels
from sim.analysis.summary import wilson_interval
from sim.analysis.tables import fmt, markdown_table, markdown_text
from sim.batch.folder import write_atomic
from sim.calibration.public_record import Observation
from sim.config.scenario import Scenario
from sim.replication.checks import Check
from sim.replication.outcomes import quarterly_series

BAND = (5.0, 95.0)  # the central 90%
NONE_FLOOR = 0.05  # a 0/1 observation is inside if the model gives it at least this probability
EVENT_COLUMNS = ("p_event", "p_event_lo", "p_event_hi")  # of a ``none`` check; NaN for the others
CHECK_COLUMNS = (
    "check",
    "statistic",
    "kinds",
    "from",
    "to",
    "use",
    "observed_low",
    "observed_high",
    "sim_mean",
    "sim_p05",
    "sim_p50",
    "sim_p95",
    "percentile",
    "p_observed",
    "inside_90",
    "score",
    "replications",
    "source",
)


def midrank_percentile(value: float, simulated: np.ndarray) -> float:
    """100 x [P(sim < value) + P(sim = value) / 2]."""
    return float(100 * ((simulated < value).mean() + 0.5 * (simulated == value).mean()))


def censored_crps(simulated: np.ndarray, low: float, high: float | None) -> float:
    """CRPS of the empirical distribution of ``simulated`` against the range [low, high]
    (``high`` None: unbounded above); see the module docstring."""
    x = np.sort(np.asarray(simulated, dtype=float))
    n = len(x)
    if not n:  # nothing to score (e.g. a followed_within whose trigger never happened)
        return math.nan
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


def event_probability(simulated: np.ndarray) -> tuple[float, float, float]:
    """For the values of a ``none`` statistic (1: nothing happened, 0: something did), the
    probability that something happened, 1 - mean, and its 95% Wilson score interval over the
    replications; NaN for none."""
    values = np.asarray(simulated, dtype=float)
    if not len(values):
        return (np.nan, np.nan, np.nan)
    happened = int((values == 0).sum())
    low, high = wilson_interval(happened, len(values))
    return (1.0 - float(values.mean()), low, high)


def check_score(obs: Observation, simulated: np.ndarray) -> float:
    """The score of a simulated distribution of ``obs``'s statistic: the Brier score for
    ``none``, else the censored CRPS divided by max(1, the observed value); NaN if empty."""
    if not len(simulated):
        return np.nan
    if obs.check.statistic == "none":
        return float(np.mean((simulated - obs.low) ** 2))
    return censored_crps(simulated, obs.low, obs.high) / max(1.0, abs(obs.point))


def score_checks(
    observations: Sequence[Observation],
    runs: pd.DataFrame,
    baselines: Mapping[str, Mapping[str, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """One row per observation (see the module docstring); with ``baselines`` (name -> check
    id -> values), per baseline ``score_<name>`` and ``skill_<name>``, and the band
    ``<name>_p05``, ``<name>_p95`` of :data:`MAIN_BASELINE`; last, :data:`EVENT_COLUMNS`."""
    rows = []
    columns = [
        *CHECK_COLUMNS,
        *(f"{kind}_{name}" for name in (baselines or {}) for kind in ("score", "skill")),
        *((f"{MAIN_BASELINE}_p05", f"{MAIN_BASELINE}_p95") if MAIN_BASELINE in (baselines or {}) else ()),
        *EVENT_COLUMNS,
    ]
    for obs in observations:
        sim = runs[obs.check.column].dropna().to_numpy(float)
        check = obs.check
        p05, p50, p95 = np.percentile(sim, [5, 50, 95]) if len(sim) else (np.nan,) * 3
        if check.statistic == "none":
            probability = float((sim == obs.low).mean()) if len(sim) else np.nan
            inside = probability >= NONE_FLOOR
        else:
            probability = np.nan
            inside = bool(obs.low <= p95 and (obs.high is None or obs.high >= p05))
        score = check_score(obs, sim)
        row = {
            "check": check.id,
            "statistic": check.statistic,
            "kinds": "+".join(check.kinds),
            "from": check.start.isoformat(),
            "to": check.end.isoformat(),
            "use": obs.use,
            "observed_low": obs.low,
            "observed_high": obs.high if obs.high is not None else np.inf,
            "sim_mean": float(sim.mean()) if len(sim) else np.nan,
            "sim_p05": p05,
            "sim_p50": p50,
            "sim_p95": p95,
            "percentile": midrank_percentile(obs.point, sim) if len(sim) else np.nan,
            "p_observed": probability,
            "inside_90": inside,
            "score": score,
            "replications": len(sim),
            "source": obs.source,
        }
        for name, samples in (baselines or {}).items():
            values = np.asarray(samples[check.id], dtype=float)
            values = values[~np.isnan(values)]
            reference = check_score(obs, values)
            row[f"score_{name}"] = reference
            row[f"skill_{name}"] = skill(score, reference)
            if name == MAIN_BASELINE:
                row[f"{name}_p05"], row[f"{name}_p95"] = (
                    np.percentile(values, [5, 95]) if len(values) else (np.nan,) * 2
                )
        event = event_probability(sim) if check.statistic == "none" else (np.nan,) * 3
        row.update(zip(EVENT_COLUMNS, event))
        rows.append(row)
    return pd.DataFrame(rows, columns=columns) if not rows else pd.DataFrame(rows)


def skill(score: float, reference: float) -> float:
    """1 - score / reference; NaN when the reference scores 0 (or either is missing)."""
    if not np.isfinite(score) or not np.isfinite(reference) or reference == 0:
        return np.nan
    return 1.0 - score / reference


def scored_baselines(table: pd.DataFrame) -> list[str]:
    """The baselines that ``table`` holds scores of, in the order of :data:`BASELINES`."""
    return [name for name in BASELINES if f"score_{name}" in table.columns]


def skill_table(table: pd.DataFrame, rows: pd.Series | None = None) -> pd.DataFrame:
    """Per baseline, on the ``held-out`` rows only: their count, the mean model score, the mean
    baseline score and the overall skill 1 - mean model score / mean baseline score (rows where
    the baseline has no value are left out of both means). ``rows``: a boolean mask over
    ``table`` that narrows the held-out rows further (e.g. :func:`quiet_period`)."""
    chosen = table["use"] == "held-out"
    if rows is not None:
        chosen &= rows.reindex(table.index, fill_value=False).astype(bool)
    held = table[chosen]
    skills = []
    for name in scored_baselines(table):
        both = held[held["score"].notna() & held[f"score_{name}"].notna()]
        model, reference = both["score"].mean(), both[f"score_{name}"].mean()
        skills.append(
            {
                "baseline": name,
                "held_out_checks": len(both),
                "model_score": model,
                "baseline_score": reference,
                "skill": skill(model, reference),
            }
        )
    return pd.DataFrame(skills, columns=["baseline", "held_out_checks", "model_score", "baseline_score", "skill"])


QUIET_STATISTICS = ("none", "first_after")


def quiet_period(table: pd.DataFrame) -> pd.Series:
    """The quiet-period checks of a table of :func:`score_checks`: those whose statistic is
    ``none`` (a stretch without the events checked) or ``first_after`` (the time to the first)."""
    return table["statistic"].isin(QUIET_STATISTICS)


def skill_line(table: pd.DataFrame) -> str:
    """One line: the overall held-out skill against each baseline."""
    skills = skill_table(table)
    if skills.empty:
        return "skill: no baseline was scored"
    held = int(skills["held_out_checks"].max())
    shown = ", ".join(
        f"{r.baseline} {r.skill:+.2f}" if np.isfinite(r.skill) else f"{r.baseline} –" for r in skills.itertuples()
    )
    return f"skill on {held} held-out checks (1 - model score / baseline score; > 0: the model is better): {shown}"


def summary_line(table: pd.DataFrame) -> str:
    if table.empty:
        return "summary: no check scored: every row of the record is outside the scenario's horizon (not scored)"
    return (
        f"summary: {int(table['inside_90'].sum())} of {len(table)} checks inside the 90% band, "
        f"mean score {table['score'].mean():.3f}"
    )


def write_validation(
    out: Path,
    table: pd.DataFrame,
    skipped: Sequence[Observation],
    title: str,
    fan: Path | None,
    fit: FitWindow | None = None,
    no_baseline: str = "",
) -> Path:
    """``validation.md``: the held-out skill against the baselines, the summary, the held-out
    checks, the in-sample ones, how the baselines were built, what the scenario's horizon
    leaves out, the fan chart. ``no_baseline``: why no baseline was scored."""
    names = scored_baselines(table)
    header = [
        "check",
        "use",
        "statistic",
        "window",
        "observed",
        "simulated mean",
        "p5 / p50 / p95",
        "percentile",
        "inside 90%",
        "score",
        *(f"skill vs {n}" for n in names),
    ]
    held, in_sample = table[table["use"] == "held-out"], table[table["use"] != "held-out"]
    sections = [f"# Validation: {markdown_text(title)}"]
    if names:
        skills = skill_table(table)
        rows = [
            [r.baseline, str(r.held_out_checks), fmt(r.model_score), fmt(r.baseline_score), signed(r.skill)]
            for r in skills.itertuples()
        ]
        sections += [
            f"**Skill on the held-out checks** ({int(skills['held_out_checks'].max())} rows of the record used to "
            "fit or set nothing): 1 - mean model score / mean baseline score, each naive baseline built from the "
            "observed fit window and scored exactly as the model. Above 0 the model forecasts better than the "
            "baseline; 0 is no better; below 0 is worse.",
            markdown_table(["baseline", "held-out checks", "mean model score", "mean baseline score", "skill"], rows),
        ]
    else:
        sections.append(f"**{markdown_text(no_baseline or 'No baseline was scored.')}**")
    sections += [
        f"**{summary_line(table).removeprefix('summary: ')}**"
        + (f" ({table['replications'].max()} replications)." if len(table) else "."),
        "Each check holds one observation of the public record against the simulated distribution of the same "
        "statistic. *percentile*: where the observation (the middle of a closed range, the bound of an 'at least' "
        "one) falls among the replications, mid-rank (50 = the median; near 0 or 100 = the model rarely gives it). "
        "*inside 90%*: the observed range overlaps the simulated 5th-95th percentiles (for a 0/1 check: the model "
        "gives the observed outcome a probability of at least 0.05). *score*: the CRPS for a censored observation "
        "(the Brier score for a 0/1 check), divided by the observed value when above 1; lower is better, and a "
        "sharper model that still covers the record scores better than one with wide bands. *skill vs*: "
        "1 - score / the baseline's score on the same check (– when the baseline scores 0). *use*: `held-out` "
        "rows were used to fit or set nothing and lie after everything the calibration reads: they test the model; "
        "`fit` rows were fitted by the calibration, `set` rows used by hand to set a parameter value or prior, and "
        "`overlap` rows, used for nothing, overlap the dates the calibration reads: none of these count as validation.",
        "## Held-out checks",
        _check_table(header, held, names) if len(held) else "None.",
        "## In-sample checks (fit, set, overlap)",
        "These rows tuned the model, or overlap what did; a good score here is expected, not evidence.",
        _check_table(header, in_sample, names) if len(in_sample) else "None.",
    ]
    events = table[table["statistic"] == "none"]
    if len(events):
        rows = [
            [
                markdown_text(r["check"]),
                fmt(r["p_event"]),
                event_interval(r["p_event_lo"], r["p_event_hi"]),
                observed_event(r["observed_low"]),
            ]
            for _, r in events.iterrows()
        ]
        sections += [
            PROBABILITIES_HEADING,
            PROBABILITIES_TEXT,
            markdown_table(["check", "P(event)", "95% interval", "observed"], rows),
        ]
    if fit is not None:
        sections.append(_baseline_section(fit))
    if skipped:
        sections.append(
            "Not checked (outside this scenario's horizon): "
            + ", ".join(markdown_text(o.check.id) for o in skipped)
            + "."
        )
    sources = "\n".join(
        f"- {markdown_text(check)}: {markdown_text(source)}" for check, source in zip(table["check"], table["source"])
    )
    sections.append("## Sources\n\n" + sources)
    if fan is not None:
        sections.append(
            f"## Monthly attacks and every check\n\n![simulated monthly attacks with the record, and each "
            f"check's band]({fan.relative_to(out).as_posix()})"
        )
    path, text = out / "validation.md", "\n\n".join(sections) + "\n"
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))
    return path


PROBABILITIES_HEADING = "## Probabilities of the 0/1 checks"
PROBABILITIES_TEXT = (
    "For each check whose statistic is `none` (1 if nothing of its kinds happened in its window, 0 if something "
    "did), the model's probability that something happened: P(event) = 1 - the mean over the replications, with "
    "its 95% Wilson score interval over the replications (the Monte Carlo error of that share). *observed*: "
    "whether it happened in the record."
)


def event_interval(low: float, high: float) -> str:
    """A probability's interval as ``[low, high]``; ``–`` if there is none."""
    return "–" if pd.isna(low) or pd.isna(high) else f"[{fmt(low)}, {fmt(high)}]"


def observed_event(observed_low: float) -> str:
    """What the record says of a ``none`` check: its value 1 means nothing happened."""
    return "did not happen" if observed_low == 1 else "happened"


def signed(value: float) -> str:
    """A skill with its sign, two decimals; ``–`` if there is none."""
    return "–" if value is None or not np.isfinite(value) else f"{value:+.2f}"


def _check_table(header: list[str], table: pd.DataFrame, names: list[str]) -> str:
    rows = []
    for _, r in table.iterrows():
        observed = observed_range(r["observed_low"], r["observed_high"])
        rows.append(
            [
                markdown_text(r["check"]),
                markdown_text(r["use"]),
                markdown_text(r["statistic"]),
                f"{r['from']} .. {r['to']}",
                observed,
                fmt(r["sim_mean"]),
                f"{fmt(r['sim_p05'])} / {fmt(r['sim_p50'])} / {fmt(r['sim_p95'])}",
                fmt(r["percentile"]),
                "yes" if r["inside_90"] else "**no**",
                fmt(r["score"]),
                *(signed(r[f"skill_{n}"]) for n in names),
            ]
        )
    return markdown_table(header, rows)


def observed_range(low: float, high: float) -> str:
    """An observed range as the reports show it: ``5``, ``>= 5`` (no upper bound) or ``5-7``."""
    return fmt(low) if low == high else (f">= {fmt(low)}" if math.isinf(high) else f"{fmt(low)}-{fmt(high)}")


def _baseline_section(fit: FitWindow) -> str:
    """How the baselines were built: the fit window, and per kind of attack its rate and where it comes from."""
    rows = []
    for rate in fit.rates.values():
        group = fit.group_of(rate.kind)
        basis = (
            f"{rate.events} events x {rate.scale:.3g} (the fit rows {markdown_text(', '.join(group.rows))})"
            if group.rows
            else f"{rate.events} events, the event record as it stands (no fit row counts this kind)"
        )
        rows.append(
            [
                rate.kind,
                basis,
                f"{rate.rate:.3g}",
                f"{rate.last_rate:.3g}",
                fmt(group.monthly_k),
                fmt(group.level_k),
                str(len(fit.marks[rate.kind].rockets)),
                str(len(fit.marks[rate.kind].harm["us_killed"])),
            ]
        )
    return "\n\n".join(
        [
            "## The baselines",
            f"Built from the fit window {fit.start} .. {fit.end} only (the dates of the record's fit rows); see "
            "`sim/analysis/baselines`. `poisson`: each kind a Poisson process at its rate; `negbin_monthly`: each "
            "calendar month's rate times a Gamma(k, 1/k) factor, k from the monthly counts; `random_level`: one "
            "Gamma(k, 1/k) level per replication, k from the fit rows' quarterly counts; `persistence`: Poisson at the "
            f"rate of the last quarter (from {fit.last_start}). Marks (rockets per salvo, people harmed per attack) are "
            "resampled from the attacks that report them. `inf`: no extra dispersion.",
            markdown_table(
                [
                    "kind",
                    "rate from",
                    "per day",
                    "per day, last quarter",
                    "k monthly",
                    "k level",
                    "salvos reported",
                    "attacks reporting U.S. killed",
                ],
                rows,
            ),
        ]
    )


def fan_chart(
    path: Path,
    monthly: dict[str, pd.DataFrame],
    observed: dict[str, list[tuple[pd.Timestamp, pd.Timestamp, float]]],
    events: list[tuple[pd.Timestamp, str]],
    baseline: dict[str, pd.DataFrame] | None = None,
    checks: pd.DataFrame | None = None,
) -> Path:
    """One panel per family of attacks: the simulated monthly count (median, 50% and 90%
    bands), the 90% band of :data:`MAIN_BASELINE` (``baseline``: family -> replications x
    months), the observed counts (as a per-month average over their window) and the dated
    events, numbered and listed below. With ``checks`` (a table of :func:`score_checks`), a
    last panel holds every check: the model's and the baseline's 90% bands and the observed
    range, each divided by max(1, the observed value) as the score is."""
    events = sorted(events)
    panels = len(monthly) + (checks is not None)
    heights = [3.0] * len(monthly) + ([0.32 * len(checks) + 1.0] if checks is not None else [])
    listing = 0.18 * math.ceil(len(events) / 2) + 0.4
    fig = new_figure((10.0, sum(heights) + listing))
    grid = fig.add_gridspec(panels + 1, 1, height_ratios=[*heights, listing])
    for i, (family, table) in enumerate(monthly.items()):
        ax = fig.add_subplot(grid[i])
        months = table.columns
        q = np.percentile(table.to_numpy(float), [5, 25, 50, 75, 95], axis=0)
        ax.fill_between(months, q[0], q[4], alpha=0.2, color="tab:blue", step="mid", label="model 5-95%")
        ax.fill_between(months, q[1], q[3], alpha=0.35, color="tab:blue", step="mid", label="model 25-75%")
        ax.plot(months, q[2], color="tab:blue", drawstyle="steps-mid", label="model median")
        if baseline is not None and family in baseline:
            b = np.percentile(baseline[family].to_numpy(float), [5, 95], axis=0)
            for j, edge in enumerate(b):
                ax.plot(
                    baseline[family].columns,
                    edge,
                    color="darkorange",
                    linestyle="--",
                    drawstyle="steps-mid",
                    linewidth=1.2,
                    label=f"{MAIN_BASELINE} baseline 5-95%" if j == 0 else None,
                )
        for j, (start, end, per_month) in enumerate(observed.get(family, [])):
            ax.hlines(
                per_month, start, end, color="crimson", linewidth=2.5, label="observed (per month)" if j == 0 else None
            )
        top = ax.get_ylim()[1]
        for k, (when, _) in enumerate(events):
            ax.axvline(when, color="grey", linestyle=":", linewidth=1)
            ax.text(
                when,
                top * (0.97 - 0.09 * (k % 3)),
                str(k + 1),
                fontsize=7,
                ha="center",
                va="top",
                color="dimgrey",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )
        ax.set_title(f"{family.replace('_', ' ')}: attacks per month (numbers: dated events, listed below)")
        ax.set_ylabel("attacks / month")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if checks is not None:
        _check_panel(fig.add_subplot(grid[len(monthly)]), checks)
    text = fig.add_subplot(grid[panels])
    text.axis("off")
    half = math.ceil(len(events) / 2)
    for k, (_, label) in enumerate(events):
        text.text(
            0.0 if k < half else 0.5,
            1.0 - (k % half) / max(half, 1),
            f"{k + 1}  {short_label(label, 60)}",
            fontsize=7.5,
            va="top",
            transform=text.transAxes,
        )
    return save_figure(fig, path)


def _check_panel(ax, checks: pd.DataFrame) -> None:
    """Each check a row: the model's 5-95% band, the baseline's, the observed range (an arrow for 'at least')."""
    if checks.empty:
        ax.axis("off")
        ax.set_title("no check of the record inside the scenario's horizon: none scored")
        return
    y = np.arange(len(checks))[::-1]
    for row, (_, r) in zip(y, checks.iterrows()):
        scale = max(
            1.0, r["observed_low"] if math.isinf(r["observed_high"]) else (r["observed_low"] + r["observed_high"]) / 2
        )
        bands = [(0.15, "sim", "tab:blue", "model 5-95%")]
        if f"{MAIN_BASELINE}_p05" in checks.columns:
            bands.append((-0.15, MAIN_BASELINE, "darkorange", f"{MAIN_BASELINE} baseline 5-95%"))
        for shift, prefix, color, label in bands:  # end marks keep a band of one value visible
            ax.plot(
                [r[f"{prefix}_p05"] / scale, r[f"{prefix}_p95"] / scale],
                [row + shift] * 2,
                color=color,
                linewidth=4,
                marker="|",
                markersize=9,
                solid_capstyle="butt",
                label=label if row == y[0] else None,
            )
        low = r["observed_low"] / scale
        if math.isinf(r["observed_high"]):
            ax.annotate(
                "", (low + 0.6, row), (low, row), arrowprops={"arrowstyle": "->", "color": "crimson", "lw": 1.5}
            )
            ax.plot([low], [row], marker="|", color="crimson", markersize=12)
        else:
            ax.plot(
                [low, r["observed_high"] / scale],
                [row, row],
                color="crimson",
                marker="|",
                markersize=12,
                linewidth=2,
                label="observed" if row == y[0] else None,
            )
    ax.set_yticks(
        y,
        [
            f"{label} ({'held-out' if r['use'] == 'held-out' else 'in-sample: ' + short_label(r['use'])})"
            for label, (_, r) in zip(short_labels(checks["check"]), checks.iterrows())
        ],
        fontsize=7,
    )
    ax.set_ylim(-0.7, len(checks) - 0.3)
    ax.set_xlabel("value / max(1, observed), as scored")
    ax.set_title("every check: the 90% bands of the model and the baseline, and the observed range")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def attack_families() -> dict[str, tuple[str, ...]]:
    """The families of attacks of the fan chart, from the threats' quarterly series: family ->
    its attack record kinds (``rocket_drone``: ``attack_rocket``, ``attack_drone``). A threat
    declared without a quarterly series has no panel."""
    return {s.name.removesuffix("_attacks"): tuple(k.name for k in s.counts) for s in quarterly_series() if s.counts}


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
    return [
        (pd.Timestamp(event.date), f"{event.date:%d %b %Y} {event.event.replace('_', ' ')}")
        for event in scenario.history.values()
    ]
