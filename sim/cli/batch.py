"""The batch commands: ``experiment``, ``compare`` and ``sweep``.

Each command calls the Python API (:mod:`sim.api`) and returns the text it reports;
:func:`sim.cli.main.main` writes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sim.analysis.precision import describe as precision_line
from sim.batch.folder import (
    ANALYSING,
    COMPLETE,
    clean_partials,
    locked_folder,
    mark_complete,
    read_manifest,
    verify_runs,
    write_json,
)
from sim.cli.options import batch_options, failures_note, new_folder, progress_bar, resumed
from sim.config.errors import UsageError
from sim.design.experiment import load_experiment
from sim.design.pawn import LEVEL, pawn_table
from sim.design.sweep import load_sweep
from sim.design.types import design_type
from sim.design.types.saltelli import sensitivity_table as sobol_table

# The API (the runner, the analysis: scipy, matplotlib) is imported in each command once its
# input is checked: a refused experiment or sweep file answers without loading it (start-up time).

SHOWN_OUTCOMES = 8  # outcomes printed on the terminal; the files hold all of them
SOBOL_TITLE = "Sobol' indices: S1 first order, ST total; *_conf: half-width of the 95% interval"
PAWN_TITLE = (
    "PAWN: median KS distance over slices of each parameter, 95% bootstrap interval; p_permutation "
    "from permutations of the outcome; influential when Holm's adjustment over the {tests} tests of "
    "the table (valid whatever their dependence) is below {level:g}"
)
PAWN_SHOWN = [
    "outcome",
    "parameter",
    "pawn_median",
    "pawn_low95",
    "pawn_high95",
    "p_permutation",
    "p_holm",
    "influential",
]
DECIDED_OUTCOMES = 2  # outcomes whose decision sentences are printed


def command_experiment(args: argparse.Namespace, argv: list[str]) -> str:
    experiment = load_experiment(args.file, args.replications)
    from sim import api

    out = args.out or new_folder(experiment.header.name)
    total = _total(experiment.batch) if not args.precision else None  # by precision: not known in advance
    precision = dict(args.precision) if args.precision else None
    result = api.run_experiment(
        experiment,
        out,
        api.ExperimentOptions(precision=precision, max_replications=args.max_replications),
        batch_options(args, argv, progress_bar(args.quiet, total)),
    )
    batch = experiment.batch
    if result.robustness is not None:
        design = experiment.robustness
        return (
            f"{batch.name}: {len(design.options)} options x {len(design.states)} states x {batch.replications} replications, "
            f"seed {batch.root_seed}, {result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n"
            f"{format_robustness(result.robustness, list(experiment.header.outcomes)[:SHOWN_OUTCOMES])}"
            f"{failures_note(result.failures, out)}wrote {out}/ (robustness.md, robustness.html, robustness.csv, states.csv, boxes.csv, "
            "summary.csv, runs.parquet)\n"
        )
    record = result.manifest.get("precision")
    return (
        f"{batch.name}: {len(batch.scenarios)} scenarios x {result.manifest['replications']} replications, "
        f"seed {batch.root_seed}, {result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n"
        f"{format_tables(result.summary, result.comparison, list(experiment.header.outcomes)[:SHOWN_OUTCOMES], experiment.header.reference)}"
        f"{format_uncertainty(result.uncertainty, list(experiment.header.outcomes)[:SHOWN_OUTCOMES])}"
        f"{format_precision(record) if record else ''}"
        f"{format_decisions(result.decisions, list(experiment.header.outcomes)[:DECIDED_OUTCOMES])}"
        f"{failures_note(result.failures, out)}wrote {out}/ (report.md, report.html, summary.csv, comparison.csv, decision.csv, "
        f"{'uncertainty.csv, ' if result.uncertainty is not None else ''}runs.parquet)\n"
    )


def format_precision(record: dict) -> str:
    """How a run by precision ended: the count, the stages, and each half-width reached."""
    table = pd.DataFrame(record["half_widths"])
    table["reached"] = table["reached"].map({True: "yes", False: "no"})
    shown = table.rename(columns={"half_width": "half-width", "target": "asked"})[
        ["scenario", "outcome", "half-width", "asked", "reached"]
    ]
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-")
    return f"\n{precision_line(record)}\n{text}\n"


def format_decisions(decisions: pd.DataFrame | None, outcomes: list[str]) -> str:
    """The decision sentences of the first outcomes, one line per option and outcome."""
    if decisions is None or decisions.empty:
        return ""
    shown = decisions[decisions["outcome"].isin(outcomes)]
    ordered = shown.assign(order=shown["outcome"].map(outcomes.index)).sort_values("order", kind="stable")
    return "\nin short (report.md has every outcome)\n" + "".join(f"{s}\n" for s in ordered["sentence"])


def format_uncertainty(table: pd.DataFrame | None, outcomes: list[str]) -> str:
    """What the intervals include; over a posterior, each effect's chance of being negative
    across the posterior, with its interval (the effect's own interval is the one above)."""
    if table is None:
        return "intervals: Monte Carlo error only (parameters fixed; parameters_from draws them from a posterior)\n"
    first = table.iloc[0]
    draws, per_draw = int(first["draws"]), int(first["replications_per_draw"])
    shown = table[table["outcome"].isin(outcomes)]
    cells = [
        f"{p:.2f} [{a:.2f}, {b:.2f}]" if pd.notna(a) else (f"{p:.2f}" if pd.notna(p) else "-")
        for p, a, b in zip(
            shown["p_effect_below_zero"], shown["p_effect_below_zero_low"], shown["p_effect_below_zero_high"]
        )
    ]
    pivot = shown.assign(cell=cells).pivot(index="outcome", columns="scenario", values="cell").reindex(outcomes)
    return (
        f"intervals: Monte Carlo error and the posterior ({draws} draws, {per_draw} replication(s) each; "
        "every interval, test and share over the draws)\n"
        "\nP(effect < 0) over the posterior [95% CI]\n" + pivot.to_string() + "\n"
    )


def format_robustness(robustness, outcomes: list[str]) -> str:
    """Mean and maximum regret per option, the share of states meeting the thresholds, and
    PRIM's boxes in words."""
    metrics = robustness.metrics
    regret = _cells(
        metrics[metrics.metric == "regret_mean"].rename(columns={"option": "scenario"}),
        "value",
        "ci95_low",
        "ci95_high",
        outcomes,
        "",
    )
    worst = _cells(
        metrics[metrics.metric == "regret_max"].rename(columns={"option": "scenario"}),
        "value",
        "ci95_low",
        "ci95_high",
        outcomes,
        "",
    )
    options = list(dict.fromkeys(metrics["option"]))
    text = (
        "mean regret over states [95% CI]\n"
        + regret[options].to_string()
        + "\n\nmaximum regret over states [95% CI]\n"
        + worst[options].to_string()
        + "\n"
    )
    met = metrics[(metrics.metric == "satisficing") & (metrics.outcome == "all thresholds")]
    if not met.empty:
        text += (
            "\nshare of states meeting the thresholds: "
            + ", ".join(
                f"{o} {v:.2f} [{lo:.2f}, {hi:.2f}]"
                for o, v, lo, hi in zip(met.option, met.value, met.ci95_low, met.ci95_high)
            )
            + "\n"
        )
    if robustness.boxes:
        text += "\nwhere options fail (PRIM, on states whose interval excludes the line):\n" + "".join(
            f"- {box.words()}{'' if box.stable or box.whole else ' (not stable: a lead, not a finding)'}\n"
            for box in robustness.boxes
        )
    return text


def command_compare(args: argparse.Namespace, argv: list[str]) -> str:
    folder: Path = args.folder
    manifest_path, runs_path = folder / "manifest.json", folder / "runs.parquet"
    if not manifest_path.exists() or not runs_path.exists():
        raise UsageError(f"{folder} is not a finished results folder (no manifest.json or runs.parquet)")
    with locked_folder(folder):  # no run or other compare writes there meanwhile
        for place in (folder, folder / "plots"):  # what a killed compare or analysis left
            clean_partials(place)
        return _compare(folder, manifest_path, runs_path)


def _compare(folder: Path, manifest_path: Path, runs_path: Path) -> str:
    from sim import api

    manifest = read_manifest(manifest_path)
    if "reference" not in manifest:
        raise UsageError(f"{folder} holds no experiment (its manifest names no reference scenario)")
    outcomes = manifest.get("outcomes")
    if not isinstance(outcomes, list) or not outcomes or not all(isinstance(o, str) for o in outcomes):
        raise UsageError(
            f"{manifest_path} is damaged (it names no outcomes): run the experiment again into a new --out"
        )
    status = manifest.get("status")
    if (
        status != COMPLETE
    ):  # a run killed part-way (a stage of a run by precision, say): its runs are not the experiment's
        shown = status if isinstance(status, str) and status.isprintable() and len(status) <= 40 else "not a status"
        raise UsageError(
            f"{folder} is not complete (status {shown!r}): compare reads only a finished experiment; run the "
            "command that made it (its manifest's command) again with the same --out to finish it"
        )
    runs = _read_runs(verify_runs(folder, manifest))
    missing = [c for c in ("scenario", *outcomes) if c not in runs.columns]
    if "robustness" in manifest and not missing:
        write_json(manifest_path, {**manifest, "status": ANALYSING})  # complete again once the files are rewritten
        _, robustness = api.analyse_states(folder, runs, manifest)
        mark_complete(folder, manifest)
        return f"{format_robustness(robustness, outcomes[:SHOWN_OUTCOMES])}wrote {folder}/ (robustness.md, robustness.html, robustness.csv, states.csv, boxes.csv)\n"
    if missing or manifest["reference"] not in set(runs["scenario"]):
        what = f"lacks the columns {', '.join(missing)}" if missing else f"holds no runs of {manifest['reference']!r}"
        raise UsageError(
            f"{runs_path} does not match its manifest (it {what}): run the experiment again into a new --out"
        )
    write_json(manifest_path, {**manifest, "status": ANALYSING})  # complete again once the files are rewritten
    comparison = api.analyse_folder(folder, runs, manifest)
    mark_complete(folder, manifest)
    table = format_tables(comparison.summary, comparison.comparison, outcomes[:SHOWN_OUTCOMES], manifest["reference"])
    table += format_uncertainty(comparison.uncertainty, outcomes[:SHOWN_OUTCOMES])
    table += format_decisions(comparison.decisions, outcomes[:DECIDED_OUTCOMES])
    written = "uncertainty.csv" if comparison.uncertainty is not None else ""
    return f"{table}wrote {folder}/ (report.md, report.html, summary.csv, comparison.csv, decision.csv{', ' + written if written else ''})\n"


def _read_runs(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (ValueError, pa.ArrowException) as exc:
        raise UsageError(
            f"{path} is damaged ({type(exc).__name__}: {' '.join(str(exc).split())}): "
            "run the experiment again into a new --out"
        ) from None


def command_sweep(args: argparse.Namespace, argv: list[str]) -> str:
    sweep = load_sweep(args.file, args.replications)
    from sim import api

    out = args.out or new_folder(sweep.header.name)
    result = api.run_sweep(sweep, out, batch=batch_options(args, argv, progress_bar(args.quiet, _total(sweep.batch))))
    paths, outcomes = [p.path for p in sweep.parameters], list(sweep.header.outcomes)
    text = result.points[["point", *paths, *outcomes]].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    text += format_sensitivity(result.sensitivity, sweep.header.design)
    return (
        f"{sweep.header.name}: {len(sweep.design)} points x {sweep.batch.replications} replications, "
        f"{result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n{text}\n"
        f"{failures_note(result.failures, out)}wrote {out}/points.csv and {result.plots} plots\n"
    )


def format_sensitivity(table: pd.DataFrame | None, design: str) -> str:
    """The sensitivity table of design type ``design`` for the terminal, under the title of its
    analysis (Sobol' indices, PAWN; another type's own description); for PAWN, the rows tested
    and, for the outcomes not tested, why (``note``)."""
    if table is None:
        return ""
    declared = design_type(design)
    if declared.analyse is not pawn_table:
        title = SOBOL_TITLE if declared.analyse is sobol_table else f"{declared.name}: {declared.doc}"
        return f"\n\nsensitivity ({title})\n" + table.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    tested = table[table["influential"].notna()]
    text = ""
    if len(tested):
        title = PAWN_TITLE.format(tests=len(tested), level=LEVEL)
        shown = tested[PAWN_SHOWN].to_string(index=False, float_format=lambda v: f"{v:.3g}")
        text += f"\n\nsensitivity ({title}; {int(tested['permutations'].iloc[0])} permutations)\n{shown}"
    untested = table[table["influential"].isna()].drop_duplicates("outcome")
    for note, outcomes in untested.groupby("note", sort=False)["outcome"]:
        which = "" if len(tested) == 0 and untested["note"].nunique() == 1 else f" for {', '.join(outcomes)}"
        text += f"\n\nsensitivity not computed{which}: {note.removeprefix('not computed: ')} (sensitivity.csv leaves its rows empty)"
    return text


def format_tables(summary: pd.DataFrame, comparison: pd.DataFrame, outcomes: list[str], reference: str) -> str:
    """Means per scenario and paired differences from the reference, as terminal tables."""
    means = _cells(summary, "mean", "ci95_low", "ci95_high", outcomes, "")
    text = "mean [95% CI] per scenario\n" + means[list(dict.fromkeys(summary["scenario"]))].to_string() + "\n"
    if comparison.empty:
        return text
    diffs = _cells(comparison, "mean_diff", "diff_ci95_low", "diff_ci95_high", outcomes, "+")
    return text + f"\npaired difference from {reference} [95% CI]\n" + diffs.to_string() + "\n"


def _cells(table: pd.DataFrame, mean: str, low: str, high: str, outcomes: list[str], sign: str) -> pd.DataFrame:
    shown = table[table["outcome"].isin(outcomes)]
    cells = [
        f"{m:{sign}.2f} [{lo:{sign}.2f}, {hi:{sign}.2f}]" for m, lo, hi in zip(shown[mean], shown[low], shown[high])
    ]
    return shown.assign(cell=cells).pivot(index="outcome", columns="scenario", values="cell").reindex(outcomes)


def _total(batch) -> int:
    return len(batch.scenarios) * batch.replications
