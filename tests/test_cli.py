"""Smoke tests of every command and every scenario file, and byte-identical results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from builders import call_main

import sim.batch.runner
import sim.cli.batch
import sim.cli.main
from sim.config.loader import load_scenario, scenario_hash
from sim.design.experiment import load_experiment
from sim.replication.simulate import replicate

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
CONFIGS = sorted((ROOT / "configs").rglob("*.toml"))
EXPERIMENT_CONFIGS = sorted((ROOT / "configs" / "experiments").glob("*.toml"))
SWEEP_CONFIGS = sorted((ROOT / "configs" / "sweeps").glob("*.toml"))
CALIBRATION_CONFIGS = [ROOT / "configs" / "calibration.toml"]  # loaded in tests/test_calibration.py
SCENARIO_CONFIGS = [p for p in CONFIGS if p not in EXPERIMENT_CONFIGS + SWEEP_CONFIGS + CALIBRATION_CONFIGS]

# The outcome columns listed in docs/outcomes.md (the baseline runs over the four quarters of 2020).
README_COLUMNS = [
    "replication",
    "seed",
    "attacks_rocket",
    "attacks_drone",
    "attacks_convoy",
    "attacks_security_detail",
    "rockets_launch_failed",
    "rockets_launched",
    "rockets_dud",
    "rockets_intercepted",
    "rockets_impact_inside",
    "rockets_impact_outside",
    "rockets_engaged",
    "drones_launched",
    "drones_engaged",
    "drones_downed",
    "drones_impact_inside",
    "cram_saturated",
    "cram_magazine_empty",
    "convoy_trucks_damaged",
    "us_killed",
    "us_wounded",
    "iraqi_civilian_casualties",
    "iraqi_driver_casualties",
    "security_detail_casualties",
    "stray_round_incidents",
    "drone_debris_incidents",
    "first_us_fatality_day",
    *[f"rocket_drone_attacks_q{q}" for q in range(1, 5)],
    *[f"convoy_attacks_q{q}" for q in range(1, 5)],
]
TRACE_COLUMNS = ["time_d", "date", "site", "kind", "count", "attack", "origin", "heavy", "generation", "detail"]

SEED = 5
REPLICATIONS = 3


# ---------------------------------------------------------------------------------------- run


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One `run` of the baseline: 3 replications, 1 worker, seed 5 (progress bar left on)."""
    out = tmp_path_factory.mktemp("run") / "out"
    argv = [
        "run",
        str(BASELINE),
        "--replications",
        str(REPLICATIONS),
        "--workers",
        "1",
        "--seed",
        str(SEED),
        "--out",
        str(out),
    ]
    code, stdout, stderr = call_main(argv)
    assert code == 0, stderr
    return {"argv": argv, "out": out, "stdout": stdout, "stderr": stderr}


def test_run_writes_runs_parquet(small_run):
    runs = pd.read_parquet(small_run["out"] / "runs.parquet")
    missing = [c for c in README_COLUMNS if c not in runs.columns]
    assert not missing, f"runs.parquet lacks columns of docs/outcomes.md {missing}"
    assert len(runs) == REPLICATIONS
    assert runs["replication"].tolist() == list(range(REPLICATIONS))
    assert (runs["seed"] == SEED).all()
    # docs/outcomes.md: rockets_launched = dud + intercepted + impact inside + impact outside
    fates = (
        runs["rockets_dud"]
        + runs["rockets_intercepted"]
        + runs["rockets_impact_inside"]
        + runs["rockets_impact_outside"]
    )
    assert (runs["rockets_launched"] == fates).all()
    assert runs["first_us_fatality_day"].dropna().between(0, 366).all()


def test_run_rows_are_the_replications(small_run):
    """Row R of a run is replication R of the seed, computed alone."""
    runs = pd.read_parquet(small_run["out"] / "runs.parquet")
    scenario = load_scenario(BASELINE)
    row = replicate(scenario, REPLICATIONS - 1, SEED)
    stored = runs.iloc[REPLICATIONS - 1]
    for col in ("attacks_rocket", "attacks_convoy", "rockets_launched", "us_wounded", "convoy_attacks_q3"):
        assert stored[col] == row[col], col


def test_run_writes_summary_csv(small_run):
    runs = pd.read_parquet(small_run["out"] / "runs.parquet")
    summary = pd.read_csv(small_run["out"] / "summary.csv")
    assert (summary["scenario"] == "baseline").all()
    summary = summary.set_index("outcome")
    outcomes = [c for c in runs.columns if c not in ("scenario", "replication", "seed")]
    assert summary.index.tolist() == outcomes
    for col in ("n", "mean", "ci95_low", "ci95_high", "p05", "p50", "p95", "p_positive"):
        assert col in summary.columns, col
    assert summary.loc["attacks_rocket", "mean"] == pytest.approx(runs["attacks_rocket"].mean(), rel=1e-5)
    assert summary.loc["attacks_rocket", "n"] == REPLICATIONS
    assert 0 <= summary.loc["us_killed", "p_positive"] <= 1


