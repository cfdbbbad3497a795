"""``api.load_results``: every kind of results folder the project writes reads back, with the
tables its command wrote; a damaged, unfinished or foreign folder is one UsageError.

Folders come from tiny runs (two or three replications of three months); the calibration
folder is made from its files, as a calibration takes minutes.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.batch.folder import sha256_of, write_json
from sim.config.errors import UsageError
from sim.design.posterior import write_posterior

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
SHORT = {"scenario.end_date": date(2020, 3, 31)}
EXPERIMENT = f"""
[experiment]
name = "load_test"
description = "load test"
base = "{BASELINE.as_posix()}"
reference = "base"
replications = 3
root_seed = 5
end_date = 2020-03-31
outcomes = ["attacks_rocket", "attacks_convoy"]

[scenarios.base]
set = {{}}

[scenarios.more_rockets]
set = {{ "threats.rocket.base_rate_per_day" = 0.25 }}
"""
SWEEP = f"""
[sweep]
name = "load_sweep"
description = "load test"
base = "{BASELINE.as_posix()}"
design = "grid"
replications = 2
root_seed = 9
end_date = 2020-03-31
outcomes = ["attacks_rocket"]

[parameters."threats.rocket.base_rate_per_day"]
values = [0.1, 0.3]
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    api.run_scenario(
        api.load_scenario(BASELINE, SHORT), replications=3, seed=2, out=out, batch=api.BatchOptions(workers=1)
    )
    return out


def test_a_run_folder(run_folder):
    results = api.load_results(run_folder)
    assert results.kind == "run" and results.folder == run_folder
    assert results.manifest["replications"] == 3 and results.manifest["status"] == "complete"
    assert results.runs["replication"].tolist() == [0, 1, 2]
    assert results.runs.equals(pd.read_parquet(run_folder / "runs.parquet"))
    assert set(results.summary["outcome"]) >= {"attacks_rocket", "us_killed"}
    assert results.failures.empty and results.comparison is None and results.uncertainty is None


def test_an_experiment_folder(tmp_path):
    file = tmp_path / "experiment.toml"
    file.write_text(EXPERIMENT, encoding="utf-8")
    written = api.run_experiment(file, tmp_path / "out", batch=api.BatchOptions(workers=1))
    results = api.load_results(tmp_path / "out")
    assert results.kind == "experiment"
    assert results.runs.equals(written.runs)
    assert results.comparison[["scenario", "outcome"]].values.tolist() == [
        ["more_rockets", "attacks_rocket"],
        ["more_rockets", "attacks_convoy"],
    ]
    assert results.comparison["mean_diff"].to_numpy() == pytest.approx(
        written.comparison["mean_diff"].to_numpy(), rel=1e-5
    )
    assert len(results.summary) == 4 and results.manifest["reference"] == "base"


@pytest.mark.slow
def test_a_sweep_folder(tmp_path):
    file = tmp_path / "sweep.toml"
    file.write_text(SWEEP, encoding="utf-8")
    api.run_sweep(file, tmp_path / "out", batch=api.BatchOptions(workers=1))
    results = api.load_results(tmp_path / "out")
    assert results.kind == "sweep" and results.summary is None
    assert results.tables["points"]["threats.rocket.base_rate_per_day"].tolist() == [0.1, 0.3]
    assert sorted(results.runs["scenario"].unique()) == ["point-0000", "point-0001"]


@pytest.mark.slow
def test_a_validation_folder(tmp_path):
    api.validate(
        ROOT / "configs" / "scenarios" / "history_2020_2021.toml",
        ROOT / "configs" / "data" / "public_record.csv",
        tmp_path / "out",
        api.ValidationOptions(replications=2, overrides=["scenario.end_date=2020-06-30"]),
        batch=api.BatchOptions(workers=1),
    )
    results = api.load_results(tmp_path / "out")
    assert results.kind == "validate" and len(results.runs) == 2
    assert {"check", "observed_low", "inside_90"} <= set(results.tables["validation"].columns)


def fake_calibration(out: Path) -> None:
    """The files a finished calibration leaves (without its database and plots)."""
    out.mkdir(parents=True)
    values = pd.DataFrame({"cram.kill_prob": [0.5, 0.6, 0.7]})
    write_posterior(out / "posterior.parquet", values, np.array([0.2, 0.5, 0.3]), {"root_seed": 1})
    pd.DataFrame({"parameter": ["cram.kill_prob"], "posterior_median": [0.6]}).to_csv(
        out / "parameters.csv", index=False
    )
    pd.DataFrame({"generation": [0, 1], "epsilon": [2.0, 1.0]}).to_csv(out / "generations.csv", index=False)
    write_json(out / "manifest.json", {"kind": "calibration", "name": "fake", "status": "complete"})


