"""Bounds on the newer surfaces: robustness states, calibration budgets, runs by precision,
posterior files, fitted record rows; and a calibration that checks its replay before it
simulates, never overwrites what it reads, and is known by its inputs' contents (a moved
calibration folder resumes).

Each bad input is one ``error:`` line naming the file, the key, the value and the rule, exit
code 2, no traceback and no results folder, refused before any work starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import call_main

from sim.config.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
REPLAY = ROOT / "configs" / "scenarios" / "history_2020_2021.toml"
ROCKET, CONVOY = "threats.rocket.base_rate_per_day", "threats.convoy_ied.base_rate_per_day"
PRIORS = {
    ROCKET: {"family": "loguniform", "low": 0.04, "high": 0.4},
    CONVOY: {"family": "loguniform", "low": 0.05, "high": 0.5},
}
# A calibration of a few seconds: one generation of 20 particles.
SMALL_BUDGET = {
    "particles": 20,
    "max_generations": 1,
    "max_simulations": 600,
    "min_acceptance_rate": 0.05,
    "epsilon_quantile": 0.5,
    "pilot_replications": 10,
    "predictive_replications": 4,
}
HEADER = "check,statistic,kinds,from,to,trigger,days,observed_low,observed_high,use,source,note\n"
ROWS = (
    "rocket_drone_q1,count,attack_rocket+attack_drone,2020-01-01,2020-03-31,,,19,19,fit,test,\n"
    "convoy_q1,count,attack_convoy,2020-01-01,2020-03-31,,,14,14,fit,test,\n"
)


def one_error_line(code: int, stdout: str, stderr: str) -> str:
    assert code == 2, stderr
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def nothing_runs(monkeypatch):
    """Every refusal below comes before the work it guards: a states design, a batch, the
    calibration's pilot runs, or a posterior read whole would fail the test at once (the code
    before these bounds did them, and hung or ran out of memory)."""
    import sim.api.experiment
    import sim.api.run
    import sim.api.sweep
    import sim.api.validation
    from sim.calibration import inference
    from sim.design import experiment, posterior

    def must_not_run(*args, **kwargs):
        raise AssertionError("work started before the input was checked")

    batches = [(module, "run_batch") for module in (sim.api.run, sim.api.experiment, sim.api.sweep, sim.api.validation)]
    for module, name in ((experiment, "states_design"), *batches, (inference, "run_pilots")):
        monkeypatch.setattr(module, name, must_not_run)
    monkeypatch.setattr(posterior.pq, "read_table", must_not_run)


def toml_value(value) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def write_calibration(
    folder: Path, record: str = "record.csv", budget: dict | None = None, replay: Path | str = REPLAY, rows: str = ROWS
) -> Path:
    """A calibration file beside its record (named relative to it), on the baseline."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "record.csv").write_text(HEADER + rows, encoding="utf-8")
    lines = [
        "[calibration]",
        'name = "small"',
        'description = "a test calibration"',
        f"scenario = {json.dumps(str(BASELINE))}",
        f"record = {json.dumps(record)}",
        f"replay = {json.dumps(str(replay))}",
        "root_seed = 1",
    ]
    for name in ("full", "quick"):
        lines += [
            "",
            f"[calibration.{name}]",
            *(f"{k} = {toml_value(v)}" for k, v in {**SMALL_BUDGET, **(budget or {})}.items()),
        ]
    for path, entry in PRIORS.items():
        lines += ["", f'[priors."{path}"]', *(f"{k} = {toml_value(v)}" for k, v in entry.items())]
    path = folder / "calibration.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def toml_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def experiment_text(replications: int = 3, states: int | None = None) -> str:
    robust = f"states = {states}\n" if states is not None else ""
    uncertain = '[uncertain."cram.kill_prob"]\nlow = 0.3\nhigh = 0.9\n' if states is not None else ""
    return (
        f'[experiment]\nname = "bounds"\ndescription = "x"\nbase = {json.dumps(str(BASELINE))}\nreference = "a"\n'
        f'replications = {replications}\nroot_seed = 5\nend_date = 2020-02-29\noutcomes = ["us_killed"]\n{robust}\n'
        f'{uncertain}[scenarios.a]\n[scenarios.b]\nset = {{ "cram.engage_prob" = 0.5 }}\n'
    )