def test_run_writes_manifest(small_run):
    manifest = json.loads((small_run["out"] / "manifest.json").read_text())
    for key in (
        "kind",
        "root_seed",
        "replications",
        "scenario_hashes",
        "command",
        "code_version",
        "inputs",
        "environment",
    ):
        assert key in manifest, key
    assert (manifest["kind"], manifest["status"], manifest["scenarios"]) == ("run", "complete", ["baseline"])
    assert manifest["root_seed"] == SEED
    assert manifest["replications"] == REPLICATIONS
    assert manifest["scenario_hashes"] == {"baseline": scenario_hash(load_scenario(BASELINE))}
    assert manifest["inputs"] == {"configs/baseline.toml": BASELINE.read_text()}
    assert manifest["command"] == ["run.py", *small_run["argv"]]
    assert isinstance(manifest["code_version"], dict) and manifest["code_version"].get("package")
    packages = manifest["environment"]["packages"]
    assert all(
        packages.get(name) for name in ("simpy", "numpy", "pandas", "pyarrow", "matplotlib", "tqdm", "SALib", "dask")
    )


def test_run_writes_only_the_results(small_run):
    out = small_run["out"]
    expected = [
        ".lock",
        "describe.md",
        "failures.csv",
        "manifest.json",
        "parts",
        "runs.parquet",
        "summary.csv",
    ]  # .lock: the folder's lock
    assert sorted(p.name for p in out.iterdir()) == expected
    assert [p.name for p in out.parent.iterdir()] == ["out"], "a staging folder was left behind"
    assert not list(out.rglob(".*partial*")), "a temporary file was left behind"


def test_run_prints_the_summary_table(small_run):
    stdout = small_run["stdout"]
    lines = stdout.splitlines()
    assert lines[0].startswith(f"baseline: {REPLICATIONS} replications, seed {SEED}, ")
    assert "mean 95% CI lo" in stdout and "P(>0)" in stdout
    runs = pd.read_parquet(small_run["out"] / "runs.parquet")
    for col in runs.columns.drop(["scenario", "replication", "seed"]):
        assert any(line.split()[:1] == [col] for line in lines), f"no summary row for {col}"
    summary = pd.read_csv(small_run["out"] / "summary.csv", index_col="outcome")
    row = next(line for line in lines if line.split()[:1] == ["attacks_rocket"])
    assert row.split()[1] == f"{summary.loc['attacks_rocket', 'mean']:.2f}"
    assert (
        lines[-1] == f"wrote {small_run['out']}/ (runs.parquet, summary.csv, failures.csv, manifest.json, describe.md)"
    )


# -------------------------------------------------------------------------------------- trace


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_trace_prints_and_saves_the_timeline(suffix, tmp_path):
    path = tmp_path / f"log{suffix}"
    code, stdout, stderr = call_main(["trace", str(BASELINE), "--seed", "7", "--save", str(path)])
    assert code == 0, stderr
    lines = stdout.splitlines()
    header = re.fullmatch(r"baseline: seed 7, replication 0, (\d+) events", lines[0])
    assert header, lines[0]
    count = int(header.group(1))
    assert count > 0
    assert lines[1].split() == TRACE_COLUMNS[1:]
    assert len(lines) == 2 + count + 1  # header, column names, one line per event, "wrote"
    assert lines[-1] == f"wrote {path}"
    table = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert len(table) == count
    assert table.columns.tolist() == TRACE_COLUMNS
    assert table["time_d"].is_monotonic_increasing
    assert not list(tmp_path.glob(".*partial*"))


def test_trace_kinds_filters(tmp_path):
    path = tmp_path / "rockets.csv"
    code, stdout, stderr = call_main(
        ["trace", str(BASELINE), "--seed", "7", "--kinds", "attack_rocket", "--save", str(path)]
    )
    assert code == 0, stderr
    lines = stdout.splitlines()
    count = int(re.fullmatch(r"baseline: seed 7, replication 0, (\d+) events", lines[0]).group(1))
    body = lines[2:-1]
    assert count > 0 and len(body) == count
    assert all(line.split()[3] == "attack_rocket" for line in body), body[:5]
    table = pd.read_csv(path)
    assert len(table) == count and set(table["kind"]) == {"attack_rocket"}
    # the filter keeps every rocket attack of the unfiltered replication
    full = tmp_path / "all.csv"
    assert call_main(["trace", str(BASELINE), "--seed", "7", "--save", str(full)])[0] == 0
    everything = pd.read_csv(full)
    assert len(everything) > count
    assert (everything["kind"] == "attack_rocket").sum() == count


