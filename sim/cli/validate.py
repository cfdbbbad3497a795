"""The ``validate`` command: score a scenario against a public-record file, or several side by side."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.grammar import VALIDATION_REPLICATIONS
from sim.cli.options import batch_options, failures_note, new_folder, progress_bar, resumed
from sim.config.loader import load_scenario
from sim.project import shown_path

if TYPE_CHECKING:
    from sim.api import SideBySideResult, ValidationResult

# The API and the analysis (pandas, scipy) are imported once the scenarios are checked: a
# refused scenario file answers without loading them (start-up time).


def command_validate(args: argparse.Namespace, argv: list[str]) -> str:
    if len(args.scenario) > 1:
        return command_validate_many(args, argv)
    scenario = args.scenario[0]
    replications = args.replications or VALIDATION_REPLICATIONS
    load_scenario(scenario, args.overrides)  # bad input stops here, before any folder
    from sim import api
    from sim.analysis.validation import skill_table

    out = args.out or new_folder(f"validation-{scenario.stem}")
    options = api.ValidationOptions(replications, args.seed, args.overrides, events=args.events)
    result = api.validate(
        scenario, args.record, out, options, batch_options(args, argv, progress_bar(args.quiet, replications))
    )
    columns = [
        "check",
        "use",
        "observed_low",
        "observed_high",
        "sim_mean",
        "sim_p05",
        "sim_p95",
        "percentile",
        "inside_90",
        "score",
    ]
    columns += [c for c in result.table.columns if c.startswith("skill_")]
    in_sample = result.table["use"] != "held-out"
    tables = "".join(
        f"{title}:\n{result.table.loc[rows, columns].to_string(index=False, float_format=_number)}\n"
        for title, rows in (
            ("in-sample checks (use fit, set or overlap: they tuned the model, or overlap what did)", in_sample),
            ("held-out checks", ~in_sample),
        )
        if rows.any()
    )
    skill = ""
    if result.fit is not None:
        skills = skill_table(result.table)
        skills["skill"] = [f"{v:+.3f}" for v in skills["skill"]]
        skill = f"{skills.to_string(index=False, float_format=_number)}\n"
    return f"{_headline(scenario, args, replications, result)}{skill}{tables}{_footer(result, out)}"


def _headline(scenario: Path, args: argparse.Namespace, replications: int, result: ValidationResult) -> str:
    """The first lines of a scenario's report: what ran, and the skill line."""
    return (
        f"validation of {shown_path(scenario)} against {shown_path(args.record)}: {replications} replications, "
        f"seed {args.seed}, {result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n"
        f"{result.skill}\n"
    )


def _footer(result: ValidationResult, out: Path) -> str:
    """The last lines of a scenario's report: what was not checked, the summary, the files."""
    skipped = (
        f"not checked (outside the horizon): {', '.join(o.check.id for o in result.skipped)}\n"
        if result.skipped
        else ""
    )
    return (
        f"{skipped}{result.summary}\n"
        f"{failures_note(result.failures, out)}wrote {out}/ (validation.md, validation.html, validation.csv, plots/fan_chart.png, runs.parquet)\n"
    )


def _number(value: float) -> str:
    return f"{value:.3g}"


def command_validate_many(args: argparse.Namespace, argv: list[str]) -> str:
    """Two or more scenarios: each validated into DIR/<stem>/, then the side-by-side files.
    Per scenario its first lines, summary and files; then the side-by-side tables."""
    replications = args.replications or VALIDATION_REPLICATIONS
    from sim import api
    from sim.analysis.side_by_side import scenario_stems

    stems = scenario_stems(args.scenario)  # two files of one stem: one line, before any folder
    for scenario in args.scenario:
        load_scenario(scenario, args.overrides)  # bad input stops here, before any folder
    out = args.out or new_folder("validation-side-by-side")
    progress = progress_bar(args.quiet, replications * len(args.scenario))
    options = api.ValidationOptions(replications, args.seed, args.overrides, events=args.events)
    result = api.validate_many(args.scenario, args.record, out, options, batch_options(args, argv, progress))
    reports = "".join(
        f"{_headline(scenario, args, replications, validation)}{_footer(validation, out / stem)}"
        for scenario, (stem, validation) in zip(args.scenario, result.validations.items())
    )
    return f"{reports}{side_by_side_text(result, stems)}wrote {out}/ (side_by_side.md, side_by_side.html, side_by_side.csv)\n"


def side_by_side_text(result: SideBySideResult, stems: list[str]) -> str:
    """The side-by-side tables for the terminal: per check, a column group per scenario."""
    import pandas as pd

    from sim.analysis.side_by_side import FIELDS
    from sim.analysis.tables import EMPTY, fmt
    from sim.analysis.validation import event_interval, observed_range, signed

    table = result.table.copy()
    table.insert(
        3, "observed", [observed_range(low, high) for low, high in zip(table["observed_low"], table["observed_high"])]
    )
    shared = ["check", "use", "statistic", "observed"]
    checks = table[shared + [f"{stem}:{field}" for stem in stems for field in FIELDS]]
    checks.columns = pd.MultiIndex.from_tuples(
        [("", c) for c in shared] + [(stem, field) for stem in stems for field in FIELDS]
    )
    checks = checks.astype(object).where(checks.notna(), EMPTY)
    skills = result.skills.assign(
        skill=[signed(v) for v in result.skills["skill"]], skill_quiet=[signed(v) for v in result.skills["skill_quiet"]]
    ).fillna(EMPTY)
    text = (
        f"side by side, every check of the record ({EMPTY}: outside the scenario's horizon):\n"
        f"{checks.to_string(index=False, float_format=_number)}\n"
        f"skill side by side (held-out checks; quiet period: held-out checks of statistic none or first_after):\n"
        f"{skills.to_string(index=False)}\n"
    )
    if len(result.probabilities):
        events = result.probabilities[["check", "use", "observed"]].copy()
        for stem in stems:
            p = result.probabilities
            events[stem] = [
                f"{fmt(v)} {event_interval(lo, hi)}" if pd.notna(v) else EMPTY
                for v, lo, hi in zip(p[f"{stem}:p_event"], p[f"{stem}:p_event_lo"], p[f"{stem}:p_event_hi"])
            ]
        text += f"probabilities of the 0/1 checks (P(event) = 1 - mean, [95% Wilson interval]):\n{events.to_string(index=False)}\n"
    return text
