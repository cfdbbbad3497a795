"""Several scenarios validated against the same record, side by side (``run.py validate A B ...``).

Each scenario is validated on its own (:func:`sim.api.validate`, into ``<out>/<stem>/``) with the
same record, event record, seed, replications and overrides; this module puts their
``validation.csv`` tables next to each other:

- :func:`side_by_side_table`: one row per check of the record, in the record's order: ``check``,
  ``use``, ``statistic``, ``observed_low``, ``observed_high``, and per scenario ``<stem>:p05``,
  ``<stem>:p95``, ``<stem>:percentile``, ``<stem>:inside_90`` and ``<stem>:score``, the values of
  its ``validation.csv`` (``sim_p05``, ``sim_p95``, ``percentile``, ``inside_90``, ``score``);
  empty where the scenario's horizon leaves the check out;
- :func:`skill_summary`: per scenario and baseline, the skill on the held-out rows
  (:func:`~sim.analysis.validation.skill_table`), the same on the held-out quiet-period checks
  (:func:`~sim.analysis.validation.quiet_period`: statistic ``none`` or ``first_after``), and
  how many held-out checks lie inside their 90% band;
- :func:`probability_table`: per 0/1 check (``none``), each scenario's probability that the
  event happened, with its 95% Wilson interval (``p_event`` of ``validation.csv``).

:func:`write_side_by_side` writes them as ``side_by_side.csv``, ``side_by_side.md`` and
``side_by_side.html``, each atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.html import write_html
from sim.analysis.tables import EMPTY, fmt, markdown_table, markdown_text
from sim.analysis.validation import (
    EVENT_COLUMNS,
    PROBABILITIES_HEADING,
    PROBABILITIES_TEXT,
    event_interval,
    observed_event,
    observed_range,
    quiet_period,
    signed,
    skill_table,
)
from sim.batch.cells import write_csv
from sim.batch.folder import LOCK, write_atomic
from sim.calibration.public_record import Observation
from sim.config.errors import UsageError

FILES = ("side_by_side.md", "side_by_side.html", "side_by_side.csv")
# Per scenario: the column of the side-by-side table <- the column of its validation.csv.
FIELDS = {"p05": "sim_p05", "p95": "sim_p95", "percentile": "percentile", "inside_90": "inside_90", "score": "score"}
RECORD_COLUMNS = ["check", "use", "statistic", "observed_low", "observed_high"]
SKILL_COLUMNS = [
    "scenario",
    "baseline",
    "held_out_checks",
    "skill",
    "quiet_checks",
    "skill_quiet",
    "held_out_inside_90",
]
QUIET_TEXT = (
    "*quiet period*: the held-out checks whose statistic is `none` or `first_after`, that is a stretch "
    "without the events checked (attacks, or U.S. casualties) or the time to the first attack after a date"
)


def scenario_stems(paths: Sequence[Path]) -> list[str]:
    """The folder name of each scenario (its file's stem); one line if two share one, or if one
    would clash with the files of the folder that holds them."""
    stems: dict[str, Path] = {}
    own = {*FILES, "manifest.json", LOCK}
    for path in paths:
        stem = Path(path).stem
        if stem in stems:
            raise UsageError(
                f"scenarios {stems[stem]} and {path} have the same file name stem {stem!r}: each scenario "
                "is written to <out>/<stem>/, so give them different file names"
            )
        if stem in own or not stem or stem.startswith("."):
            raise UsageError(
                f"scenario {path}: its file name stem {stem!r} cannot name a folder beside the "
                "side-by-side files: rename the file"
            )
        stems[stem] = Path(path)
    return list(stems)


def side_by_side_table(observations: Sequence[Observation], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every check of the record (in its order) with each scenario's band, percentile, inside
    or not and score from its table of :func:`~sim.analysis.validation.score_checks`
    (``tables``: stem -> table); empty cells where a scenario did not check a row."""
    ids = [o.check.id for o in observations]
    table = pd.DataFrame(
        {
            "check": ids,
            "use": [o.use for o in observations],
            "statistic": [o.check.statistic for o in observations],
            "observed_low": [float(o.low) for o in observations],
            "observed_high": [float(o.high) if o.high is not None else np.inf for o in observations],
        }
    )
    for stem, scored in tables.items():
        by_check = scored.set_index("check").reindex(ids)
        for field, source in FIELDS.items():
            values = by_check[source]
            table[f"{stem}:{field}"] = (
                values.astype("boolean") if field == "inside_90" else values.astype(float)
            ).to_numpy()
    return table


def skill_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scenario and baseline: the skill on the held-out rows and its count, the skill on the
    held-out quiet-period rows and their count (both from
    :func:`~sim.analysis.validation.skill_table`), and the held-out checks inside their 90%
    band as ``k of n``. A scenario scored against no baseline has one row, baseline empty."""
    rows = []
    for stem, table in tables.items():
        held = table[table["use"] == "held-out"]
        inside = f"{int(held['inside_90'].astype(bool).sum())} of {len(held)}"
        overall = skill_table(table)
        quiet = skill_table(table, quiet_period(table)).set_index("baseline")
        for r in overall.itertuples():
            rows.append(
                {
                    "scenario": stem,
                    "baseline": r.baseline,
                    "held_out_checks": r.held_out_checks,
                    "skill": r.skill,
                    "quiet_checks": int(quiet.loc[r.baseline, "held_out_checks"]),
                    "skill_quiet": quiet.loc[r.baseline, "skill"],
                    "held_out_inside_90": inside,
                }
            )
        if overall.empty:
            rows.append(
                {
                    "scenario": stem,
                    "baseline": None,
                    "held_out_checks": len(held),
                    "skill": np.nan,
                    "quiet_checks": int(quiet_period(held).sum()),
                    "skill_quiet": np.nan,
                    "held_out_inside_90": inside,
                }
            )
    return pd.DataFrame(rows, columns=SKILL_COLUMNS)


def probability_table(observations: Sequence[Observation], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every 0/1 check (``none``) of the record: its use, what the record observed (``happened``
    or ``did not happen``) and per scenario ``<stem>:p_event``, ``<stem>:p_event_lo``,
    ``<stem>:p_event_hi``; empty where a scenario did not check it."""
    events = [o for o in observations if o.check.statistic == "none"]
    ids = [o.check.id for o in events]
    table = pd.DataFrame(
        {"check": ids, "use": [o.use for o in events], "observed": [observed_event(o.low) for o in events]}
    )
    for stem, scored in tables.items():
        by_check = scored.set_index("check").reindex(ids)
        for column in EVENT_COLUMNS:
            table[f"{stem}:{column}"] = by_check[column].astype(float).to_numpy()
    return table


def write_side_by_side(
    out: Path,
    title: str,
    intro: Sequence[str],
    table: pd.DataFrame,
    skills: pd.DataFrame,
    probabilities: pd.DataFrame,
    skipped: Mapping[str, Sequence[str]],
) -> list[Path]:
    """``side_by_side.csv`` (``table``), ``side_by_side.md`` (``intro`` paragraphs, the skills,
    every check, the 0/1 checks' probabilities, what each horizon left out) and
    ``side_by_side.html``, each written atomically; returns their paths."""
    stems = list(skipped)
    csv = out / "side_by_side.csv"
    write_csv(csv, table)
    sections = [
        f"# {markdown_text(title)}",
        *intro,
        "## Skill on the held-out checks",
        skill_text(skills),
        _skill_markdown(skills),
        "## Every check",
        "One row per check of the record, in its order. Per scenario: the simulated 5th-95th percentiles, the "
        "observation's percentile among the replications, whether the observed range overlaps that band (for a "
        "0/1 check: whether the model gives the observed outcome a probability of at least 0.05) and the score "
        f"(lower is better), as in its `validation.md`; {EMPTY} where the scenario's horizon leaves the check out.",
        _check_markdown(table, stems),
    ]
    if len(probabilities):
        sections += [PROBABILITIES_HEADING, PROBABILITIES_TEXT, _probability_markdown(probabilities, stems)]
    left_out = [
        f"- {markdown_text(stem)}: {markdown_text(', '.join(checks))}" for stem, checks in skipped.items() if checks
    ]
    if left_out:
        sections += ["## Not checked", "Outside the scenario's horizon:", "\n".join(left_out)]
    md = out / "side_by_side.md"
    text = "\n\n".join(sections) + "\n"
    write_atomic(md, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))
    return [md, write_html(md), csv]