def test_a_calibration_folder(tmp_path):
    fake_calibration(tmp_path / "cal")
    results = api.load_results(tmp_path / "cal")
    assert results.kind == "calibration" and results.runs is None
    assert results.tables["posterior"]["cram.kill_prob"].tolist() == [0.5, 0.6, 0.7]
    assert results.tables["parameters"]["posterior_median"].tolist() == [0.6]
    assert results.tables["generations"]["generation"].tolist() == [0, 1]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / "runs.parquet").unlink(), "is a damaged run folder: it lacks runs.parquet"),
        (
            lambda f: (f / "runs.parquet").write_bytes(b"not parquet"),
            "runs.parquet is damaged or edited: its checksum differs",
        ),
        (lambda f: _edit_runs(f, lambda runs: runs.assign(attacks_rocket=0)), "runs.parquet is damaged or edited"),
        (lambda f: _symlink_runs(f), "runs.parquet is a symbolic link"),
        (lambda f: _edit_manifest(f, checksums={}), "its manifest records no checksum of runs.parquet"),
        (
            lambda f: _edit_runs(f, lambda runs: runs.drop(columns="seed"), rehash=True),
            "runs.parquet is damaged: it lacks the column(s) seed",
        ),
        (lambda f: (f / "extra.csv").symlink_to(f / "summary.csv"), "extra.csv is a symbolic link"),
        (lambda f: os.mkfifo(f / "extra.csv"), "extra.csv is not a regular file"),
        (lambda f: _edit_manifest(f, kind=["run"]), "its manifest's kind ['run'] is not one of run"),
        (lambda f: _edit_manifest(f, kind={"a": 1}), "its manifest's kind {'a': 1} is not one of run"),
        (lambda f: (f / "manifest.json").unlink(), "has no manifest.json"),
        (lambda f: (f / "manifest.json").write_text("{ half"), "manifest.json cannot be read as JSON"),
        (lambda f: (f / "manifest.json").write_text("[1, 2]"), "is not a manifest"),
        (lambda f: _edit_manifest(f, kind="notebook"), "its manifest's kind 'notebook' is not one of run, experiment"),
        (lambda f: _edit_manifest(f, status="running"), "holds an unfinished run (status 'running')"),
        (lambda f: shutil.rmtree(f), "no such folder"),
    ],
)
def test_a_damaged_unfinished_or_foreign_folder_is_one_usage_error(run_folder, tmp_path, damage, message):
    folder = tmp_path / "copy"
    shutil.copytree(run_folder, folder)
    damage(folder)
    with pytest.raises(UsageError) as error:
        api.load_results(folder)
    assert message in str(error.value) and "\n" not in str(error.value)


def _edit_manifest(folder: Path, **changes) -> None:
    path = folder / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _edit_runs(folder: Path, change, rehash: bool = False) -> None:
    path = folder / "runs.parquet"
    change(pd.read_parquet(path)).to_parquet(path, index=False)
    if rehash:
        manifest = json.loads((folder / "manifest.json").read_text())
        _edit_manifest(folder, checksums={**manifest["checksums"], "runs.parquet": sha256_of(path)})


def _symlink_runs(folder: Path) -> None:
    (folder / "runs.parquet").rename(folder / "elsewhere.parquet")
    (folder / "runs.parquet").symlink_to(folder / "elsewhere.parquet")


def test_a_table_beyond_the_size_bound_is_refused(run_folder, tmp_path, monkeypatch):
    from sim.analysis import results

    folder = tmp_path / "copy"
    shutil.copytree(run_folder, folder)
    monkeypatch.setattr(results, "TABLE_BYTES", results.Bound(10, "a test bound"))
    with pytest.raises(UsageError) as error:
        api.load_results(folder)
    assert "more than" in str(error.value) and "refused" in str(error.value) and "\n" not in str(error.value)


def test_a_robustness_folder_loads_as_kind_robustness(run_folder, tmp_path):
    folder = tmp_path / "robust"
    shutil.copytree(run_folder, folder)
    _edit_manifest(folder, kind="experiment", robustness={"states": 2})
    pd.DataFrame({"state": [0, 1]}).to_csv(folder / "states.csv", index=False)
    pd.DataFrame({"option": ["base"], "regret": [0.0]}).to_csv(folder / "robustness.csv", index=False)
    results = api.load_results(folder)
    assert results.kind == "robustness" and results.comparison is None and len(results.runs) == 3
    assert results.tables["states"]["state"].tolist() == [0, 1] and "regret" in results.tables["robustness"].columns
    (folder / "states.csv").unlink()
    with pytest.raises(UsageError, match="damaged robustness folder: it lacks states.csv"):
        api.load_results(folder)
