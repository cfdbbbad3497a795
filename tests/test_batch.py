"""The batch runner: experiments and sweeps through the command line and the Python API.

Worker-count and backend invariance (byte-identical runs.parquet), resuming an interrupted
results folder (SIGKILL and SIGINT), refusing a folder of another experiment, paired
comparisons under common random numbers, grid and Latin-hypercube sweeps, recorded and
reported replication failures (and --fail-fast), bad experiment and sweep files, and the
Python API against the files the command line writes.

Experiment and sweep files are written into tmp_path; they point at the project's scenario
files by absolute path and shorten every scenario with ``end_date``.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import call_main
from scipy import stats

import sim.api
import sim.batch.execution
import sim.batch.runner
import sim.model.records
from sim.config.loader import load_scenario
from sim.design.sweep import load_sweep
from sim.replication.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
CONTINUITY = ROOT / "configs" / "scenarios" / "continuity.toml"
TOUGHER_LOVE = ROOT / "configs" / "scenarios" / "tougher_love.toml"

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUTCOMES = ["attacks_rocket", "us_strikes_retaliatory", "rockets_intercepted", "us_wounded"]


# ------------------------------------------------------------------------------------ helpers


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def toml_tables(tables: list[tuple[str, dict]]) -> str:
    lines = []
    for header, table in tables:
        lines.append(f"[{header}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def experiment_text(scenarios: dict[str, dict], **header) -> str:
    """An experiment file: ``header`` overrides the defaults below (None drops a key)."""
    table = {
        "name": "batch_test",
        "description": "test experiment",
        "base": BASELINE,
        "reference": next(iter(scenarios)),
        "replications": 10,
        "root_seed": 77,
        "chunk_size": 3,
        "end_date": date(2020, 12, 31),
        "outcomes": OUTCOMES,
    }
    table.update(header)
    table = {k: v for k, v in table.items() if v is not None}
    return toml_tables([("experiment", table), *((f"scenarios.{json.dumps(n)}", s) for n, s in scenarios.items())])


def write_experiment(folder: Path, filename: str, scenarios: dict[str, dict], **header) -> Path:
    path = folder / filename
    path.write_text(experiment_text(scenarios, **header), encoding="utf-8")
    return path


def sweep_text(parameters: dict[str, dict], **header) -> str:
    table = {
        "name": "sweep_test",
        "description": "test sweep",
        "base": BASELINE,
        "design": "grid",
        "replications": 3,
        "root_seed": 9,
        "chunk_size": 2,
        "end_date": date(2020, 6, 30),
        "outcomes": ["rockets_intercepted", "attacks_rocket"],
    }
    table.update(header)
    table = {k: v for k, v in table.items() if v is not None}
    return toml_tables([("sweep", table), *((f"parameters.{json.dumps(p)}", s) for p, s in parameters.items())])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_experiment_cli(file: Path, out: Path, *options: str) -> str:
    code, stdout, stderr = call_main(["experiment", file, "--out", out, "--quiet", *options])
    assert code == 0, stderr
    return stdout


def one_error_line(code, stdout: str, stderr: str) -> str:
    assert code == 2, f"exit code {code!r}, stderr: {stderr!r}"
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


# --------------------------------------------------------------- a small three-scenario experiment

SMALL_SCENARIOS = {
    "continuity": {"file": CONTINUITY},
    "tougher_love": {"file": TOUGHER_LOVE},
    "strong_cram": {"set": {"cram.kill_prob": 0.8}},  # inline: the base (baseline) with an override
}
SMALL_REPLICATIONS = 10  # chunks of 3: 3 + 3 + 3 + 1 per scenario


@pytest.fixture(scope="module")
def small_experiment(tmp_path_factory) -> Path:
    return write_experiment(tmp_path_factory.mktemp("experiment"), "small.toml", SMALL_SCENARIOS)


@pytest.fixture(scope="module")
def small_run(small_experiment, tmp_path_factory) -> dict:
    """The small experiment through the command line, one worker (in this process)."""
    out = tmp_path_factory.mktemp("small_run") / "out"
    stdout = run_experiment_cli(small_experiment, out, "--workers", "1")
    return {"out": out, "stdout": stdout, "bytes": (out / "runs.parquet").read_bytes()}


@pytest.fixture(scope="module")
def small_pool_run(small_experiment, tmp_path_factory) -> dict:
    """The small experiment on a local pool of two worker processes (checked to be used)."""
    out = tmp_path_factory.mktemp("small_pool") / "out"
    created = []

    class Spy(sim.batch.runner.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            created.append(kwargs.get("max_workers", args[0] if args else None))
            super().__init__(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim.batch.runner, "ProcessPoolExecutor", Spy)
        run_experiment_cli(small_experiment, out, "--workers", "2")
    assert created == [2], "--workers 2 must run on a pool of two processes"
    return {"out": out, "bytes": (out / "runs.parquet").read_bytes()}


# ------------------------------------------------------------ 1. worker count and backend invariance


@pytest.mark.slow
def test_runs_are_complete_and_in_scenario_replication_order(small_run):
    runs = pd.read_parquet(small_run["out"] / "runs.parquet")
    expected = [(s, r) for s in SMALL_SCENARIOS for r in range(SMALL_REPLICATIONS)]
    assert list(zip(runs["scenario"], runs["replication"])) == expected
    assert (runs["seed"] == 77).all()
    manifest = json.loads((small_run["out"] / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["chunks_resumed"] == 0
    assert manifest["failed_replications"] == 0
    parts = sorted((small_run["out"] / "parts").glob("*/*.parquet"))
    assert len(parts) == len(SMALL_SCENARIOS) * 4  # several chunks per scenario


@pytest.mark.slow
def test_one_and_two_workers_give_byte_identical_runs(small_experiment, small_run, small_pool_run, tmp_path):
    again = tmp_path / "again"
    run_experiment_cli(small_experiment, again, "--workers", "1")
    assert (again / "runs.parquet").read_bytes() == small_run["bytes"], "two 1-worker runs differ"
    assert small_pool_run["bytes"] == small_run["bytes"], "1 and 2 workers give different runs.parquet"
    other = write_experiment(tmp_path, "other_seed.toml", SMALL_SCENARIOS, root_seed=78)
    run_experiment_cli(other, tmp_path / "other", "--workers", "1")
    assert (tmp_path / "other" / "runs.parquet").read_bytes() != small_run["bytes"], "the seed changes nothing?"


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_bytes_as_the_local_pool(
    small_experiment, small_pool_run, tmp_path, monkeypatch
):
    distributed = pytest.importorskip("dask.distributed")
    # The cluster's worker processes must import `sim` as this process does.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    executors = []
    real_execute = sim.batch.execution.execute

    def spy(chunks, batch, executor, on_done, in_flight=4):
        executors.append(executor)
        return real_execute(chunks, batch, executor, on_done, in_flight)

    monkeypatch.setattr(sim.batch.execution, "execute", spy)
    out = tmp_path / "dask"
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        run_experiment_cli(small_experiment, out, "--scheduler", address)
    from distributed.cfexecutor import ClientExecutor

    assert len(executors) == 1 and isinstance(executors[0], ClientExecutor), executors
    assert json.loads((out / "manifest.json").read_text())["scheduler"] == address
    assert (out / "runs.parquet").read_bytes() == small_pool_run["bytes"], "Dask and the local pool differ"


@pytest.mark.slow
def test_on_dask_the_chunks_in_flight_follow_the_cluster_and_its_profiler_pauses(
    small_experiment, small_run, tmp_path, monkeypatch
):
    distributed = pytest.importorskip("dask.distributed")
    threads = sim.batch.runner.default_workers() + 1  # a count that is not this machine's
    seen = []
    real_execute = sim.batch.execution.execute

    def profiling(cluster) -> list[bool]:
        return [worker.periodic_callbacks["profile"].is_running() for worker in cluster.workers.values()]

    def spy(chunks, batch, executor, on_done, in_flight=4):
        seen.append((in_flight, profiling(cluster)))
        return real_execute(chunks, batch, executor, on_done, in_flight)

    monkeypatch.setattr(sim.batch.execution, "execute", spy)
    out = tmp_path / "dask"
    # Workers in this process (processes=False), so that their profiler can be looked at.
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=threads, dashboard_address=None
    ) as cluster:
        before = profiling(cluster)
        run_experiment_cli(small_experiment, out, "--scheduler", cluster.scheduler_address)
        after = profiling(cluster)
    assert seen == [(2 * threads, [False])], "two chunks per cluster thread, the profiler paused while they run"
    assert before == after == [True], "the profiler runs again after the batch"
    assert (out / "runs.parquet").read_bytes() == small_run["bytes"]


def test_chunks_in_flight_are_two_per_worker():
    class Cluster:
        def __init__(self, threads: int) -> None:
            self.threads = lambda: threads

    cores = sim.batch.runner.default_workers()
    assert sim.batch.runner.chunks_in_flight(Cluster(7)) == 14
    assert sim.batch.runner.chunks_in_flight(Cluster(0)) == 2 * cores, "no worker has joined yet: the local cores"
    assert sim.batch.runner.chunks_in_flight(None) == 2 * cores


# ------------------------------------------------------------------------------------- 2. resume

RESUME_SCENARIOS = {"baseline": {}, "strong_cram": {"set": {"cram.kill_prob": 0.8}}}
RESUME_HEADER = {"replications": 200, "chunk_size": 4, "root_seed": 31, "end_date": date(2020, 6, 30)}
RESUME_CHUNKS = 2 * 200 // 4


@pytest.fixture(scope="module")
def resume_experiment(tmp_path_factory) -> dict:
    """An experiment long enough (100 chunks) to be interrupted, and its uninterrupted run."""
    folder = tmp_path_factory.mktemp("resume")
    file = write_experiment(folder, "long.toml", RESUME_SCENARIOS, **RESUME_HEADER)
    out = folder / "uninterrupted"
    run_experiment_cli(file, out, "--workers", "1")
    return {"file": file, "folder": folder, "bytes": (out / "runs.parquet").read_bytes()}


def experiment_command(file: Path, out: Path) -> list[str]:
    return [sys.executable, "run.py", "experiment", str(file), "--out", str(out), "--workers", "1", "--quiet"]


def interrupt_after_first_part(file: Path, out: Path, sig: int) -> tuple[int, str]:
    """Start the experiment as a subprocess and send ``sig`` once a chunk is on disk. The child
    gets SIGINT's default action back: a shell that starts the tests in the background makes
    them ignore SIGINT, and Python then never turns it into KeyboardInterrupt."""
    proc = subprocess.Popen(
        experiment_command(file, out),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    try:
        while not any((out / "parts").glob("*/*.parquet")):
            if proc.poll() is not None:
                pytest.fail(
                    f"the run ended (exit {proc.returncode}) before any chunk was written: {proc.stderr.read()}"
                )
            assert time.monotonic() < deadline, "no chunk written within 120 s"
            time.sleep(0.002)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stderr


def check_interrupted(out: Path) -> int:
    """The folder is an unfinished run: no runs.parquet, manifest still 'running'; return its chunks."""
    assert not (out / "runs.parquet").exists(), "the run finished before it was interrupted"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    done = len(list((out / "parts").glob("*/*.parquet")))
    assert 0 < done < RESUME_CHUNKS
    return done


def resume(file: Path, out: Path) -> dict:
    proc = subprocess.run(experiment_command(file, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "resumed" in proc.stdout.splitlines()[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    return manifest


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_bytes_and_refuses_another_experiment(resume_experiment, tmp_path):
    file, out = resume_experiment["file"], tmp_path / "killed"
    code, _ = interrupt_after_first_part(file, out, signal.SIGKILL)
    assert code == -signal.SIGKILL, f"exit {code}: the run was not killed"
    done = check_interrupted(out)
    before = snapshot(out)

    # Another experiment (another seed), or another replication count, on that folder: refused.
    changed = write_experiment(tmp_path, "changed.toml", RESUME_SCENARIOS, **{**RESUME_HEADER, "root_seed": 32})
    for argv in (
        ["experiment", changed, "--out", out, "--workers", "1", "--quiet"],
        ["experiment", file, "--out", out, "--workers", "1", "--quiet", "--replications", "201"],
    ):
        line = one_error_line(*call_main(argv))
        assert f"output folder {out}" in line and "different batch" in line, line
        assert snapshot(out) == before, "a refused run changed the folder"

    manifest = resume(file, out)
    assert (out / "runs.parquet").read_bytes() == resume_experiment["bytes"], "resumed run differs from uninterrupted"
    assert manifest["chunks_resumed"] == done > 0
    assert manifest["replications"] == 200 and manifest["root_seed"] == 31


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_bytes(resume_experiment, tmp_path):
    out = tmp_path / "interrupted"
    code, stderr = interrupt_after_first_part(resume_experiment["file"], out, signal.SIGINT)
    assert code == 130, f"exit {code}: {stderr}"
    assert "interrupted" in stderr and "Traceback" not in stderr
    done = check_interrupted(out)
    assert not [p for p in (out / "parts").rglob("*") if "partial" in p.name], "a half-written part was left"
    manifest = resume(resume_experiment["file"], out)
    assert (out / "runs.parquet").read_bytes() == resume_experiment["bytes"]
    assert manifest["chunks_resumed"] == done > 0


# ------------------------------------------------------------ 3. common random numbers: paired CIs


@pytest.mark.slow
def test_paired_intervals_are_narrower_than_unpaired_under_common_random_numbers(tmp_path):
    file = write_experiment(
        tmp_path,
        "pairs.toml",
        {
            "tougher_love": {"file": TOUGHER_LOVE},
            "capacity_loss_half": {"set": {"policy.us.strikes.capacity_loss": 0.5}},
        },
        base=TOUGHER_LOVE,
        replications=40,
        chunk_size=5,
        root_seed=3,
        outcomes=["attacks_rocket", "us_strikes_retaliatory"],
    )
    out = tmp_path / "out"
    run_experiment_cli(file, out, "--workers", "1")
    comparison = pd.read_csv(out / "comparison.csv").set_index("outcome")
    runs = pd.read_parquet(out / "runs.parquet")
    for outcome in ("attacks_rocket", "us_strikes_retaliatory"):
        row = comparison.loc[outcome]
        assert row["scenario"] == "capacity_loss_half" and row["reference"] == "tougher_love"
        assert row["n_pairs"] == 40
        paired = row["diff_ci95_high"] - row["diff_ci95_low"]
        unpaired = row["unpaired_ci95_high"] - row["unpaired_ci95_low"]
        assert 0 < paired < unpaired, f"{outcome}: paired width {paired} not below unpaired {unpaired}"
        # Common random numbers make the pairs strongly correlated (about 0.55-0.7 here); with
        # independent streams the reduction of 40 pairs would be 0 +/- 0.16.
        assert row["variance_reduction"] > 0.3, f"{outcome}: variance reduction {row['variance_reduction']}"
        assert row["ci_width_ratio"] == pytest.approx(paired / unpaired, rel=1e-4)
        # The same numbers straight from the runs (scipy's paired t and Welch intervals).
        x = runs.loc[runs["scenario"] == "tougher_love", outcome].to_numpy(float)
        y = runs.loc[runs["scenario"] == "capacity_loss_half", outcome].to_numpy(float)
        assert row["mean_diff"] == pytest.approx((y - x).mean(), rel=1e-5)
        low, high = stats.ttest_rel(y, x).confidence_interval(0.95)
        assert (row["diff_ci95_low"], row["diff_ci95_high"]) == pytest.approx((low, high), rel=1e-5, abs=1e-9)
        low, high = stats.ttest_ind(y, x, equal_var=False).confidence_interval(0.95)
        assert (row["unpaired_ci95_low"], row["unpaired_ci95_high"]) == pytest.approx((low, high), rel=1e-5, abs=1e-9)
        expected_reduction = 1 - np.var(y - x, ddof=1) / (np.var(x, ddof=1) + np.var(y, ddof=1))
        assert row["variance_reduction"] == pytest.approx(expected_reduction, rel=1e-5)


# ----------------------------------------------------------------------------------- 4. sweeps


def check_sweep_folder(out: Path, stdout: str, n_points: int, parameters: list[str], outcomes: list[str], reps: int):
    points = pd.read_csv(out / "points.csv")
    assert len(points) == n_points
    assert points["point"].tolist() == list(range(n_points))
    for column in ("replications", *parameters, *outcomes, *(f"{o}_ci95_low" for o in outcomes)):
        assert column in points.columns, column
    assert (points["replications"] == reps).all()
    runs = pd.read_parquet(out / "runs.parquet")
    per_point = runs.groupby("scenario")["replication"].apply(sorted).to_dict()
    assert per_point == {f"point-{i:04d}": list(range(reps)) for i in range(n_points)}
    plots = sorted((out / "plots").glob("*.png"))
    expected = {f"sweep_{o}_vs_{p}.png" for o in outcomes for p in parameters}
    assert {p.name for p in plots} == expected
    for plot in plots:
        assert plot.read_bytes().startswith(PNG_MAGIC) and plot.stat().st_size > 1000, plot
    assert stdout.splitlines()[-1] == f"wrote {out}/points.csv and {len(expected)} plots"
    return points


@pytest.mark.slow
def test_grid_sweep_runs_every_combination(tmp_path):
    kill, heavy = [0.3, 0.6, 0.9], [0.0, 0.1]
    file = tmp_path / "grid.toml"
    file.write_text(
        sweep_text({"cram.kill_prob": {"values": kill}, "threats.rocket.heavy_salvo_prob": {"values": heavy}})
    )
    out = tmp_path / "out"
    code, stdout, stderr = call_main(["sweep", file, "--out", out, "--workers", "1", "--quiet"])
    assert code == 0, stderr
    assert stdout.startswith("sweep_test: 6 points x 3 replications")
    outcomes = ["rockets_intercepted", "attacks_rocket"]
    points = check_sweep_folder(out, stdout, 6, ["cram.kill_prob", "threats.rocket.heavy_salvo_prob"], outcomes, 3)
    grid = list(itertools.product(kill, heavy))
    assert list(zip(points["cram.kill_prob"], points["threats.rocket.heavy_salvo_prob"])) == grid
    # each point's scenario carries its values
    sweep = load_sweep(file)
    for (name, scenario), (k, h) in zip(sweep.batch.scenarios, grid):
        assert (scenario.cram.kill_prob, scenario.threats.rocket.heavy_salvo_prob) == (k, h), name
    # the means in points.csv are those of the runs
    runs = pd.read_parquet(out / "runs.parquet")
    means = runs.groupby("scenario")["rockets_intercepted"].mean().to_numpy()
    assert points["rockets_intercepted"].to_numpy() == pytest.approx(means, rel=1e-5)


@pytest.mark.slow
def test_lhs_sweep_stays_inside_the_bounds(tmp_path):
    bounds = {"cram.kill_prob": (0.3, 0.9), "policy.us.strikes.revenge_prob": (0.1, 0.7)}
    file = tmp_path / "lhs.toml"
    file.write_text(sweep_text({p: {"low": lo, "high": hi} for p, (lo, hi) in bounds.items()}, design="lhs", points=5))
    out = tmp_path / "out"
    code, stdout, stderr = call_main(["sweep", file, "--out", out, "--workers", "1", "--quiet"])
    assert code == 0, stderr
    points = check_sweep_folder(out, stdout, 5, list(bounds), ["rockets_intercepted", "attacks_rocket"], 3)
    for path, (low, high) in bounds.items():
        values = points[path].to_numpy()
        assert ((values >= low) & (values <= high)).all(), (path, values)
        strata = np.floor((values - low) / (high - low) * 5).clip(0, 4)
        assert sorted(strata) == [0, 1, 2, 3, 4], f"{path}: not one point per stratum: {values}"
    design = load_sweep(file).design
    for path in bounds:
        assert points[path].to_numpy() == pytest.approx(design[path].to_numpy(), rel=1e-5)


# ---------------------------------------------------------------------- 5. failing replications

FAILING = ("tougher_love", 4)


@pytest.fixture
def flaky_replicate(monkeypatch):
    """Replication 4 of tougher_love raises; every other replication runs as usual."""
    real = sim.batch.runner.replicate

    def flaky(scenario, replication, root_seed, checks=()):
        if (scenario.scenario.name, replication) == FAILING:
            raise RuntimeError("boom in the model")
        return real(scenario, replication, root_seed, checks)

    monkeypatch.setattr(sim.batch.runner, "replicate", flaky)


@pytest.mark.slow
def test_a_failing_replication_is_recorded_and_reported(small_experiment, small_run, flaky_replicate, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = call_main(["experiment", small_experiment, "--out", out, "--workers", "1", "--quiet"])
    assert code == 0, stderr
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) == 1
    failure = failures.iloc[0]
    assert (failure["scenario"], failure["replication"], failure["seed"]) == (*FAILING, 77)
    assert failure["error"] == "RuntimeError: boom in the model"
    reproduce = f"python run.py trace {small_experiment} --scenario tougher_love --seed 77 --replication 4"
    assert failure["reproduce"] == reproduce
    # the reproduce command is a valid command line (it traces that replication with the experiment's seed)
    code, trace_out, trace_err = call_main(reproduce.split()[2:])
    assert code == 0, trace_err
    assert trace_out.startswith("tougher_love: seed 77, replication 4, ")

    runs = pd.read_parquet(out / "runs.parquet")
    clean = pd.read_parquet(small_run["out"] / "runs.parquet")
    assert FAILING not in set(zip(runs["scenario"], runs["replication"]))
    others = clean[~((clean["scenario"] == FAILING[0]) & (clean["replication"] == FAILING[1]))]
    pd.testing.assert_frame_equal(runs, others.reset_index(drop=True))
    summary = pd.read_csv(out / "summary.csv").set_index(["scenario", "outcome"])
    assert summary.loc[("tougher_love", "attacks_rocket"), "n"] == SMALL_REPLICATIONS - 1
    assert summary.loc[("continuity", "attacks_rocket"), "n"] == SMALL_REPLICATIONS

    assert f"1 replications failed and are not in the tables: see {out}/failures.csv" in stdout
    assert json.loads((out / "manifest.json").read_text())["failed_replications"] == 1


def test_a_failing_replication_of_a_run_is_a_failure_row_not_a_traceback(flaky_replicate, tmp_path):
    """`run` goes through the same path: the failure is a row with a command that replays it."""
    scenario = ROOT / "configs" / "scenarios" / "tougher_love.toml"
    out = tmp_path / "run"
    argv = [
        "run",
        scenario,
        "--replications",
        "6",
        "--seed",
        "3",
        "--set",
        "cram.kill_prob=0.5",
        "--workers",
        "1",
        "--quiet",
        "--out",
        out,
    ]
    code, stdout, stderr = call_main(argv)
    assert code == 0, stderr
    assert "Traceback" not in stdout + stderr
    failures = pd.read_csv(out / "failures.csv")
    assert failures[["scenario", "replication", "seed", "error"]].values.tolist() == [
        ["tougher_love", 4, 3, "RuntimeError: boom in the model"]
    ]
    reproduce = failures.loc[0, "reproduce"]
    assert reproduce == f"python run.py trace {scenario} --set cram.kill_prob=0.5 --seed 3 --replication 4"
    assert pd.read_parquet(out / "runs.parquet")["replication"].tolist() == [0, 1, 2, 3, 5]
    assert "1 replications failed and are not in the tables" in stdout
    code, trace_out, trace_err = call_main(reproduce.split()[2:])
    assert code == 0 and trace_out.startswith("tougher_love: seed 3, replication 4, "), trace_err


def test_fail_fast_stops_at_the_failing_replication(small_experiment, flaky_replicate, tmp_path):
    out = tmp_path / "out"
    line = one_error_line(
        *call_main(["experiment", small_experiment, "--out", out, "--workers", "1", "--quiet", "--fail-fast"])
    )
    for text in ("tougher_love", "replication 4", "seed 77", "boom in the model"):
        assert text in line, f"{text!r} not in {line!r}"
    assert not (out / "runs.parquet").exists()
    assert not (out / "summary.csv").exists()


RUNAWAY_LEVER = "policy.us.doctrines.tougher_love"
RUNAWAY = [  # every attack answered by a strike at once, every strike by four revenge attacks on average
    "--set",
    "policy.us.doctrine=tougher_love",
    "--set",
    "policy.start_date=2020-01-01",
    "--set",
    f"{RUNAWAY_LEVER}.retaliate_on_attack_count=1",
    "--set",
    f"{RUNAWAY_LEVER}.decision_delay_days=0",
    "--set",
    f"{RUNAWAY_LEVER}.strike_cooldown_days=0",
    "--set",
    "policy.us.strikes.revenge_prob=1",
    "--set",
    "policy.us.strikes.revenge_attacks_mean=4",
    "--set",
    "scenario.end_date=2020-03-01",
]


@pytest.fixture
def small_record_budget(monkeypatch):
    """A budget of 3,000 records per replication (the rule is the same at any size)."""
    monkeypatch.setattr(sim.model.records, "LEAST_RECORD_BUDGET", 3_000)
    monkeypatch.setattr(sim.model.records, "RECORDS_PER_DAY", 10)


def test_a_world_that_feeds_on_itself_stops_at_its_record_budget(small_record_budget):
    """Revenge for every strike outrunning a zero cooldown grows without bound; the replication
    stops when its ledger passes the budget (counted in records, not in time), naming the kinds
    that ran away; a calibrated run of the same length stays far below it."""
    overrides = {key: value for key, value in (arg.split("=", 1) for arg in RUNAWAY[1::2])}
    scenario = load_scenario(ROOT / "configs" / "baseline.toml", [f"{k}={v}" for k, v in overrides.items()])
    with pytest.raises(sim.model.records.RunawayReplication) as stopped:
        simulate(scenario, 0, 1)
    message = str(stopped.value)
    assert message.startswith("more than 3,000 records by day ")
    assert "us_strike_retaliatory" in message or "revenge" in message
    calm = simulate(load_scenario(ROOT / "configs" / "baseline.toml", ["scenario.end_date=2020-03-01"]), 0, 1)
    assert 0 < len(calm.ledger.records) < 3_000 and calm.ledger.budget == 3_000


def test_a_run_whose_every_replication_runs_away_is_one_line_not_a_traceback(small_record_budget, tmp_path):
    out = tmp_path / "runaway"
    code, stdout, stderr = call_main(
        ["run", "--replications", "2", "--workers", "1", "--quiet", "--out", out, *RUNAWAY]
    )
    line = one_error_line(code, stdout, stderr)
    for text in (
        "every replication of scenario baseline failed",
        "RunawayReplication: more than 3,000 records",
        f"{out}/failures.csv",
    ):
        assert text in line, f"{text!r} not in {line!r}"
    assert pd.read_csv(out / "failures.csv")["replication"].tolist() == [0, 1]
    assert not (out / "summary.csv").exists()
    line = one_error_line(*call_main(["trace", *RUNAWAY]))
    assert line.startswith("error: replication 0 of seed 1 stopped: more than 3,000 records by day "), line


# ------------------------------------------------------------------------ 6. bad experiment files

GOOD = {"continuity": {"file": CONTINUITY}, "tougher_love": {"file": TOUGHER_LOVE}}

# name: (file text, or None for a file that does not exist; texts the line must contain; origin suffix)
BAD_EXPERIMENTS = {
    "unknown_key_in_header": (
        experiment_text(GOOD, replicatons=5),
        ["experiment.replicatons = 5", "is not a known key"],
        "",
    ),
    "unknown_key_in_scenario": (
        experiment_text({**GOOD, "tougher_love": {"file": TOUGHER_LOVE, "fle": "x.toml"}}),
        ["scenarios.tougher_love.fle = 'x.toml'", "is not a known key"],
        "",
    ),
    "unknown_top_level_table": (
        experiment_text(GOOD) + '\n[experimentt]\nname = "x"\n',
        ["experimentt", "is not a known key"],
        "",
    ),
    "reference_not_a_scenario": (
        experiment_text(GOOD, reference="nowhere"),
        ["experiment.reference = 'nowhere'", "must name one of the scenarios (continuity, tougher_love)"],
        "",
    ),
    "unknown_outcome": (
        experiment_text(GOOD, outcomes=["attacks_rocket", "attacks_by_pigeon"]),
        ["experiment.outcomes = 'attacks_by_pigeon'", "is not an outcome column"],
        "",
    ),
    "scenario_name_with_a_path": (
        experiment_text({**GOOD, "../x": {"file": CONTINUITY}}),
        ["'../x'", "must be a non-empty name"],
        "",
    ),
    "inline_probability_1.3": (
        experiment_text({**GOOD, "risky": {"set": {"threats.rocket.heavy_salvo_prob": 1.3}}}),
        ["threats.rocket.heavy_salvo_prob = 1.3 must be in [0, 1]"],
        " [scenarios.risky]",
    ),
    "replications_0": (
        experiment_text(GOOD, replications=0),
        ["experiment.replications = 0 must be in [1, 10,000,000]"],
        "",
    ),
    "missing_file": (None, ["experiment file not found"], ""),
    "invalid_toml": ("[experiment\nname = 'x'\n", ["experiment file is not valid TOML"], ""),
    "duplicate_scenario_table": (
        experiment_text(GOOD) + f'\n[scenarios.continuity]\nfile = "{CONTINUITY}"\n',
        ["experiment file is not valid TOML", "continuity"],
        "",
    ),
}


@pytest.mark.parametrize("name", list(BAD_EXPERIMENTS))
def test_bad_experiment_file_is_one_line_and_exit_2(name, tmp_path):
    text, expect, suffix = BAD_EXPERIMENTS[name]
    file = tmp_path / "bad.toml"
    if text is not None:
        file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = call_main(["experiment", file, "--out", out, "--workers", "1", "--quiet"])
    line = one_error_line(code, stdout, stderr)
    for part in expect:
        assert part in line, f"{part!r} not in {line!r}"
    assert line.endswith(f"({file}{suffix})"), f"{line!r} does not name {file}{suffix}"
    assert stdout == ""
    assert not out.exists()


def test_missing_scenario_file_of_an_experiment_is_named(tmp_path):
    file = write_experiment(tmp_path, "exp.toml", {**GOOD, "gone": {"file": tmp_path / "gone.toml"}})
    out = tmp_path / "out"
    line = one_error_line(*call_main(["experiment", file, "--out", out, "--workers", "1", "--quiet"]))
    assert f"scenarios.gone.file = '{tmp_path / 'gone.toml'}' names no scenario file ({file})" in line, line
    assert not out.exists()


BOUNDED = {"cram.kill_prob": {"low": 0.3, "high": 0.9}}

# name: (sweep file text, texts the line must contain, origin suffix)
BAD_SWEEPS = {
    "lhs_without_points": (sweep_text(BOUNDED, design="lhs"), ["sweep.points"], ""),
    "sobol_points_not_a_power_of_two": (
        sweep_text(BOUNDED, design="sobol", points=12),
        ["sweep.points = 12", "power of two"],
        "",
    ),
    "saltelli_points_not_a_power_of_two": (
        sweep_text(BOUNDED, design="saltelli", points=12),
        ["sweep.points = 12", "power of two"],
        "",
    ),
    "low_above_high": (
        sweep_text({"cram.kill_prob": {"low": 0.9, "high": 0.5}}, design="lhs", points=4),
        ["cram.kill_prob low = 0.9", "must be < high = 0.5"],
        "",
    ),
    "low_equals_high": (
        sweep_text({"cram.kill_prob": {"low": 0.5, "high": 0.5}}, design="lhs", points=4),
        ["cram.kill_prob low = 0.5", "must be < high = 0.5"],
        "",
    ),
    "unknown_parameter_path": (
        sweep_text({"cram.kill_probability": {"values": [0.5, 0.6]}}),
        ["cram.kill_probability = 0.5", "is not a known parameter"],
        " [point 0]",
    ),
}


@pytest.mark.parametrize("name", list(BAD_SWEEPS))
def test_bad_sweep_file_is_one_line_and_exit_2(name, tmp_path):
    text, expect, suffix = BAD_SWEEPS[name]
    file = tmp_path / "bad_sweep.toml"
    file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = call_main(["sweep", file, "--out", out, "--workers", "1", "--quiet"])
    line = one_error_line(code, stdout, stderr)
    for part in expect:
        assert part in line, f"{part!r} not in {line!r}"
    assert line.endswith(f"({file}{suffix})"), f"{line!r} does not name {file}{suffix}"
    assert not out.exists()


# ---------------------------------------------------------------------------- 7. the Python API


@pytest.mark.slow
def test_api_run_experiment_returns_what_the_cli_wrote(small_experiment, small_run, tmp_path, capsys):
    result = sim.api.run_experiment(small_experiment, tmp_path / "api", batch=sim.api.BatchOptions(workers=1))
    assert capsys.readouterr() == ("", ""), "the API must not print"
    cli = small_run["out"]
    pd.testing.assert_frame_equal(result.runs, pd.read_parquet(cli / "runs.parquet"))
    assert (tmp_path / "api" / "runs.parquet").read_bytes() == small_run["bytes"]
    for table, name in ((result.summary, "summary.csv"), (result.comparison, "comparison.csv")):
        written = pd.read_csv(cli / name)
        assert list(table.columns) == list(written.columns), name
        pd.testing.assert_frame_equal(
            table.reset_index(drop=True), written, check_dtype=False, rtol=1e-5, atol=1e-9, obj=name
        )
    assert result.failures.empty
    assert set(result.summary["scenario"]) == set(SMALL_SCENARIOS)
    assert set(result.comparison["scenario"]) == {"tougher_love", "strong_cram"}
    assert result.manifest["root_seed"] == 77 and result.manifest["replications"] == SMALL_REPLICATIONS
