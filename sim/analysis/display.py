"""How a result object shows itself: a few lines at the Python prompt, a small table in Jupyter,
and its figures on demand.

The API's results (a run, an experiment, a sweep, a validation, validations side by side, a
calibration, and a folder read back by ``load_results``) hold whole tables: the dataclass's own
repr prints every one of them (about 97,000 characters for the project's policy comparison).
:class:`Shown` replaces it: a base class whose ``__repr__`` says what ran, how many
replications, where the folder is and the headline (at most :data:`MOST_LINES` lines of at most
:data:`LINE_CHARACTERS` characters), whose ``_repr_html_`` is the same as an HTML table for
Jupyter (every value escaped: a scenario's name is text, never markup), and whose ``plot()``
returns the figures the report draws, as matplotlib figures that Jupyter displays by themselves
(:class:`Figures`).

A dataclass takes it as a base, with ``repr=False`` so that the dataclass does not write its
own ``__repr__`` over it::

    @dataclass(frozen=True, repr=False)
    class RunResult(Shown):
        ...

What a result shows is read from its fields by name (``runs``, ``summary``, ``comparison``,
``decisions``, ``robustness``, ``points``, ``table``, ``validations``, ``parameters``,
``folder``, ``manifest``, ``kind``, ``tables``), so the base needs nothing from the class.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MOST_LINES = 12  # lines of a result's repr, its first included
LINE_CHARACTERS = 160  # the most characters of one line (free text is cut with an ellipsis)
HEADLINE_ROWS = 6  # options, checks or parameters named in a headline


def cut(text: object, limit: int = LINE_CHARACTERS) -> str:
    """Free text on one line, at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def number(value: object) -> str:
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def interval(row: pd.Series, mean: str, low: str, high: str) -> str:
    return f"{number(row[mean])} [{number(row[low])}, {number(row[high])}]"


class Figures(dict):
    """Figures by file name (as in the folder's ``plots/``): a dict of matplotlib figures that
    Jupyter shows all at once, each under its name; ``figures["forest_differences.png"]`` is one
    figure, shown alone."""

    def _repr_html_(self) -> str:
        if not self:
            return "<p>No figures.</p>"
        from sim.analysis.png import png_bytes

        parts = []
        for name, figure in self.items():
            png = base64.b64encode(png_bytes(figure)).decode("ascii")
            parts.append(
                f'<figure style="margin:0 0 1em 0"><img src="data:image/png;base64,{png}" alt="{html.escape(str(name))}">'
                f"<figcaption>{html.escape(str(name))}</figcaption></figure>"
            )
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"Figures({', '.join(map(str, self)) or 'none'})"


class Shown:
    """A short ``__repr__``, a ``_repr_html_`` table and ``plot()`` for a result object (see the
    module's documentation)."""

    def _display(self) -> tuple[str, list[tuple[str, str]]]:
        """The title and the (label, text) lines of the display."""
        return describe(self)

    def __repr__(self) -> str:
        title, rows = self._display()
        width = max((len(label) for label, _ in rows), default=0)
        width = min(width, 24)
        lines = [cut(title)] + [
            f"  {cut(label, 24).ljust(width)}  {cut(text, LINE_CHARACTERS - width - 4)}" for label, text in rows
        ]
        return "\n".join(lines[:MOST_LINES])

    def _repr_html_(self) -> str:
        title, rows = self._display()
        cells = "".join(
            f'<tr><th style="text-align:left">{html.escape(label)}</th>'
            f'<td style="text-align:left">{html.escape(cut(text, 400))}</td></tr>'
            for label, text in rows
        )
        return f'<table><caption style="text-align:left"><b>{html.escape(cut(title, 400))}</b></caption>{cells}</table>'

    def plot(self) -> Figures:
        """The figures of this result, drawn again from its tables (nothing is written): an
        experiment's report figures (forest plot, ECDFs, probabilities, box plot), a robustness
        experiment's PRIM trajectories, a sweep's plots. Jupyter displays them without
        ``%matplotlib inline``."""
        return figures_of(self)


# What each kind of result shows ----------------------------------------------------------------


