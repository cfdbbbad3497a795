"""What a results folder promises whoever reads it: ``complete`` only once every file is written
(the reports of ``validate`` included), ``compare`` only of a finished experiment, tables whose
cells a spreadsheet will not run, reports whose free text stays text, and figures whose axes a
long name cannot crush."""

from __future__ import annotations

import errno
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import BASELINE_PATH, call_main, two_option_experiment

import sim.analysis.decision_plots
import sim.analysis.report
import sim.analysis.validation
import sim.api.experiment
import sim.api.validation
import sim.batch.runner
from sim.analysis.compare import paired_differences
from sim.analysis.figures import LABEL_CHARACTERS
from sim.analysis.summary import summarise
from sim.analysis.sweep import sweep_figure
from sim.config.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "configs" / "data" / "public_record.csv"
REPLAY = ROOT / "configs" / "scenarios" / "history_2020_2021.toml"
SCENARIOS = ROOT / "configs" / "scenarios"
HOSTILE = "[x](javascript:alert(1)) <script>alert(2)</script> ![](../../etc/passwd) a|b *loud* `code`"
LONG = "a_very_long_scenario_name_" * 12  # 312 characters
SMALLEST_AXES = 0.1  # of the figure's width (a quarter of it in height): what an axes keeps beside a long label


def status(out: Path) -> str:
    return json.loads((out / "manifest.json").read_text())["status"]