def test_trace_matches_run_row(small_run, tmp_path):
    """docs/commands.md (`trace`): replication R of seed S is exactly row R of a run with --seed S."""
    runs = pd.read_parquet(small_run["out"] / "runs.parquet")
    path = tmp_path / "log.csv"
    code, _, stderr = call_main(
        ["trace", str(BASELINE), "--seed", str(SEED), "--replication", "2", "--save", str(path)]
    )
    assert code == 0, stderr
    log = pd.read_csv(path)
    assert (log["kind"] == "attack_rocket").sum() == runs.loc[2, "attacks_rocket"]
    assert (log["kind"] == "attack_convoy").sum() == runs.loc[2, "attacks_convoy"]
    assert log.loc[log["kind"] == "rocket_launched", "count"].sum() == runs.loc[2, "rockets_launched"]


# --------------------------------------------------------------------------------- help, default


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["trace", "--help"]], ids=" ".join)
def test_help_exits_zero(argv):
    code, stdout, stderr = call_main(argv)
    assert code == 0, stderr
    assert stdout.startswith("usage: run.py")
    if argv[0] == "--help":
        assert "run" in stdout and "trace" in stdout and "COMMAND" in stdout
    if argv[0] == "run":
        assert "--replications" in stdout and "--workers" in stdout and "--out" in stdout
    if argv[0] == "trace":
        assert "--kinds" in stdout and "--save" in stdout and "attack_rocket" in stdout


@pytest.mark.slow
def test_no_command_runs_the_default_job(monkeypatch, tmp_path):
    """`run.py` alone runs the policy comparison; options without a command go to it."""
    monkeypatch.chdir(tmp_path)  # results/ lands here
    code, stdout, stderr = call_main(["--replications", "2", "--workers", "1", "--quiet"])
    assert code == 0, stderr
    folders = list((tmp_path / "results").glob("policy_comparison-*"))
    assert len(folders) == 1, folders
    runs = pd.read_parquet(folders[0] / "runs.parquet")
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    assert manifest["source_file"] == "configs/experiments/policy_comparison.toml"
    assert manifest["kind"] == "experiment" and manifest["reference"] == "continuity"
    assert manifest["parameters_from"]["replications_per_draw"] == 1  # over the posterior, one replication per draw
    assert runs.groupby("scenario", sort=False)["replication"].apply(list).to_dict() == {
        name: [0, 1] for name in manifest["scenarios"]
    }
    assert (runs["seed"] == manifest["root_seed"]).all()
    assert stdout.startswith(f"policy_comparison: {len(manifest['scenarios'])} scenarios x 2 replications")


# ------------------------------------------------------------------------------- every config


@pytest.mark.parametrize("path", SCENARIO_CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_config_loads_and_runs(path):
    scenario = load_scenario(path)
    row = replicate(scenario, 0, 1)
    assert row["replication"] == 0 and row["seed"] == 1
    assert row["attacks_rocket"] >= 0 and row["rockets_launched"] >= 0


@pytest.mark.slow
@pytest.mark.parametrize("path", EXPERIMENT_CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_experiment_file_loads(path):
    experiment = load_experiment(path)
    names = [name for name, _ in experiment.batch.scenarios]
    options = (
        experiment.robustness.options if experiment.robustness else names
    )  # a robustness file: every option in every state
    assert experiment.header.reference in options and len(set(names)) == len(names)


def test_configs_found():
    assert BASELINE in CONFIGS


# ----------------------------------------------------------------------------- byte identity


@pytest.fixture
def pool_spy(monkeypatch):
    """Record every ProcessPoolExecutor the runner creates."""
    created = []

    class Spy(sim.batch.runner.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            created.append(kwargs.get("max_workers", args[0] if args else None))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sim.batch.runner, "ProcessPoolExecutor", Spy)
    return created


@pytest.mark.slow
def test_runs_parquet_is_byte_identical(tmp_path, pool_spy):
    """Same seed, same bytes; 1 worker or a pool of 2, same bytes; another seed, other bytes."""

    def run(name, seed, workers):
        out = tmp_path / name
        argv = [
            "run",
            str(BASELINE),
            "--replications",
            "40",
            "--seed",
            str(seed),
            "--workers",
            str(workers),
            "--quiet",
            "--out",
            str(out),
        ]
        code, _, stderr = call_main(argv)
        assert code == 0, stderr
        return (out / "runs.parquet").read_bytes()

    first = run("a", 11, 1)
    again = run("b", 11, 1)
    assert pool_spy == [], "--workers 1 must run in this process"
    pooled = run("c", 11, 2)
    assert pool_spy == [2], "40 replications on 2 workers must use the process pool"
    other_seed = run("d", 12, 1)
    assert first == again
    assert first == pooled
    assert first != other_seed
