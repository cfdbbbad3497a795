"""The calibration's fit report: observed against simulated counts, dispersion, the Q3
casualty check, and which parameters were calibrated and which assumed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from sim.analysis.figures import new_figure, save_figure
from sim.analysis.tables import markdown_frame
from sim.batch.folder import write_atomic, write_csv
from sim.calibration.fit import Fit, FitParameter
from sim.config.loader import flatten, to_plain
from sim.config.provenance import sources
from sim.config.scenario import Scenario


def percentile_of(observed: float, simulated: np.ndarray) -> float:
    """Mid-rank percentile of an observation in a simulated distribution (0-100):
    100 x [P(sim < obs) + P(sim = obs) / 2]."""
    return float(100 * ((simulated < observed).mean() + 0.5 * (simulated == observed).mean()))


def count_table(observations: pd.DataFrame, runs: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """One row per observed count: observed, simulated mean, 5th and 95th percentiles, the
    observation's percentile, and whether it lies within the central 90%."""
    rows = []
    for obs in observations.itertuples():
        sim = runs[obs.column].to_numpy(float)
        p05, p95 = np.percentile(sim, [5, 95])
        pct = percentile_of(obs.count, sim)
        rows.append({"series": obs.series, "quarter": obs.quarter, "role": roles.get(obs.column, obs.use),
                     "observed": obs.count, "sim_mean": sim.mean(), "sim_p05": p05, "sim_p95": p95,
                     "percentile": pct, "within_central_90": bool(5 <= pct <= 95)})  # fmt: skip
    return pd.DataFrame(rows)