# --- robustness states -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "states, shown",
    [
        (10**9, "experiment.states = 1000000000 must be in [1, 100,000]"),
        (3 * 10**6, "experiment.states = 3000000 must be in [1, 100,000]"),
        (60_000, "experiment.states = 60000 with 2 options makes 120,000 scenarios"),
    ],
)
def test_robustness_states_are_bounded_before_a_state_is_designed(states, shown, tmp_path, nothing_runs):
    path = toml_file(tmp_path / "rob.toml", experiment_text(states=states))
    line = one_error_line(*call_main(["experiment", path, "--out", tmp_path / "out", "--quiet"]))
    assert shown in line and str(path) in line and "16 ms" in line, line
    assert not (tmp_path / "out").exists()


def test_robustness_states_times_options_times_replications_is_held_to_the_batch_bound(tmp_path, nothing_runs):
    path = toml_file(tmp_path / "rob.toml", experiment_text(replications=200, states=40_000))
    line = one_error_line(*call_main(["experiment", path, "--out", tmp_path / "out", "--quiet"]))
    assert (
        "80000 scenarios x 200 replications = 16,000,000 runs" in line and "10,000,000" in line and str(path) in line
    ), line
    assert not (tmp_path / "out").exists()


# --- calibration budgets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, bound",
    [("particles", 10**9, "100,000"), ("max_simulations", 10**12, "10,000,000"), ("max_generations", 10**9, "1,000")],
)
def test_calibration_budgets_have_upper_bounds(key, value, bound, tmp_path, nothing_runs):
    budget = {key: value} if key != "particles" else {key: value, "max_simulations": 3 * value}
    path = write_calibration(tmp_path / "study", budget=budget)
    line = one_error_line(*call_main(["calibrate", path, "--quick", "--out", tmp_path / "out", "--quiet"]))
    assert f"{key} = {value} must be in [" in line and bound in line and str(path) in line, line
    assert not (tmp_path / "out").exists()


# --- runs by precision -------------------------------------------------------------------------


def test_precision_budget_is_held_to_the_batch_bound_before_the_first_stage(tmp_path, nothing_runs):
    path = toml_file(tmp_path / "experiment.toml", experiment_text())
    line = one_error_line(
        *call_main(
            [
                "experiment",
                path,
                "--precision",
                "us_killed=0.001",
                "--max-replications",
                "6000000",
                "--out",
                tmp_path / "out",
                "--quiet",
            ]
        )
    )
    assert (
        "max_replications = 6000000 must be at most 5,000,000" in line
        and "12,000,000 runs" in line
        and str(path) in line
    ), line
    assert not (tmp_path / "out").exists()