def no_space(path, *args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def small_record(folder: Path, rows: int = 1, **columns: object) -> Path:
    """The first ``rows`` fit rows of the project's record (inside the replay's horizon), with ``columns`` set."""
    frame = pd.read_csv(RECORD, dtype=str, keep_default_na=False)
    frame = frame[frame["use"] == "fit"].head(rows).assign(**columns)
    path = folder / "record.csv"
    frame.to_csv(path, index=False)
    return path


# --- compare reads a finished experiment only -----------------------------------------------


@pytest.mark.slow
def test_compare_refuses_a_run_by_precision_stopped_between_stages_and_the_command_finishes_it(tmp_path, monkeypatch):
    file, out = two_option_experiment(tmp_path, "stages", "by precision", 4), tmp_path / "out"
    argv = [
        "experiment",
        file,
        "--out",
        out,
        "--workers",
        "1",
        "--quiet",
        "--precision",
        "attacks_rocket=0.5",
        "--max-replications",
        "8",
    ]
    calls = []

    def killed_in_the_second_stage(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as Ctrl-C between the stages
        return original(*args, **kwargs)

    original, reached = sim.api.experiment.run_batch, sim.api.experiment.half_widths
    with monkeypatch.context() as patch:
        patch.setattr(sim.api.experiment, "run_batch", killed_in_the_second_stage)
        patch.setattr(
            sim.api.experiment, "half_widths", lambda *a: reached(*a).assign(reached=False)
        )  # the first stage is not enough
        code, _, stderr = call_main(argv)
    assert code == 130, stderr
    partial = status(out)
    assert (out / "runs.parquet").exists() and partial != "complete"

    code, stdout, stderr = call_main(["compare", out])
    assert code == 2 and stdout == "" and len(stderr.splitlines()) == 1, stderr
    assert str(out) in stderr and f"status {partial!r}" in stderr and "again with the same --out" in stderr
    assert not (out / "report.md").exists() and not (out / "summary.csv").exists() and status(out) == partial

    code, _, stderr = call_main(argv)  # the same command finishes it
    assert code == 0, stderr
    assert status(out) == "complete" and (out / "report.html").exists()
    assert call_main(["compare", out])[0] == 0 and status(out) == "complete"


def test_compare_refuses_a_folder_still_running(tmp_path):
    file, out = two_option_experiment(tmp_path, "running", "killed", 2), tmp_path / "out"
    assert call_main(["experiment", file, "--out", out, "--workers", "1", "--quiet"])[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(
        json.dumps({**manifest, "status": "running"})
    )  # as a run killed mid-batch leaves it
    (out / "report.md").unlink()
    code, _, stderr = call_main(["compare", out])
    assert code == 2 and len(stderr.splitlines()) == 1 and "status 'running'" in stderr, stderr
    assert not (out / "report.md").exists() and status(out) == "running"


def test_compare_refuses_a_finished_manifest_without_the_checksum_of_its_runs(tmp_path):
    file, out = two_option_experiment(tmp_path, "checksum", "edited", 2), tmp_path / "out"
    assert call_main(["experiment", file, "--out", out, "--workers", "1", "--quiet"])[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "checksums": {}}))  # runs.parquet could be anything
    code, _, stderr = call_main(["compare", out])
    assert code == 2 and len(stderr.splitlines()) == 1 and "records no checksum of runs.parquet" in stderr, stderr


# --- validate writes complete last -----------------------------------------------------------


@pytest.mark.slow
def test_a_validation_whose_report_failed_is_not_complete_until_the_command_runs_again(tmp_path, monkeypatch):
    out, record = tmp_path / "out", small_record(tmp_path)
    argv = ["validate", REPLAY, "--record", record, "--replications", "2", "--workers", "1", "--quiet", "--out", out]
    with monkeypatch.context() as patch:
        patch.setattr(sim.api.validation, "write_html", no_space)  # the disk fills while validation.html is written
        code, _, stderr = call_main(argv)
    assert code == 1 and "No space left" in stderr, stderr
    assert (out / "runs.parquet").exists() and not (out / "validation.html").exists()
    assert status(out) != "complete"
    with pytest.raises(UsageError, match="unfinished"):
        sim.api.load_results(out)

    code, _, stderr = call_main(argv)
    assert code == 0, stderr
    assert (out / "validation.html").exists() and status(out) == "complete"
    assert sim.api.load_results(out).kind == "validate"


@pytest.mark.slow
def test_validate_writes_its_files_under_its_lock(tmp_path, monkeypatch):
    from sim.batch.folder import lock_folder

    out, refused = tmp_path / "out", []

    def another_process_tries(path, *args, **kwargs):
        try:
            os.close(lock_folder(out))  # flock: another open file, as another process's
        except UsageError:
            refused.append(path)
        return original(path, *args, **kwargs)

    original = sim.api.validation.write_html
    monkeypatch.setattr(sim.api.validation, "write_html", another_process_tries)
    code, _, stderr = call_main(
        [
            "validate",
            REPLAY,
            "--record",
            small_record(tmp_path),
            "--replications",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            out,
        ]
    )
    assert code == 0, stderr
    assert refused, "another process could take the folder's lock while its report was written"


@pytest.mark.slow
def test_a_side_by_side_whose_report_failed_is_not_complete_until_the_command_runs_again(tmp_path, monkeypatch):
    import sim.analysis.side_by_side

    files = []
    for stem, end in (("first", "2020-12-31"), ("second", "2020-11-30")):
        path = tmp_path / f"{stem}.toml"
        path.write_text(
            f'extends = "{SCENARIOS / "history_2020_2021.toml"}"\n\n[scenario]\nname = "{stem}"\nend_date = {end}\n',
            encoding="utf-8",
        )
        files.append(path)
    out = tmp_path / "out"
    argv = [
        "validate",
        *files,
        "--record",
        small_record(tmp_path),
        "--replications",
        "2",
        "--workers",
        "1",
        "--quiet",
        "--out",
        out,
    ]
    with monkeypatch.context() as patch:
        patch.setattr(sim.analysis.side_by_side, "write_html", no_space)  # side_by_side.html
        code, _, stderr = call_main(argv)
    assert code == 1 and "No space left" in stderr, stderr
    assert status(out) != "complete" and all(status(out / stem) == "complete" for stem in ("first", "second"))
    with pytest.raises(UsageError, match="unfinished"):
        sim.api.load_results(out)
    code, _, stderr = call_main(argv)
    assert code == 0, stderr
    assert status(out) == "complete" and sim.api.load_results(out).kind == "side_by_side"


# --- free text stays text ---------------------------------------------------------------------


def assert_text_only(markdown: str, html: str) -> None:
    """No link, image, emphasis, code or raw HTML made of the hostile text, in Markdown or HTML:
    the text shows as written."""
    outside_code = re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", "", markdown)  # a code span shows its text as written
    assert "](javascript" not in outside_code and "<script" not in outside_code and "![](" not in outside_code
    assert "*loud*" not in outside_code.replace("\\*loud\\*", "")
    lowered = html.lower()
    assert "<script>alert" not in lowered and 'href="javascript' not in lowered
    assert "passwd" not in "".join(re.findall(r"<img[^>]*>", lowered))
    assert "<em>loud</em>" not in lowered and "<code>code</code>" not in lowered and "&lt;script&gt;" in lowered


def table_rows_split_evenly(markdown: str) -> None:
    """Every row of every Markdown table has as many cells as its header."""
    cells = lambda line: len(re.findall(r"(?<!\\)((?:\\\\)*)\|", line))  # noqa: E731
    for block in re.findall(r"((?:^\|.*\n)+)", markdown, re.M):
        lines = block.splitlines()
        assert all(cells(line) == cells(lines[0]) for line in lines), block


@pytest.mark.slow
def test_free_text_of_the_record_is_text_in_validation_md_html_and_csv(tmp_path, monkeypatch):
    frame = pd.read_csv(RECORD, dtype=str, keep_default_na=False)
    frame = frame[frame["use"] == "fit"].head(2).reset_index(drop=True)
    frame.loc[0, "source"] = HOSTILE + " | # heading"
    frame.loc[1, "source"] = '=HYPERLINK("http://example.com","x")'
    frame.loc[1, "check"] = "__loud__." + "long" * 75  # a check id of 309 characters, emphasis if read as Markdown
    record = tmp_path / "record.csv"
    frame.to_csv(record, index=False)
    figures = []
    save = sim.analysis.validation.save_figure
    monkeypatch.setattr(
        sim.analysis.validation, "save_figure", lambda fig, path: figures.append(fig) or save(fig, path)
    )
    out = tmp_path / "out"
    code, _, stderr = call_main(
        ["validate", REPLAY, "--record", record, "--replications", "2", "--workers", "1", "--quiet", "--out", out]
    )
    assert code == 0, stderr
    markdown = (out / "validation.md").read_text(encoding="utf-8")
    assert_text_only(markdown, (out / "validation.html").read_text(encoding="utf-8"))
    table_rows_split_evenly(markdown)
    assert "__loud__" not in markdown and "\\_\\_loud\\_\\_" in markdown
    sources = markdown.split("## Sources\n\n")[1].split("\n\n")[0].splitlines()
    assert len(sources) == 2 and all(line.startswith("- ") for line in sources)
    written = pd.read_csv(out / "validation.csv", dtype=str, keep_default_na=False)
    assert written.loc[1, "source"] == '\'=HYPERLINK("http://example.com","x")'
    (fan,) = figures
    assert_axes_kept(fan)


@pytest.mark.slow
def test_free_text_of_file_names_is_text_in_side_by_side_md_and_html(tmp_path):
    files = []
    for stem, name, end in ((HOSTILE.replace("/", "_"), "hostile", "2020-12-31"), ("plain", "plain", "2020-11-30")):
        path = tmp_path / f"{stem}.toml"
        path.write_text(
            f'extends = "{SCENARIOS / "history_2020_2021.toml"}"\n\n[scenario]\nname = "{name}"\nend_date = {end}\n',
            encoding="utf-8",
        )
        files.append(path)
    out = tmp_path / "out"
    code, _, stderr = call_main(
        [
            "validate",
            *files,
            "--record",
            small_record(tmp_path, 2),
            "--replications",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            out,
        ]
    )
    assert code == 0, stderr
    markdown = (out / "side_by_side.md").read_text(encoding="utf-8")
    assert_text_only(markdown, (out / "side_by_side.html").read_text(encoding="utf-8"))
    table_rows_split_evenly(markdown)


def test_failures_csv_does_not_copy_a_formula(tmp_path, monkeypatch):
    path = tmp_path / "exp.toml"
    path.write_text(f"""
[experiment]
name = "formulas"
description = "a failure that reads as a formula"
base = "{BASELINE_PATH}"
reference = "a"
replications = 2
root_seed = 5
chunk_size = 2
end_date = 2020-01-10
outcomes = ["attacks_rocket"]

[scenarios.a]

[scenarios.-A1]
""")
    original = sim.batch.runner.replicate

    def failing(scenario, replication, seed, checks=()):
        if replication == 1:
            raise ValueError('=HYPERLINK("http://example.com")')
        return original(scenario, replication, seed, checks)

    monkeypatch.setattr(sim.batch.runner, "replicate", failing)
    out = tmp_path / "out"
    code, _, stderr = call_main(["experiment", path, "--out", out, "--workers", "1", "--quiet"])
    assert code == 0, stderr
    failures = pd.read_csv(out / "failures.csv", dtype=str, keep_default_na=False)
    assert sorted(failures["scenario"]) == ["'-A1", "a"]  # '-A1' a spreadsheet reads as minus cell A1
    for column in failures.columns:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in failures[column]), column