def kind_of(result: Any) -> str:
    """``run``, ``experiment``, ``robustness``, ``sweep``, ``validate``, ``side_by_side`` or ``calibration``."""
    kind = getattr(result, "kind", None)
    if isinstance(kind, str):
        return kind
    name = type(result).__name__
    if name == "ExperimentResult":
        return "robustness" if getattr(result, "robustness", None) is not None else "experiment"
    return {
        "RunResult": "run",
        "SweepResult": "sweep",
        "ValidationResult": "validate",
        "SideBySideResult": "side_by_side",
        "CalibrationResult": "calibration",
    }.get(name, name)


def table(result: Any, name: str) -> pd.DataFrame | None:
    """A table of a result, as a field or (for a folder read back) in its ``tables``."""
    tables = getattr(result, "tables", None)
    if isinstance(tables, dict) and name in tables:
        return tables[name]
    value = getattr(result, name, None)
    return value if isinstance(value, pd.DataFrame) else None


def describe(result: Any) -> tuple[str, list[tuple[str, str]]]:
    kind = kind_of(result)
    inference = getattr(result, "inference", None)  # a calibration's manifest and folder are its inference's
    manifest = getattr(result, "manifest", None) or getattr(inference, "manifest", None)
    manifest = manifest if isinstance(manifest, dict) else {}
    name = manifest.get("name") or ""
    title = f"{type(result).__name__} ({kind})" + (f": {name}" if name else "")
    rows: list[tuple[str, str]] = []
    about = manifest.get("title")
    if about and about != name:
        rows.append(("about", str(about)))
    source = manifest.get("source_file")
    if source:
        source = "a scenario given in Python" if Path(str(source)).name.startswith("<") else source
        rows.append(("from", f"{source}" + (f" ({manifest['period']})" if manifest.get("period") else "")))
    runs = table(result, "runs")
    if runs is not None and "scenario" in runs:
        scenarios = runs["scenario"].nunique()
        replications = manifest.get("replications")
        each = f", {replications} replications each" if replications is not None else ""
        rows.append(("runs", f"{len(runs)} ({scenarios} scenario{'s' if scenarios != 1 else ''}{each})"))
    failures = table(result, "failures")
    if failures is not None and len(failures):
        rows.append(("failed", f"{len(failures)} replications (see failures.csv)"))
    rows += HEADLINES.get(kind, lambda r, m: [])(result, manifest)
    folder = getattr(result, "folder", None) or getattr(inference, "folder", None)
    if folder is not None:
        rows.append(("folder", str(folder)))
    if isinstance(getattr(result, "tables", None), dict):
        rows.append(("tables", ", ".join(result.tables) or "none"))
    return title, rows


def _outcomes(result: Any, manifest: dict, summary: pd.DataFrame | None) -> list[str]:
    outcomes = manifest.get("outcomes")
    if isinstance(outcomes, list) and outcomes:
        return [str(o) for o in outcomes]
    if summary is None or "outcome" not in summary:
        return []
    present = list(dict.fromkeys(summary["outcome"]))
    return ["us_killed"] if "us_killed" in present else present[:1]


def _run_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    summary = table(result, "summary")
    if summary is None or not {"outcome", "mean", "ci95_low", "ci95_high"} <= set(summary.columns):
        return []
    rows = summary[summary["outcome"].isin(_outcomes(result, manifest, summary)[:3])]
    return [
        (f"{r['outcome']}", f"mean {interval(r, 'mean', 'ci95_low', 'ci95_high')} (95% CI)") for _, r in rows.iterrows()
    ]


