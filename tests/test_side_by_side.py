"""`validate` of several scenarios side by side."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from builders import call_main

import sim.api.validation
from sim import api
from sim.analysis.side_by_side import FIELDS, skill_summary
from sim.analysis.validation import skill_table
from sim.batch.folder import LOCK, lock_folder
from sim.calibration.public_record import load_record
from sim.config.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "configs" / "data" / "public_record.csv"
SCENARIOS = ROOT / "configs" / "scenarios"
REPLICATIONS = 20


def scenario_file(folder: Path, stem: str, extends: str, end: str) -> Path:
    """A scenario extending one of the project's, with a shorter horizon."""
    path = folder / f"{stem}.toml"
    path.write_text(
        f'extends = "{SCENARIOS / extends}"\n\n[scenario]\nname = "{stem}"\nend_date = {end}\n', encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """Two short scenarios of different horizons (the second checks fewer rows), validated side
    by side through the command line, and the first alone with the same arguments (with the
    result that the command printed)."""
    folder = tmp_path_factory.mktemp("side_by_side")
    a = scenario_file(folder, "replay_2020", "history_2020_2021.toml", "2020-12-31")
    b = scenario_file(folder, "continuity_short", "continuity.toml", "2020-11-30")
    common = ["--replications", str(REPLICATIONS), "--seed", "3", "--workers", "1", "--quiet"]
    many = call_main(["validate", a, b, *common, "--out", folder / "out"])
    seen = []
    with pytest.MonkeyPatch.context() as patch:
        validate = api.validate
        patch.setattr(api, "validate", lambda *args, **kwargs: seen.append(validate(*args, **kwargs)) or seen[-1])
        single = call_main(["validate", a, *common, "--out", folder / "single"])
    return folder, (a, b), many, (*single, seen)


@pytest.mark.slow
def test_each_scenario_s_columns_are_its_own_validation_csv(two):
    folder, (a, b), (code, stdout, stderr), _ = two
    assert code == 0, stderr
    out = folder / "out"
    side = pd.read_csv(out / "side_by_side.csv", dtype=str, keep_default_na=False)
    record = load_record(RECORD)
    assert list(side["check"]) == [o.check.id for o in record]
    assert list(side.columns) == ["check", "use", "statistic", "observed_low", "observed_high"] + [
        f"{p.stem}:{field}" for p in (a, b) for field in FIELDS
    ]
    for path in (a, b):
        own = pd.read_csv(out / path.stem / "validation.csv", dtype=str, keep_default_na=False).set_index("check")
        assert 0 < len(own) < len(side)  # the short horizons leave checks out
        for field, source in FIELDS.items():
            column = side.set_index("check")[f"{path.stem}:{field}"]
            assert column.loc[own.index].equals(own[source].rename(column.name)), field
            assert (column.drop(own.index) == "").all(), f"{field}: a check the scenario did not make is not empty"
    shorter = pd.read_csv(out / b.stem / "validation.csv")
    assert len(shorter) < len(pd.read_csv(out / a.stem / "validation.csv"))


@pytest.mark.slow
def test_the_skills_are_those_of_each_validation_and_the_files_are_written(two):
    folder, (a, b), (code, stdout, stderr), _ = two
    out = folder / "out"
    tables = {p.stem: pd.read_csv(out / p.stem / "validation.csv") for p in (a, b)}
    skills = skill_summary(tables).set_index(["scenario", "baseline"])
    for stem, table in tables.items():
        for r in skill_table(table).itertuples():
            assert skills.loc[(stem, r.baseline), "skill"] == pytest.approx(r.skill, nan_ok=True)
        quiet = table[(table["use"] == "held-out") & table["statistic"].isin(["none", "first_after"])]
        for r in skill_table(quiet).itertuples():
            assert skills.loc[(stem, r.baseline), "skill_quiet"] == pytest.approx(r.skill, nan_ok=True)
            assert skills.loc[(stem, r.baseline), "quiet_checks"] == r.held_out_checks
        held = table[table["use"] == "held-out"]
        assert (skills.loc[stem, "held_out_inside_90"] == f"{held['inside_90'].sum()} of {len(held)}").all()
    report = (out / "side_by_side.md").read_text(encoding="utf-8")
    assert "statistic is `none` or `first_after`" in report and "## Probabilities of the 0/1 checks" in report
    assert (out / "side_by_side.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [p.name for p in out.iterdir() if ".partial-" in p.name]
    results = api.load_results(out)
    assert results.kind == "side_by_side" and results.manifest["status"] == "complete"
    assert results.tables["side_by_side"].shape[0] == len(load_record(RECORD))
    for path in (a, b):
        assert f"wrote {out / path.stem}/ (validation.md" in stdout
        assert api.load_results(out / path.stem).kind == "validate"
    assert stdout.splitlines()[-1] == f"wrote {out}/ (side_by_side.md, side_by_side.html, side_by_side.csv)"
    assert "probabilities of the 0/1 checks" in stdout


@pytest.mark.slow
def test_one_scenario_writes_and_prints_as_before(two):
    folder, (a, _), _, (code, stdout, stderr, seen) = two
    assert code == 0, stderr
    single = folder / "single"
    assert sorted(p.name for p in single.iterdir() if not p.name.startswith(".")) == [
        "describe.md",
        "failures.csv",
        "manifest.json",
        "parts",
        "plots",
        "runs.parquet",
        "validation.csv",
        "validation.html",
        "validation.md",
    ]
    # The same scenario, seed and replications give the same bytes alone and side by side.
    for name in ("validation.csv", "validation.md", "runs.parquet"):
        assert (single / name).read_bytes() == (folder / "out" / a.stem / name).read_bytes(), name
    assert "## Probabilities of the 0/1 checks" in (single / "validation.md").read_text(encoding="utf-8")
    # The console report: what the command printed before it took several scenarios, to the byte.
    assert len(seen) == 1 and stdout == old_report(a, single, seen[0])
    assert "side by side" not in stdout


def old_report(scenario: Path, out: Path, result: api.ValidationResult) -> str:
    """The report of `validate` as its code made it before it took several scenarios (that
    code, given the result of the run)."""
    from sim.analysis.validation import skill_table as old_skill_table
    from sim.cli.options import failures_note, resumed
    from sim.project import shown_path

    replications, seed, record = result.manifest["replications"], result.manifest["root_seed"], RECORD
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
        f"{title}:\n{result.table.loc[rows, columns].to_string(index=False, float_format=lambda v: f'{v:.3g}')}\n"
        for title, rows in (
            ("in-sample checks (use fit, set or overlap: they tuned the model, or overlap what did)", in_sample),
            ("held-out checks", ~in_sample),
        )
        if rows.any()
    )
    skill = ""
    if result.fit is not None:
        skills = old_skill_table(result.table)
        skills["skill"] = [f"{v:+.3f}" for v in skills["skill"]]
        skill = f"{skills.to_string(index=False, float_format=lambda v: f'{v:.3g}')}\n"
    skipped = (
        f"not checked (outside the horizon): {', '.join(o.check.id for o in result.skipped)}\n"
        if result.skipped
        else ""
    )
    return (
        f"validation of {shown_path(scenario)} against {shown_path(record)}: {replications} replications, "
        f"seed {seed}, {result.manifest['elapsed_s']:.1f} s{resumed(result.manifest)}\n"
        f"{result.skill}\n{skill}{tables}{skipped}{result.summary}\n"
        f"{failures_note(result.failures, out)}wrote {out}/ (validation.md, validation.html, validation.csv, plots/fan_chart.png, runs.parquet)\n"
    )


@pytest.mark.slow
def test_the_same_command_resumes_and_other_settings_are_refused(two):
    folder, (a, b), _, _ = two
    out = folder / "out"
    before = (out / "side_by_side.csv").read_bytes()
    common = ["--replications", str(REPLICATIONS), "--workers", "1", "--quiet", "--out", out]
    code, stdout, stderr = call_main(["validate", a, b, "--seed", "3", *common])
    assert code == 0, stderr
    assert stdout.count("(resumed: ") == 2 and (out / "side_by_side.csv").read_bytes() == before
    code, stdout, stderr = call_main(["validate", a, b, "--seed", "4", *common])
    assert code == 2 and stderr.count("\n") == 1 and "other scenarios or settings" in stderr and not stdout
    assert (out / "side_by_side.csv").read_bytes() == before


def test_two_files_of_one_stem_are_refused_in_one_line_before_any_folder(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        scenario_file(tmp_path / name, "same", "continuity.toml", "2020-11-30")
    out = tmp_path / "out"
    code, stdout, stderr = call_main(
        [
            "validate",
            tmp_path / "a" / "same.toml",
            tmp_path / "b" / "same.toml",
            "--replications",
            "2",
            "--quiet",
            "--out",
            out,
        ]
    )
    assert (
        code == 2
        and stderr.count("\n") == 1
        and stderr.startswith("error: ")
        and "same file name stem 'same'" in stderr
    )
    assert not stdout and not out.exists()


def test_a_bad_second_scenario_stops_before_any_folder(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = call_main(
        [
            "validate",
            SCENARIOS / "continuity.toml",
            tmp_path / "missing.toml",
            "--replications",
            "2",
            "--quiet",
            "--out",
            out,
        ]
    )
    assert code == 2 and stderr.count("\n") == 1 and "missing.toml" in stderr and not out.exists()


def test_a_failed_start_leaves_no_folder_and_a_locked_one_is_refused(tmp_path, monkeypatch):
    paths = [SCENARIOS / "continuity.toml", SCENARIOS / "ultimatum.toml"]

    def fails(*args, **kwargs):
        raise UsageError("no workers")

    monkeypatch.setattr(sim.api.validation, "validate", fails)  # what validate_many calls for each scenario
    with pytest.raises(UsageError, match="no workers"):
        api.validate_many(
            paths, RECORD, tmp_path / "new" / "out", api.ValidationOptions(2), batch=api.BatchOptions(workers=1)
        )
    assert not (tmp_path / "new" / "out").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no workers"):
        api.validate_many(
            paths, RECORD, tmp_path / "empty", api.ValidationOptions(2), batch=api.BatchOptions(workers=1)
        )
    assert list((tmp_path / "empty").iterdir()) == []
    (tmp_path / "busy").mkdir()
    fd = lock_folder(tmp_path / "busy")
    try:
        with pytest.raises(UsageError, match="in use by process"):
            api.validate_many(
                paths, RECORD, tmp_path / "busy", api.ValidationOptions(2), batch=api.BatchOptions(workers=1)
            )
    finally:
        os.close(fd)
    assert [p.name for p in (tmp_path / "busy").iterdir()] == [LOCK]
