"""Replications by precision (``experiment --precision OUTCOME=HALF_WIDTH``).

The count a precision run chooses depends only on its results: a run to a precision gives the
same runs.parquet, byte for byte, as a fixed run of the count it chose, with one worker or two.
The stages, the stopping rule, the budget and bad requests are checked without simulation
where they can be. Every experiment here is tiny (three scenarios, three months).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from builders import call_main

from sim import api
from sim.analysis.precision import half_widths
from sim.config.errors import ConfigError, UsageError
from sim.design.precision import Precision, precision_for

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
EXPERIMENT = f"""
[experiment]
name = "precision_test"
description = "precision test"
base = "{BASELINE.as_posix()}"
reference = "base"
replications = 4
root_seed = 77
chunk_size = 3
end_date = 2020-03-31
outcomes = ["attacks_rocket", "attacks_convoy", "us_wounded"]

[scenarios.base]
set = {{}}

[scenarios.more_rockets]
set = {{ "threats.rocket.base_rate_per_day" = 0.25 }}

[scenarios.more_convoys]
set = {{ "threats.convoy_ied.base_rate_per_day" = 0.3 }}
"""
MAX_REPLICATIONS = 80  # above the count these targets need (64 with seed 77), so precision, not the cap, decides it
TARGETS = [
    "--precision",
    "attacks_rocket=3",
    "--precision",
    "attacks_convoy=4",
    "--max-replications",
    str(MAX_REPLICATIONS),
]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("precision") / "precision.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def run(experiment: Path, out: Path, *options: str) -> str:
    code, stdout, stderr = call_main(["experiment", experiment, "--out", out, "--quiet", *options])
    assert code == 0, stderr
    return stdout


# ------------------------------------------------------------------------- without simulation


def test_stages_double_from_the_start_up_to_the_budget():
    assert Precision({"us_killed": 0.1}, 40).stages(4) == [4, 8, 16, 32, 40]
    assert Precision({"us_killed": 0.1}, 32).stages(4) == [4, 8, 16, 32]
    assert Precision({"us_killed": 0.1}, 4).stages(4) == [4]


def test_a_half_width_is_reached_when_the_interval_is_no_wider_than_twice_it():
    comparison = pd.DataFrame(
        {
            "scenario": ["a", "a", "b"],
            "outcome": ["x", "y", "x"],
            "n_pairs": [10, 10, 1],
            "diff_ci95_low": [-1.0, 0.0, float("nan")],
            "diff_ci95_high": [1.0, 3.0, float("nan")],
        }
    )
    table = half_widths(comparison, {"x": 1.0, "y": 1.0})
    assert table["half_width"].tolist()[:2] == [1.0, 1.5]
    assert table["reached"].tolist() == [True, False, False]  # an interval not computed is not reached


@pytest.mark.parametrize(
    "targets, budget, rule",
    [
        ({"us_killd": 0.05}, None, "must name an outcome of the experiment"),
        ({"us_killed": 0.0}, None, "must be a number > 0"),
        ({"us_killed": float("nan")}, None, "must be a number > 0"),
        ({}, None, "must name at least one outcome"),
        ({"us_killed": 0.05}, 3, "must be an integer >= the experiment's replications (4)"),
    ],
)
def test_a_bad_precision_request_names_the_key_the_value_and_the_rule(targets, budget, rule):
    with pytest.raises(ConfigError) as error:
        precision_for(targets, budget, 4, ["us_killed"], 2, "exp.toml")
    assert rule in str(error.value) and "(exp.toml)" in str(error.value)


# ---------------------------------------------------------------------------- with simulation


@pytest.mark.parametrize(
    "option", ["us_wounded", "us_wounded=", "=0.1", "us_wounded=-1", "us_wounded=abc", "us_wounded=inf"]
)
def test_a_malformed_precision_is_one_line_and_exit_2(experiment, tmp_path, option):
    code, stdout, stderr = call_main(["experiment", experiment, "--out", tmp_path / "out", "--precision", option])
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert stderr.splitlines() == [stderr.strip()] and "OUTCOME=HALF_WIDTH" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--precision", "us_killed=0.1"], "precision = 'us_killed' must name an outcome of the experiment"),
        (["--precision", "us_wounded=1", "--max-replications", "2"], "max_replications = 2 must be an integer >= "),
        (["--max-replications", "8"], "max_replications applies only to a run by precision"),
    ],
)
def test_a_precision_the_experiment_cannot_meet_is_one_line_and_exit_2(experiment, tmp_path, options, message):
    code, stdout, stderr = call_main(["experiment", experiment, "--out", tmp_path / "out", *options])
    assert code == 2 and len(stderr.splitlines()) == 1 and message in stderr, stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_when_the_budget_runs_out_first_the_report_and_the_console_say_so(experiment, tmp_path):
    out = tmp_path / "out"
    stdout = run(experiment, out, "--precision", "attacks_rocket=0.001", "--max-replications", "6", "--workers", "1")
    assert "replications by precision: 6 per scenario (stages 4 -> 6); the budget of 6 ran out" in stdout
    assert stdout.startswith("precision_test: 3 scenarios x 6 replications")
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["precision"]
    assert manifest["replications"] == 6 and record["budget_exhausted"] and record["stages"] == [4, 6]
    # more convoys leave the rockets as they are (common random numbers): a difference of exactly 0
    assert [(r["scenario"], r["reached"]) for r in record["half_widths"]] == [
        ("more_rockets", False),
        ("more_convoys", True),
    ]
    assert "the budget of 6 ran out" in (out / "report.md").read_text()
    assert pd.read_parquet(out / "runs.parquet").groupby("scenario").size().tolist() == [6, 6, 6]


@pytest.mark.slow
def test_a_precision_run_gives_the_bytes_of_a_fixed_run_of_the_count_it_chose(experiment, tmp_path):
    """The chosen count depends only on the results: 1 or 2 workers choose the same n, and
    runs.parquet is byte-identical to a fixed run of n replications."""
    one = run(experiment, tmp_path / "one", *TARGETS, "--workers", "1")
    two = run(experiment, tmp_path / "two", *TARGETS, "--workers", "2")
    record = json.loads((tmp_path / "one" / "manifest.json").read_text())["precision"]
    n = record["replications"]
    assert record["stages"][-1] == n and 4 < n < MAX_REPLICATIONS and not record["budget_exhausted"]
    assert all(r["reached"] and r["half_width"] <= r["target"] for r in record["half_widths"])
    assert f"replications by precision: {n} per scenario" in one and "every half-width reached" in one
    run(experiment, tmp_path / "fixed", "--replications", str(n), "--workers", "1")
    fixed = (tmp_path / "fixed" / "runs.parquet").read_bytes()
    assert (tmp_path / "one" / "runs.parquet").read_bytes() == fixed
    assert (tmp_path / "two" / "runs.parquet").read_bytes() == fixed
    assert one.splitlines()[1:-1] == two.splitlines()[1:-1]  # all but the timing and the folder
    # the folder is a finished run of n: a fixed run of n resumes it as complete
    again = run(experiment, tmp_path / "one", "--replications", str(n), "--workers", "1")
    assert f"resumed: {3 * -(-n // 3)} chunks were already done" in again


@pytest.mark.slow
def test_api_run_experiment_by_precision(experiment, tmp_path):
    result = api.run_experiment(
        experiment,
        tmp_path / "out",
        api.ExperimentOptions(precision={"attacks_rocket": 1e-6}, max_replications=5),
        api.BatchOptions(workers=1),
    )
    assert result.manifest["precision"]["replications"] == 5 and result.manifest["precision"]["budget_exhausted"]
    assert len(result.runs) == 15
    with pytest.raises(UsageError):
        api.run_experiment(
            experiment, tmp_path / "other", api.ExperimentOptions(max_replications=8), api.BatchOptions(workers=1)
        )


@pytest.mark.slow
def test_a_folder_of_another_experiment_is_refused_even_by_precision(experiment, tmp_path):
    out = tmp_path / "out"
    run(experiment, out, "--workers", "1")
    other = tmp_path / "other.toml"
    other.write_text(EXPERIMENT.replace("root_seed = 77", "root_seed = 78"), encoding="utf-8")
    code, _, stderr = call_main(["experiment", other, "--out", out, "--quiet", "--precision", "attacks_rocket=3"])
    assert code == 2 and "holds results of a different batch" in stderr


@pytest.mark.slow
def test_a_precision_run_keeps_its_folder_locked_between_stages_and_through_its_report(
    experiment, tmp_path, monkeypatch
):
    import os

    import sim.api.experiment
    from sim.batch.folder import lock_folder

    out, refused, taken = tmp_path / "out", [], []

    def another_process_tries(when: str) -> None:  # flock: another open file, as another process's
        try:
            os.close(lock_folder(out))
            taken.append(when)
        except UsageError:
            refused.append(when)

    def run_batch(*args, **kwargs):
        result = original(*args, **kwargs)
        another_process_tries(f"after the stage of {args[0].replications}")
        return result

    def write_html(path):
        another_process_tries("while the report is written")
        return original_html(path)

    original, original_html = sim.api.experiment.run_batch, sim.api.experiment.write_html
    monkeypatch.setattr(sim.api.experiment, "run_batch", run_batch)
    monkeypatch.setattr(sim.api.experiment, "write_html", write_html)
    result = api.run_experiment(
        experiment,
        out,
        api.ExperimentOptions(precision={"attacks_rocket": 1e-6}, max_replications=12),
        api.BatchOptions(workers=1),
    )
    assert result.manifest["precision"]["stages"] == [4, 8, 12] and result.manifest["status"] == "complete"
    assert not taken and len(refused) == 4, (taken, refused)
    os.close(lock_folder(out))  # released at the end