def test_precision_stages_never_pass_the_batch_bounds():
    from sim.config.limits import BATCH_RUNS, REPLICATIONS
    from sim.design.precision import precision_for

    # the default budget (eight times the start) is held within the bounds
    spec = precision_for({"us_killed": 0.1}, None, 2_000_000, ["us_killed"], 2, "experiment.toml")
    assert max(spec.stages(2_000_000)) * 2 <= BATCH_RUNS.most
    spec = precision_for({"us_killed": 0.1}, None, 3_000_000, ["us_killed"], 2, "experiment.toml")
    assert max(spec.stages(3_000_000)) <= min(REPLICATIONS.most, BATCH_RUNS.most // 2)
    with pytest.raises(ConfigError, match="max_replications = 20000000 must be at most 5,000,000"):
        precision_for({"us_killed": 0.1}, 20_000_000, 5, ["us_killed"], 2, "experiment.toml")


# --- posterior files ---------------------------------------------------------------------------


def test_a_posterior_of_too_many_rows_is_refused_before_it_is_read(tmp_path, nothing_runs):
    from sim.design import posterior

    path = tmp_path / "posterior.parquet"
    rows = 1_000_001
    pq.write_table(pa.table({"weight": np.ones(rows), ROCKET: np.full(rows, 0.1)}), path)  # a few kB: constant columns
    assert path.stat().st_size < 2**20
    with pytest.raises(ConfigError) as caught:
        posterior.read_posterior(path, "parameters_from", "experiment.toml")
    text = str(caught.value)
    assert "1,000,001 rows" in text and "1,000,000" in text and str(path) in text and "experiment.toml" in text, text


def test_a_posterior_of_too_many_rows_is_one_line_from_an_experiment(tmp_path, nothing_runs):
    path = tmp_path / "posterior.parquet"
    rows = 1_000_001
    pq.write_table(pa.table({"weight": np.ones(rows), ROCKET: np.full(rows, 0.1)}), path)
    text = experiment_text().replace(
        'outcomes = ["us_killed"]', 'outcomes = ["us_killed"]\nparameters_from = "posterior.parquet"'
    )
    experiment = toml_file(tmp_path / "experiment.toml", text)
    line = one_error_line(*call_main(["experiment", experiment, "--out", tmp_path / "out", "--quiet"]))
    assert "parameters_from" in line and "1,000,001 rows" in line and str(experiment) in line, line
    assert not (tmp_path / "out").exists()


def test_a_posterior_of_too_many_columns_is_refused(tmp_path):
    from sim.design.posterior import read_posterior

    path = tmp_path / "posterior.parquet"
    pq.write_table(pa.table({"weight": [1.0], **{f"p{i}": [0.1] for i in range(10_001)}}), path)
    with pytest.raises(ConfigError, match="10,002 columns"):
        read_posterior(path, "parameters_from", "experiment.toml")


# --- record dates ------------------------------------------------------------------------------


def test_a_record_row_dated_centuries_ahead_is_refused(tmp_path):
    from sim.calibration.public_record import load_record

    path = toml_file(tmp_path / "record.csv", HEADER + ROWS.replace("2020-03-31,,,14", "2900-03-31,,,14"))
    with pytest.raises(ConfigError) as caught:
        load_record(path)
    text = str(caught.value)
    assert "row 3: to = '2900-03-31'" in text and "2099-12-31" in text and str(path) in text, text


def test_a_fitted_row_beyond_the_calibration_scenario_is_one_line(tmp_path, nothing_runs):
    """A fitted row sets the horizon of every simulation of the inference: one that ends after
    the calibration's scenario (the baseline ends on 2020-12-31) is refused, naming the row."""
    path = write_calibration(tmp_path / "study", rows=ROWS.replace("2020-03-31,,,14", "2090-03-31,,,14"))
    line = one_error_line(*call_main(["calibrate", path, "--quick", "--out", tmp_path / "out", "--quiet"]))
    assert "row 3: to = '2090-03-31'" in line and "2020-12-31" in line and "record.csv" in line, line
    assert not (tmp_path / "out").exists()


# --- calibrate checks its replay and its outputs before it simulates ------------------------------


def test_a_replay_that_does_not_load_stops_calibrate_before_any_simulation(tmp_path, nothing_runs):
    replay = toml_file(tmp_path / "replay.toml", f"extends = {json.dumps(str(BASELINE))}\n[cram]\nkill_prob = 1.5\n")
    path = write_calibration(tmp_path / "study", replay=replay)
    line = one_error_line(*call_main(["calibrate", path, "--quick", "--out", tmp_path / "out", "--quiet"]))
    assert "cram.kill_prob = 1.5" in line and str(replay) in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", ["replay", "record", "calibration", "hard link to the replay"])
def test_calibrated_may_not_overwrite_what_the_calibration_reads(target, tmp_path, nothing_runs):
    replay = toml_file(tmp_path / "replay.toml", f"extends = {json.dumps(str(REPLAY))}\n")
    path = write_calibration(tmp_path / "study", replay=replay)
    before = replay.read_bytes()
    if target == "hard link to the replay":
        written = tmp_path / "linked.toml"
        written.hardlink_to(replay)
    else:
        written = {"replay": replay, "record": path.parent / "record.csv", "calibration": path}[target]
    line = one_error_line(
        *call_main(["calibrate", path, "--quick", "--out", tmp_path / "out", "--calibrated", written, "--quiet"])
    )
    assert "--calibrated" in line and "would overwrite" in line and str(written) in line, line
    assert not (tmp_path / "out").exists() and replay.read_bytes() == before
    with pytest.raises(UsageError, match="would overwrite"):
        from sim import api

        api.calibrate(path, tmp_path / "out", api.CalibrationOptions(quick=True, calibrated=written))
    assert not (tmp_path / "out").exists()


# --- a calibration folder is known by its inputs' contents ------------------------------------------


@pytest.mark.slow
def test_a_moved_calibration_folder_resumes(tmp_path):
    """A study folder (the calibration file, its record named relative to it, and the results)
    moved elsewhere is the same calibration: running it again recognises its folder."""
    from sim.calibration.inference import run_inference
    from sim.calibration.settings import load_calibration

    first = tmp_path / "first"
    path = write_calibration(first)
    done = run_inference(load_calibration(path), first / "out", quick=True, workers=1)
    moved = tmp_path / "moved"
    first.rename(moved)
    again = run_inference(load_calibration(moved / "calibration.toml"), moved / "out", quick=True, workers=1)
    assert again.manifest["fingerprint"] == done.manifest["fingerprint"]
    assert again.progress.simulations == done.progress.simulations
    pd.testing.assert_frame_equal(again.values, done.values)