# --- long names do not crush a figure ---------------------------------------------------------


def assert_axes_kept(fig) -> None:
    """The layout holds: matplotlib does not give it up (axes collapsed to nothing), every axes
    with data keeps a fair share of the figure, and every tick label is short and inside it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="constrained_layout not applied")  # axes sizes collapsed to zero
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if not ax.axison:
            continue
        box = ax.get_position()
        assert box.width >= SMALLEST_AXES and box.height >= SMALLEST_AXES / 4, (ax.get_title(), box)
        for tick in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            if not tick.get_visible() or not tick.get_text():
                continue
            assert len(tick.get_text()) <= LABEL_CHARACTERS + 20, tick.get_text()
            if not any(c.isalpha() for c in tick.get_text()):
                continue  # a number: matplotlib lists ticks beyond the axis' range too, undrawn
            extent = tick.get_window_extent(renderer)
            assert extent.x0 >= -1 and extent.x1 <= fig.bbox.width + 1 and extent.y0 >= -1, (tick.get_text(), extent)


def test_a_300_character_scenario_name_leaves_the_report_s_figures_their_axes(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    n, frames = 30, []
    for shift, scenario in enumerate(["continuity", LONG, LONG + "_too"]):
        frames.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "replication": np.arange(n),
                    "seed": 5,
                    "us_killed": rng.poisson(2.0 + shift, n).astype(np.int64),
                    "embassy_closed": rng.uniform(0, 1, n) < 0.2 * shift,
                }
            )
        )
    runs = pd.concat(frames, ignore_index=True)
    outcomes = ["us_killed", "embassy_closed"]
    figures = []
    for module in (sim.analysis.report, sim.analysis.decision_plots):
        save = module.save_figure
        monkeypatch.setattr(module, "save_figure", lambda fig, path, save=save: figures.append(fig) or save(fig, path))
    path = sim.analysis.report.write_report(
        tmp_path,
        runs,
        summarise(runs, outcomes),
        paired_differences(runs, "continuity", outcomes),
        outcomes,
        "continuity",
        "long names",
    )
    assert len(figures) >= 3
    for fig in figures:
        assert_axes_kept(fig)
    text = path.read_text(encoding="utf-8")
    assert LONG in text  # the tables keep the full name


def test_long_categorical_values_leave_a_sweep_figure_its_axes():
    points = pd.DataFrame({"policy.us.doctrine": [LONG, LONG + "2", "short"], "us_killed": [1.0, 2.0, 3.0]})
    fig = sweep_figure(points, "policy.us.doctrine", "us_killed")
    assert_axes_kept(fig)
    shown = [tick.get_text() for tick in fig.axes[0].get_xticklabels()]
    assert len(set(shown)) == 3 and "short" in shown  # values alike after the cut stay apart