def dispersion_table(observations: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per series: the dispersion index (variance / mean over its quarters) of the
    observed counts and its distribution across simulated replications."""
    rows = []
    for series, group in observations[observations["use"] == "fit"].groupby("series", sort=False):
        if len(group) < 2:
            continue
        observed = _dispersion(group["count"].to_numpy(float)[None, :])[0]
        simulated = _dispersion(runs[list(group["column"])].to_numpy(float))
        simulated = simulated[np.isfinite(simulated)]
        p05, p95 = np.percentile(simulated, [5, 95])
        pct = percentile_of(observed, simulated)
        rows.append({"series": series, "quarters": ",".join(group["quarter"]), "observed_dispersion": observed,
                     "sim_mean": simulated.mean(), "sim_p05": p05, "sim_p95": p95, "percentile": pct,
                     "poisson_value": 1.0, "within_central_90": bool(5 <= pct <= 95)})  # fmt: skip
    return pd.DataFrame(rows)


def _dispersion(counts: np.ndarray) -> np.ndarray:
    mean = counts.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts.var(axis=1, ddof=1) / mean


def parameter_table(scenario: Scenario, scenario_path: Path, fitted: Fit | None, parameters: Sequence[FitParameter]) -> pd.DataFrame:
    """Every parameter of the scenario: its value and whether it was calibrated here or is
    assumed, with the unit and source written in the scenario files."""
    documented = sources(scenario_path)
    calibrated = {p.path: p for p in parameters} if fitted else {}
    rows = []
    for key, value in flatten(to_plain(scenario)).items():
        if isinstance(value, dict):
            continue  # an empty table (no dated history, say)
        unit, source, _ = documented.get(key, ("", "", ""))
        if key in calibrated:
            bound = " (at a bound of its search range)" if calibrated[key].at_bound(fitted.values[key]) else ""
            status = f"calibrated: {calibrated[key].what}{bound}"
            value, low, high = fitted.values[key], fitted.low[key], fitted.high[key]
        else:
            status, low, high = f"assumed ({source or 'no source written'})", np.nan, np.nan
        rows.append({"parameter": key, "value": value, "ci95_low": low, "ci95_high": high, "unit": unit, "status": status})
    return pd.DataFrame(rows)


def plot_fit(path: Path, observations: pd.DataFrame, runs: pd.DataFrame) -> Path:
    """Box plots of the simulated quarterly counts, with the observed counts marked."""
    fitted = observations[observations["use"] == "fit"]
    series = list(dict.fromkeys(fitted["series"]))
    fig = new_figure((5 * len(series), 4))
    for i, name in enumerate(series):
        ax = fig.add_subplot(1, len(series), i + 1)
        group = fitted[fitted["series"] == name]
        ax.boxplot([runs[c].to_numpy(float) for c in group["column"]], whis=(5, 95), showfliers=False,
                   tick_labels=list(group["quarter"]))  # fmt: skip
        ax.plot(range(1, len(group) + 1), group["count"], "o", color="crimson", label="observed")
        ax.set_title(name.replace("_", " "))
        ax.set_ylabel("attacks per quarter")
        ax.legend(loc="upper left")
    fig.suptitle("Simulated (box: quartiles, whiskers: 5th-95th percentile) and observed counts")
    return save_figure(fig, path)


def write_fit_report(
    out: Path, counts: pd.DataFrame, dispersion: pd.DataFrame, no_casualties: dict[str, float], table: pd.DataFrame,
    fitted_rows: pd.DataFrame, runs: pd.DataFrame, fitted: Fit, provenance: str,
) -> None:  # fmt: skip
    """fit_report.csv, fit_report.md, parameters.csv and fit.png."""
    write_csv(out / "fit_report.csv", counts)
    write_csv(out / "parameters.csv", table)
    plot_fit(out / "fit.png", fitted_rows, runs)
    calibrated = table[table["status"].str.startswith("calibrated")]
    sections = [
        "# Calibration fit report", provenance,
        f"Synthetic log-likelihood at the fit: {fitted.log_likelihood:.3f} ({fitted.evaluations} evaluations).",
        "## Observed and simulated counts\n\n" + markdown_frame(counts),
        "## Quarter-to-quarter dispersion (variance / mean; Poisson = 1)\n\n" + markdown_frame(dispersion),
        "## Qualitative check\n\n" + "\n".join(f"P(no U.S. casualties in {q}) = {p:.3f}" for q, p in no_casualties.items()),
        "## Calibrated parameters (95% intervals from the likelihood's curvature)\n\n" + markdown_frame(calibrated),
        "## Every parameter\n\nSee parameters.csv: each is 'calibrated' or 'assumed (source)'.\n\n"
        + markdown_frame(table[["parameter", "value", "unit", "status"]]),
        "![observed and simulated counts](fit.png)",
    ]  # fmt: skip
    write_atomic(out / "fit_report.md", lambda p: p.write_text("\n\n".join(sections) + "\n", encoding="utf-8"))


def write_calibrated(
    path: Path, base: Path, fitted: Fit, parameters: Sequence[FitParameter], units: dict[str, str], provenance: str
) -> None:
    """A scenario file that extends the base with the fitted values, their intervals, the
    data and the date of the fit."""
    lines = [f"# Calibrated scenario, written by `python run.py calibrate` on {date.today().isoformat()}.",
             f"# {provenance}", "# Values marked 'calibrated' were fitted; every other value comes from the base file.",
             f'extends = "{Path(_relative(base, path.parent)).as_posix()}"', "",
             "[scenario]", f'name = "calibrated"  # -; source: python run.py calibrate ({provenance})',
             'description = "The 2020 world with attack intensity fitted to the quarterly counts of 2020"'
             "  # -; source: python run.py calibrate", ""]  # fmt: skip
    tables: dict[str, list[str]] = {}
    for p in parameters:
        table, _, key = p.path.rpartition(".")
        low, high = fitted.low[p.path], fitted.high[p.path]
        interval = f"95% interval {low:.4g}-{high:.4g}" if np.isfinite(low) and np.isfinite(high) else "not identified by the data"
        if p.at_bound(fitted.values[p.path]):
            interval = f"at a bound of its search range [{p.low:g}, {p.high:g}], {interval}"
        tables.setdefault(table, []).append(
            f"{key} = {fitted.values[p.path]:.6g}  # {units.get(p.path, '-')}; source: calibrated ({p.what}; {interval}; {provenance})"
        )
    for table, entries in tables.items():
        lines += [f"[{table}]", *entries, ""]
    write_atomic(path, lambda p: p.write_text("\n".join(lines)))


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), start.resolve())