def _experiment_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    comparison = table(result, "comparison")
    summary = table(result, "summary")
    outcomes = _outcomes(result, manifest, summary)
    lines = []
    if manifest.get("reference"):
        lines.append(("reference", str(manifest["reference"])))
    if comparison is None or not outcomes or "mean_diff" not in comparison:
        return lines
    outcome = outcomes[0]
    rows = comparison[(comparison["outcome"] == outcome) & (comparison["scenario"] != manifest.get("reference"))]
    decisions = getattr(result, "decisions", None)
    verdicts = {}
    if isinstance(decisions, pd.DataFrame) and {"scenario", "outcome", "verdict"} <= set(decisions.columns):
        verdicts = {r["scenario"]: r["verdict"] for _, r in decisions[decisions["outcome"] == outcome].iterrows()}
    for _, r in rows.head(HEADLINE_ROWS).iterrows():
        verdict = f", {verdicts[r['scenario']]}" if r["scenario"] in verdicts else ""
        lines.append(
            (
                f"{r['scenario']}",
                f"{outcome} {interval(r, 'mean_diff', 'diff_ci95_low', 'diff_ci95_high')} "
                f"vs reference (paired, 95% CI{verdict})",
            )
        )
    if len(rows) > HEADLINE_ROWS:
        lines.append(("…", f"{len(rows) - HEADLINE_ROWS} more options: see .comparison"))
    return lines


def _robustness_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    described = manifest.get("robustness") or {}
    lines = [
        (
            "states",
            f"{len(described.get('states', []))} states of {len(described.get('uncertain', []))} uncertain parameters"
            f"; reference {manifest.get('reference', '?')}",
        )
    ]
    robustness = getattr(result, "robustness", None)
    metrics = robustness.metrics if robustness is not None else table(result, "robustness")
    outcomes = _outcomes(result, manifest, None)
    if metrics is None or not outcomes or "metric" not in metrics:
        return lines
    rows = metrics[(metrics["metric"] == "regret_mean") & (metrics["outcome"] == outcomes[0])].sort_values("value")
    ranked = ", ".join(f"{r['option']} {number(r['value'])}" for _, r in rows.head(HEADLINE_ROWS).iterrows())
    lines.append((f"regret {outcomes[0]}", f"mean over states, least first: {ranked}"))
    return lines


def _sweep_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    points = table(result, "points")
    lines = []
    if points is not None:
        lines.append(("points", f"{len(points)} design points ({manifest.get('design', '?')})"))
    outcomes = manifest.get("outcomes")
    if outcomes:
        lines.append(("outcomes", ", ".join(map(str, outcomes))))
    sensitivity = table(result, "sensitivity")
    if sensitivity is not None:
        lines.append(("sensitivity", f"{len(sensitivity)} rows (.sensitivity)"))
    return lines


def _validation_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    from sim.analysis.validation import summary_line

    checks = table(result, "validation") if table(result, "table") is None else table(result, "table")
    lines = [("record", str(manifest["record_file"]))] if manifest.get("record_file") else []
    if checks is not None:
        try:
            lines.append(("checks", summary_line(checks)))
        except (KeyError, ValueError, TypeError):
            lines.append(("checks", f"{len(checks)} rows"))
    skill = getattr(result, "skill", None)
    if isinstance(skill, str) and skill:
        lines.append(("skill", skill))
    return lines


def _side_by_side_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    lines = []
    scenarios = manifest.get("scenarios")
    if isinstance(scenarios, dict):
        lines.append(("scenarios", ", ".join(map(str, scenarios))))
    if manifest.get("record_file"):
        lines.append(("record", str(manifest["record_file"])))
    validations = getattr(result, "validations", None)
    if isinstance(validations, dict):
        for stem, validation in list(validations.items())[:HEADLINE_ROWS]:
            lines.append((str(stem), getattr(validation, "summary", "")))
    return lines


def _calibration_headline(result: Any, manifest: dict) -> list[tuple[str, str]]:
    parameters = table(result, "parameters")
    lines = []
    if parameters is not None:
        moved = int(parameters["moved"].astype(bool).sum()) if "moved" in parameters else None
        lines.append(
            ("parameters", f"{len(parameters)}" + (f", {moved} moved by the data" if moved is not None else ""))
        )
    posterior = table(result, "posterior")
    inference = getattr(result, "inference", None)
    if posterior is None and inference is not None and isinstance(getattr(inference, "values", None), pd.DataFrame):
        posterior = inference.values
    if posterior is not None:
        lines.append(("posterior", f"{len(posterior)} particles"))
    predictive = getattr(result, "predictive", None)
    if predictive is not None:
        lines.append(("predictive", getattr(predictive, "summary", "")))
    for name in ("calibrated", "installed", "report"):
        value = getattr(result, name, None)
        if isinstance(value, Path):
            lines.append((name, str(value)))
    return lines