def skill_text(skills: pd.DataFrame) -> str:
    """What the skill table's columns are."""
    return (
        "Per scenario and naive baseline, as in each `validation.md`: the skill 1 - mean model score / mean "
        "baseline score over the held-out rows (above 0 the model forecasts better than the baseline, 0 no "
        f"better, below 0 worse), and the same over the held-out quiet-period rows; {QUIET_TEXT}. *inside 90%*: "
        "the held-out checks inside their 90% band. A scenario whose horizon leaves checks out is scored on fewer "
        "rows: compare skills where the counts agree."
    )


def _skill_markdown(skills: pd.DataFrame) -> str:
    rows = [
        [
            markdown_text(r.scenario),
            markdown_text(r.baseline or EMPTY),
            str(r.held_out_checks),
            signed(r.skill),
            str(r.quiet_checks),
            signed(r.skill_quiet),
            r.held_out_inside_90,
        ]
        for r in skills.itertuples()
    ]
    header = [
        "scenario",
        "baseline",
        "held-out checks",
        "skill",
        "quiet-period checks",
        "skill, quiet period",
        "inside 90%",
    ]
    return markdown_table(header, rows)


def _check_markdown(table: pd.DataFrame, stems: Sequence[str]) -> str:
    header = ["check", "use", "statistic", "observed"]
    for stem in stems:
        shown = markdown_text(stem)
        header += [f"{shown}: p5 - p95", f"{shown}: percentile", f"{shown}: inside 90%", f"{shown}: score"]
    rows = []
    for _, r in table.iterrows():
        row = [
            markdown_text(r["check"]),
            markdown_text(r["use"]),
            markdown_text(r["statistic"]),
            observed_range(r["observed_low"], r["observed_high"]),
        ]
        for stem in stems:
            inside = r[f"{stem}:inside_90"]
            row += [
                EMPTY if pd.isna(r[f"{stem}:p05"]) else f"{fmt(r[f'{stem}:p05'])} - {fmt(r[f'{stem}:p95'])}",
                fmt(r[f"{stem}:percentile"]),
                EMPTY if pd.isna(inside) else ("yes" if inside else "**no**"),
                fmt(r[f"{stem}:score"]),
            ]
        rows.append(row)
    return markdown_table(header, rows)


def _probability_markdown(probabilities: pd.DataFrame, stems: Sequence[str]) -> str:
    header = ["check", "use", "observed"]
    for stem in stems:
        header += [f"{markdown_text(stem)}: P(event)", f"{markdown_text(stem)}: 95% interval"]
    rows = []
    for _, r in probabilities.iterrows():
        row = [markdown_text(r["check"]), markdown_text(r["use"]), r["observed"]]
        for stem in stems:
            row += [fmt(r[f"{stem}:p_event"]), event_interval(r[f"{stem}:p_event_lo"], r[f"{stem}:p_event_hi"])]
        rows.append(row)
    return markdown_table(header, rows)
