"""The posterior of a calibration, read as tables, plots and a report (``posterior_report.md``).

Everything here reads the weighted particles of the last generation (one row per particle,
one column per parameter, and the weights) beside the priors; nothing is random.

A parameter *moved* when its weighted posterior differs from its prior by more than chance
would make a sample of the same effective size differ: the Kolmogorov-Smirnov distance
between the weighted posterior's distribution function and the prior's exceeds
``1.63 / sqrt(ESS)``, the 1% critical value for a sample of ESS draws from the prior (and,
for neural posterior estimation, the gap its flow gives parameters nothing informs). The
width ratio (posterior 90% interval over prior 90% interval) says by how much it narrowed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from sim.analysis.figures import new_figure, save_figure
from sim.analysis.tables import fmt, markdown_table, markdown_text
from sim.batch.folder import write_atomic
from sim.calibration.priors import KS_CRITICAL_1PCT, Prior

MASS = 0.9


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Sequence[float] | float) -> np.ndarray:
    """Quantiles of a weighted sample: the smallest value whose cumulative weight reaches q."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / np.sum(weights)
    index = np.minimum(np.searchsorted(cumulative, np.atleast_1d(q), side="left"), len(values) - 1)
    return values[order][index]


def effective_sample_size(weights: np.ndarray) -> float:
    w = weights / np.sum(weights)
    return float(1.0 / np.sum(w**2))


def ks_distance(values: np.ndarray, weights: np.ndarray, prior: Prior) -> float:
    """Largest gap between the weighted posterior's distribution function and the prior's."""
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order] / np.sum(weights)
    after = np.cumsum(w)
    before = after - w
    cdf = prior.distribution().cdf(x)
    return float(max(np.max(np.abs(after - cdf)), np.max(np.abs(before - cdf))))


UNINFORMABLE = 0.9  # an attainable width ratio above this: the statistics cannot inform the parameter


def verdict(moved: bool, attainable: float) -> str:
    """Why a parameter did or did not move, from the study of what the statistics can tell."""
    if moved:
        return "moved by the data"
    if not np.isfinite(attainable):
        return "left at its prior by the data"
    if attainable > UNINFORMABLE:
        return (
            f"left at its prior: the window's statistics cannot inform it (at best {attainable:.2f} of its prior "
            "width, by the study on the prior pilot)"
        )
    return (
        f"left at its prior, though the statistics could narrow it to about {attainable:.2f} of its prior width: "
        "more particles or generations would show it"
    )


def parameter_table(
    priors: Sequence[Prior],
    values: pd.DataFrame,
    weights: np.ndarray,
    informed: set[str],
    sources: dict[str, str],
    attainable: dict[str, float] | None = None,
    floor: float = 0.0,
) -> pd.DataFrame:
    """Per parameter: the prior, its median and 90% interval, the posterior median and 90%
    credible interval, the width ratio, the KS distance, whether the data moved it, the width
    ratio the statistics allow at best (``attainable``, :mod:`sim.calibration.identifiability`)
    and the verdict that follows. ``floor``: a KS distance the inference's own error can reach
    (neural posterior estimation's decoys, :mod:`sim.calibration.npe`); a parameter moved only
    beyond both it and the sampling critical value."""
    attainable = attainable or {}
    ess = effective_sample_size(weights)
    critical = max(KS_CRITICAL_1PCT / math.sqrt(ess), floor)
    rows = []
    for prior in priors:
        x = values[prior.path].to_numpy(float)
        low, median, high = weighted_quantile(x, weights, [(1 - MASS) / 2, 0.5, (1 + MASS) / 2])
        prior_low, prior_high = prior.interval(MASS)
        distance = ks_distance(x, weights, prior)
        rows.append(
            {
                "parameter": prior.path,
                "unit": prior.unit,
                "prior": prior.describe(),
                "prior_median": float(prior.distribution().median()),
                "prior_low90": prior_low,
                "prior_high90": prior_high,
                "posterior_median": float(median),
                "posterior_low90": float(low),
                "posterior_high90": float(high),
                "posterior_mean": float(np.average(x, weights=weights)),
                "width_ratio": float((high - low) / (prior_high - prior_low)),
                "ks_distance": distance,
                "ks_critical": critical,
                "moved": distance > critical,
                "attainable_width_ratio": attainable.get(prior.path, math.nan),
                "verdict": verdict(distance > critical, attainable.get(prior.path, math.nan)),
                "perturbed": prior.path in informed,
                "source": sources.get(prior.path, ""),
            }
        )
    return pd.DataFrame(rows)