HEADLINES = {
    "run": _run_headline,
    "experiment": _experiment_headline,
    "robustness": _robustness_headline,
    "sweep": _sweep_headline,
    "validate": _validation_headline,
    "side_by_side": _side_by_side_headline,
    "calibration": _calibration_headline,
}


# Figures ---------------------------------------------------------------------------------------


def figures_of(result: Any) -> Figures:
    """The figures of a result object or a folder read back (see :meth:`Shown.plot`)."""
    kind = kind_of(result)
    manifest = getattr(result, "manifest", None) or {}
    if kind == "experiment":
        return Figures(
            experiment_figures(table(result, "runs"), table(result, "summary"), table(result, "comparison"), manifest)
        )
    if kind == "robustness":
        return Figures(robustness_figures(result, manifest))
    if kind == "sweep":
        drawn = getattr(result, "figures", None)
        if isinstance(drawn, dict) and drawn:
            return Figures(drawn)
        return Figures(sweep_figures_again(table(result, "points"), manifest))
    folder = getattr(result, "folder", None)
    where = f": its saved plots are in {Path(folder) / 'plots'}" if folder is not None else ""
    raise TypeError(f"a {kind} result has no figures to draw again{where}")


def experiment_figures(
    runs: pd.DataFrame | None, summary: pd.DataFrame | None, comparison: pd.DataFrame | None, manifest: dict
) -> dict[str, Figure]:
    """The figures of an experiment's report (:func:`sim.analysis.report.report_figures`) from its
    tables and manifest (its outcomes and period)."""
    from sim.analysis.decision import decision_table
    from sim.analysis.report import report_figures
    from sim.replication.outcomes import better_direction, binary_outcomes

    if runs is None or summary is None or comparison is None:
        raise TypeError("an experiment's figures need its runs, summary and comparison")
    outcomes = list(manifest.get("outcomes") or dict.fromkeys(comparison["outcome"]))
    decisions = decision_table(comparison[comparison["outcome"].isin(outcomes)], better_direction, binary_outcomes())
    return report_figures(runs, summary, decisions, outcomes, period=str(manifest.get("period", "")))


def robustness_figures(result: Any, manifest: dict) -> dict[str, Figure]:
    """The PRIM trajectories of a robustness experiment's boxes (those that restrict a parameter),
    by their file names in ``plots/``; a folder read back runs PRIM again on its runs (seconds)."""
    from sim.analysis.discovery import trajectory_figure
    from sim.analysis.figures import safe_name

    robustness = getattr(result, "robustness", None)
    if robustness is not None and not isinstance(robustness, pd.DataFrame):
        boxes = robustness.boxes
    else:
        from sim.analysis.robustness import analyse_robustness
        from sim.design.robustness import StatesDesign

        design = StatesDesign.from_manifest(manifest["reference"], manifest["robustness"])
        boxes = analyse_robustness(
            table(result, "runs"), design, list(manifest["outcomes"]), manifest["root_seed"]
        ).boxes
    return {
        f"prim_{safe_name(box.case.option)}_{safe_name(box.case.what)}.png": trajectory_figure(box)
        for box in boxes
        if not box.whole
    }


def sweep_figures_again(points: pd.DataFrame | None, manifest: dict) -> dict[str, Figure]:
    """A sweep folder's plots from its points table (without the base values and units its
    scenario file gives the plots the sweep itself draws)."""
    from sim.analysis.sweep import sweep_figures

    if points is None:
        raise TypeError("a sweep's figures need its points table")
    outcomes = [str(o) for o in manifest.get("outcomes", [])]
    derived = {"point", "replications", *outcomes, *(f"{o}_ci95_{end}" for o in outcomes for end in ("low", "high"))}
    parameters = [c for c in points.columns if c not in derived]
    return sweep_figures(points, parameters, outcomes, None)