def correlations(priors: Sequence[Prior], values: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Weighted correlation of every pair of parameters on the free scale (logit of the prior
    distribution function), strongest first."""
    free = np.column_stack([prior.to_free(values[prior.path].to_numpy(float)) for prior in priors])
    covariance = np.atleast_2d(np.cov(free, rowvar=False, aweights=weights))
    sd = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = covariance / np.outer(sd, sd)
    rows = [
        {"first": priors[i].path, "second": priors[j].path, "correlation": float(matrix[i, j])}
        for i in range(len(priors))
        for j in range(i + 1, len(priors))
        if np.isfinite(matrix[i, j])
    ]
    table = pd.DataFrame(rows, columns=["first", "second", "correlation"])
    return table.reindex(table["correlation"].abs().sort_values(ascending=False, kind="stable").index).reset_index(
        drop=True
    )


def marginal_plots(
    path: Path, priors: Sequence[Prior], values: pd.DataFrame, weights: np.ndarray, table: pd.DataFrame
) -> Path:
    """One panel per parameter: the weighted posterior histogram, the prior density, and both
    90% intervals."""
    ncols = 4
    nrows = math.ceil(len(priors) / ncols)
    fig = new_figure((4.0 * ncols, 2.6 * nrows))
    rows = table.set_index("parameter")
    for i, prior in enumerate(priors):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        x = values[prior.path].to_numpy(float)
        low, high = prior.distribution().ppf([0.001, 0.999])
        grid = np.linspace(low, high, 200)
        ax.hist(
            x, bins=30, range=(low, high), weights=weights, density=True, color="tab:blue", alpha=0.5, label="posterior"
        )
        ax.plot(grid, prior.distribution().pdf(grid), color="black", lw=1.2, label="prior")
        r = rows.loc[prior.path]
        ax.axvspan(r["posterior_low90"], r["posterior_high90"], color="tab:blue", alpha=0.12)
        ax.axvline(r["prior_low90"], color="black", lw=0.6, ls=":")
        ax.axvline(r["prior_high90"], color="black", lw=0.6, ls=":")
        ax.set_title(prior.path + (" (moved)" if r["moved"] else ""), fontsize="small")
        ax.set_xlabel(prior.unit, fontsize="x-small")
        ax.tick_params(labelsize="x-small")
        if i == 0:
            ax.legend(fontsize="x-small")
    return save_figure(fig, path)


def pair_plots(
    path: Path, priors: Sequence[Prior], values: pd.DataFrame, weights: np.ndarray, pairs: pd.DataFrame
) -> Path:
    """The posterior particles of the most correlated pairs (point size by weight)."""
    shown = pairs.head(6)
    ncols = 3
    nrows = max(1, math.ceil(len(shown) / ncols))
    fig = new_figure((4.2 * ncols, 3.6 * nrows))
    sizes = 4 + 60 * weights / np.max(weights)
    for i, row in enumerate(shown.itertuples()):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.scatter(values[row.first], values[row.second], s=sizes, alpha=0.35, color="tab:blue", edgecolors="none")
        ax.set_xlabel(row.first, fontsize="x-small")
        ax.set_ylabel(row.second, fontsize="x-small")
        ax.set_title(f"r = {row.correlation:+.2f} (free scale)", fontsize="small")
        ax.tick_params(labelsize="x-small")
    return save_figure(fig, path)


def interval_cell(low: float, median: float, high: float) -> str:
    return f"{fmt(median)} [{fmt(low)}, {fmt(high)}]"


def write_posterior_report(
    out: Path,
    title: str,
    overview: Sequence[str],
    parameters: pd.DataFrame,
    generations: pd.DataFrame,
    statistics: pd.DataFrame,
    screen_threshold: float,
    pairs: pd.DataFrame,
    predictive: pd.DataFrame | None,
    predictive_summary: str,
    plots: dict[str, Path],
    method: str = "abc",
) -> Path:
    """``posterior_report.md``: how the inference ran, every parameter's prior and posterior,
    which the data moved, the strongest correlations, and the posterior predictive check of
    every row of the record. ``method``: ``"abc"`` (generations of particles, some perturbed)
    or ``"npe"`` (a flow's draws, its training and its error floor)."""
    neural = method == "npe"
    moved = parameters[parameters["moved"]]
    kept = parameters[~parameters["moved"]]
    parameter_rows = [
        [
            r.parameter,
            r.unit,
            r.prior,
            interval_cell(r.prior_low90, r.prior_median, r.prior_high90),
            interval_cell(r.posterior_low90, r.posterior_median, r.posterior_high90),
            fmt(r.width_ratio),
            fmt(r.attainable_width_ratio),
            f"{fmt(r.ks_distance)} ({'moved' if r.moved else 'at prior'})",
            *([] if neural else ["yes" if r.perturbed else "no"]),
        ]
        for r in parameters.itertuples()
    ]
    generation_rows = [
        [str(r.simulations), str(int(r.epochs)), fmt(r.validation_loss), fmt(r.ess), fmt(r.decoy_floor)]
        if neural
        else [
            str(r.generation),
            fmt(r.epsilon),
            str(r.simulations),
            "" if pd.isna(r.accepted) else str(int(r.accepted)),
            fmt(r.acceptance_rate),
            fmt(r.ess),
        ]
        for r in generations.itertuples()
    ]
    critical = fmt(parameters["ks_critical"].iloc[0])
    moved_rule = (
        f"the data **moved** a parameter when it exceeds {critical}, the 1% critical value that the flow's own error "
        f"implies (measured on decoy parameters that nothing informs; see *Training*), at least that of a sample of "
        f"the posterior's size drawn from the prior."
        if neural
        else f"the data **moved** a parameter when it exceeds {critical}, the 1% critical value for a sample of the "
        f"posterior's effective size drawn from the prior. *perturbed*: the statistics can narrow the parameter below "
        f"{fmt(screen_threshold)} of its prior width (its attainable width), so particles were perturbed along it; the "
        f"others were drawn afresh from their priors in every generation (which changes the cost, not the posterior)."
    )
    statistic_rows = [
        [
            r.check,
            r.statistic,
            fmt(r.observed_low)
            + (
                ""
                if r.observed_high == r.observed_low
                else f"-{fmt(r.observed_high)}"
                if pd.notna(r.observed_high)
                else "+"
            ),
            fmt(r.scale),
        ]
        for r in statistics.itertuples()
    ]
    sections = [
        f"# {markdown_text(title)}",
        "\n".join(f"- {line}" for line in overview),
        "## Parameters\n\n"
        f"Medians with 90% intervals. *width*: posterior 90% interval / prior 90% interval. *attainable*: the width ratio "
        f"the fitted statistics allow at best, from a regression of the parameter on them over the prior pilot (near 1: "
        f"no inference on these statistics can inform it). *KS*: the largest gap between "
        f"the posterior's and the prior's distribution functions; {moved_rule}\n\n"
        + markdown_table(
            [
                "parameter",
                "unit",
                "prior",
                "prior median [90%]",
                "posterior median [90%]",
                "width",
                "attainable",
                "KS",
                *([] if neural else ["perturbed"]),
            ],
            parameter_rows,
        )
        + f"\n\n![prior and posterior of each parameter]({plots['marginals'].relative_to(out).as_posix()})",
        "## What the data moved\n\n"
        + (
            f"Moved ({len(moved)}): " + ", ".join(f"`{p}`" for p in moved["parameter"]) + ".\n\n"
            if len(moved)
            else "The data moved no parameter.\n\n"
        )
        + (
            f"Left at their prior ({len(kept)}); their uncertainty is the prior's, and it flows into every experiment "
            "run over the posterior:\n\n" + "\n".join(f"- `{r.parameter}`: {r.verdict}" for r in kept.itertuples())
            if len(kept)
            else ""
        ),
        "## Strongest correlations\n\n"
        "Weighted correlations of the posterior particles on the free scale (the logit of each prior's distribution "
        "function). A strong correlation means the data pin down a combination of the two, not each alone.\n\n"
        + markdown_table(
            ["first", "second", "correlation"],
            [[r.first, r.second, f"{r.correlation:+.2f}"] for r in pairs.head(8).itertuples()],
        )
        + f"\n\n![the most correlated pairs]({plots['pairs'].relative_to(out).as_posix()})",
        (
            "## Training\n\n"
            "*simulations*: the prior pilot's replications the flow learned from (a tenth held back to stop the "
            "training); *validation loss*: the held-back tenth's mean negative log density at the best epoch; "
            "*ESS*: the draws' worth in independent draws from the exact posterior, from the flow's error on the "
            "decoys; *decoy floor*: the 1% critical gap from the prior at that size.\n\n"
            + markdown_table(["simulations", "epochs", "validation loss", "ESS", "decoy floor"], generation_rows)
            if neural
            else "## Generations\n\n"
            "*epsilon*: the acceptance threshold on the distance; *ESS*: the effective sample size of the weighted "
            "population, (sum w)^2 / sum w^2.\n\n"
            + markdown_table(
                ["generation", "epsilon", "simulations", "accepted", "acceptance rate", "ESS"], generation_rows
            )
        ),
        "## Summary statistics\n\n"
        "The fitted rows of the record and the noise scale each is divided by in the distance (its standard deviation "
        "on the Anscombe scale across the pilot replications at the prior medians, at least 1)"
        + (
            "; neural posterior estimation uses no distance: it standardises each statistic over its training set"
            if neural
            else ""
        )
        + ".\n\n"
        + markdown_table(["check", "statistic", "observed", "scale"], statistic_rows),
    ]
    if predictive is not None:
        rows = [
            [
                r.check,
                r.use,
                fmt(r.observed_low)
                if r.observed_low == r.observed_high
                else (
                    f">= {fmt(r.observed_low)}"
                    if math.isinf(r.observed_high)
                    else f"{fmt(r.observed_low)}-{fmt(r.observed_high)}"
                ),
                f"{fmt(r.sim_p05)} / {fmt(r.sim_p50)} / {fmt(r.sim_p95)}",
                fmt(r.percentile),
                "yes" if r.inside_90 else "**no**",
                fmt(r.score),
            ]
            for r in predictive.itertuples()
        ]
        section = (
            "## Posterior predictive check\n\n"
            f"Every row of the record, against replications of the replay scenario with parameters drawn from this "
            f"posterior (replication r takes draw r). **{predictive_summary}**. `fit` rows were fitted here; "
            "`held-out` rows were not, and test the model where it was not tuned.\n\n"
            + markdown_table(["check", "use", "observed", "p5 / p50 / p95", "percentile", "inside 90%", "score"], rows)
        )
        if "fan" in plots:
            section += f"\n\n![monthly attacks over the posterior, with the record]({plots['fan'].relative_to(out).as_posix()})"
        sections.append(section)
    path = out / "posterior_report.md"
    write_atomic(path, lambda p: p.write_text("\n\n".join(sections) + "\n", encoding="utf-8"))
    return path


def write_calibrated_scenario(
    path: Path, base: Path, parameters: pd.DataFrame, provenance: str, posterior: Path
) -> None:
    """A scenario file that extends ``base`` with the posterior median of every parameter with
    a prior, each with its 90% credible interval and prior, and that names the posterior file.

    Every key and value is written by a TOML writer (a path may hold quotes or backslashes);
    the unit and source of each line follow as a comment, as in every scenario file."""
    posterior_shown = Path(os.path.relpath(posterior.resolve(), path.resolve().parent)).as_posix()
    source = "-; source: python run.py calibrate"
    lines = [
        "# Calibrated scenario, written by `python run.py calibrate`: the posterior median of every parameter",
        f"# with a prior ({_comment(provenance)}).",
        f"# The posterior itself: {_comment(posterior_shown)} (relative to this file). A median per parameter is a point for",
        "# quick runs, not a draw of the posterior: an experiment or sweep that should carry the parameter",
        "# uncertainty names the posterior file in parameters_from (README, Calibration).",
        "# Every value without 'calibrated' in its source comes from the file this one extends.",
        _toml_line("extends", Path(os.path.relpath(base.resolve(), path.resolve().parent)).as_posix()),
        "",
        _toml_table("scenario"),
        _toml_line("name", "calibrated", source),
        _toml_line(
            "description",
            "The 2020 world at the posterior medians of its calibration on the public record of January-September 2020",
            source,
        ),
        "",
    ]
    tables: dict[str, list[str]] = {}
    for r in parameters.itertuples():
        table, _, key = r.parameter.rpartition(".")
        verdict = "moved by the data" if r.moved else "left at its prior by the data"
        tables.setdefault(table, []).append(
            _toml_line(
                key,
                float(f"{r.posterior_median:.6g}"),
                f"{r.unit}; source: calibrated (posterior median; 90% credible interval "
                f"{r.posterior_low90:.4g}-{r.posterior_high90:.4g}; prior {r.prior}; {verdict})",
            )
        )
    for table, entries in tables.items():
        lines += [_toml_table(table), *entries, ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda p: p.write_text("\n".join(lines), encoding="utf-8"))


def _toml_line(key: str, value: object, comment: str = "") -> str:
    """``key = value`` as the TOML writer formats it, and ``  # comment``."""
    text = tomli_w.dumps({key: value}).rstrip("\n")
    return f"{text}  # {_comment(comment)}" if comment else text


def _toml_table(dotted: str) -> str:
    """The header of the table at a dotted path, as the TOML writer formats it."""
    table: dict = {}
    for part in reversed(dotted.split(".")):
        table = {part: table}
    return tomli_w.dumps(table).rstrip("\n")


def _comment(text: str) -> str:
    """Text safe inside a TOML comment: one line, no control characters."""
    return "".join(c if c.isprintable() else " " for c in str(text))
