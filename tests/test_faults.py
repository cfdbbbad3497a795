"""Faults: a worker process that dies, a runner killed under its workers, too many workers, a
scheduler out of reach, a disk that is full, a folder that cannot be written."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil
import pytest
from builders import call_main, two_option_experiment

import sim.batch.folder
import sim.batch.runner

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
DOOMED = 7  # the replication whose worker dies
SWEEP = "strike_effects.toml"


def experiment_file(folder: Path) -> Path:
    return two_option_experiment(folder, "faults", "a worker dies", 12)


def dying_replicate(original):
    def replicate(scenario, replication, seed, checks=()):
        if replication == DOOMED and os.getpid() != PARENT:
            os._exit(1)  # the worker process dies outright: no exception, no cleanup
        return original(scenario, replication, seed, checks)

    return replicate


PARENT = os.getpid()


@pytest.mark.slow
def test_a_dying_worker_keeps_the_finished_chunks_and_the_run_resumes(tmp_path, monkeypatch):
    file = experiment_file(tmp_path)
    reference = tmp_path / "reference"
    assert call_main(["experiment", file, "--out", reference, "--workers", "1", "--quiet"])[0] == 0

    out = tmp_path / "out"
    original = sim.batch.runner.replicate
    monkeypatch.setattr(sim.batch.runner, "replicate", dying_replicate(original))  # forked workers inherit it
    code, stdout, stderr = call_main(["experiment", file, "--out", out, "--workers", "2", "--quiet"])
    assert code == 1, stderr
    assert stderr.startswith("error: a worker process died") and "run the same command again" in stderr
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    parts = sorted(out.glob("parts/*/*.parquet"))
    assert parts and not (out / "runs.parquet").exists()

    monkeypatch.setattr(sim.batch.runner, "replicate", original)
    code, stdout, stderr = call_main(["experiment", file, "--out", out, "--workers", "2", "--quiet"])
    assert code == 0, stderr
    assert "resumed" in stdout
    assert (out / "runs.parquet").read_bytes() == (reference / "runs.parquet").read_bytes()


def test_a_full_disk_is_one_clear_line(tmp_path, monkeypatch):
    def no_space(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(sim.batch.folder, "write_atomic", no_space)
    monkeypatch.setattr(sim.batch.folder, "write_json", lambda path, content: no_space(path, None))
    out = tmp_path / "out"
    code, stdout, stderr = call_main(
        ["experiment", experiment_file(tmp_path), "--out", out, "--workers", "1", "--quiet"]
    )
    assert code == 1
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot read or write ") and "No space left" in lines[0]
    assert "Traceback" not in stdout + stderr


def test_an_output_folder_that_cannot_be_made_is_one_clear_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for argv in (
        ["run", BASELINE, "--replications", "2", "--workers", "1", "--quiet", "--out", blocker / "out"],
        ["experiment", experiment_file(tmp_path), "--workers", "1", "--quiet", "--out", blocker / "out"],
    ):
        code, stdout, stderr = call_main(argv)
        assert code in (1, 2), stderr
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and str(blocker) in lines[0], lines
        assert "Traceback" not in stdout + stderr
    assert blocker.read_text() == "not a folder"


@pytest.mark.slow
def test_the_workers_die_with_a_killed_runner(tmp_path):
    out = tmp_path / "out"
    runner = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "run",
            str(BASELINE),
            "--replications",
            "2000",
            "--workers",
            "2",
            "--quiet",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(runner.pid)
    try:
        deadline = time.monotonic() + 60
        while len(parent.children()) < 2 and time.monotonic() < deadline and runner.poll() is None:
            time.sleep(0.1)
        workers = parent.children()
        assert len(workers) == 2 and not (out / "runs.parquet").exists(), "the workers never started"
        time.sleep(1)  # the workers are computing chunks
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for process in alive:
        process.kill()
    assert not alive, f"workers outlived their runner: {[p.pid for p in alive]}"


class CountingPool(ProcessPoolExecutor):
    sizes: list[int] = []

    def __init__(self, max_workers=None, **kwargs):
        CountingPool.sizes.append(max_workers)
        super().__init__(max_workers=max_workers, **kwargs)


def test_the_pool_has_no_more_workers_than_chunks(tmp_path, monkeypatch):
    file = experiment_file(tmp_path)
    file.write_text(file.read_text().replace("replications = 12", "replications = 2"))  # 2 chunks
    monkeypatch.setattr(CountingPool, "sizes", [])
    monkeypatch.setattr(sim.batch.runner, "ProcessPoolExecutor", CountingPool)
    code, _, stderr = call_main(["experiment", file, "--out", tmp_path / "out", "--workers", "4", "--quiet"])
    assert code == 0, stderr
    assert CountingPool.sizes == [2]


def test_more_workers_than_the_machine_bears_is_one_line_and_nothing_written(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = call_main(
        ["experiment", experiment_file(tmp_path), "--out", out, "--workers", "10000", "--quiet"]
    )
    assert code == 2
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --workers 10000 ") and "Traceback" not in stderr
    assert not out.exists()


def test_workers_that_cannot_start_are_reported_as_such(tmp_path, monkeypatch):
    def no_processes(self, *args, **kwargs):
        raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    monkeypatch.setattr(sim.batch.runner.ProcessPoolExecutor, "submit", no_processes)
    code, stdout, stderr = call_main(
        ["experiment", experiment_file(tmp_path), "--out", tmp_path / "out", "--workers", "2", "--quiet"]
    )
    assert code == 1
    lines = stderr.splitlines()
    assert len(lines) == 1 and "cannot start 2 worker processes" in lines[0] and "cannot read or write" not in lines[0]


SCENARIOS = ROOT / "configs" / "scenarios"
UNREACHABLE = {  # a batch command and its inputs, as run with a scheduler that is not there
    "experiment": lambda tmp_path: ["experiment", experiment_file(tmp_path)],
    "validate": lambda tmp_path: ["validate", SCENARIOS / "forecast_2020_2021.toml", "--replications", "2"],
    "validate several": lambda tmp_path: [
        "validate",
        SCENARIOS / "forecast_2020_2021.toml",
        SCENARIOS / "history_2020_2021.toml",
        "--replications",
        "2",
    ],
}


@pytest.mark.parametrize("command", sorted(UNREACHABLE))
def test_an_unreachable_scheduler_fails_before_anything_is_written(command, tmp_path):
    """Every batch command runs on the scheduler it is given (``validate`` of one scenario or of
    several too): an unreachable one is one line and no folder, not a quiet local run."""
    pytest.importorskip("dask.distributed")
    out = tmp_path / "out"
    argv = [*UNREACHABLE[command](tmp_path), "--out", out, "--quiet", "--scheduler", "tcp://127.0.0.1:9"]
    code, stdout, stderr = call_main([*argv, "--scheduler-timeout", "1"])
    assert code == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0] and "Traceback" not in stderr
    assert not out.exists()


def test_workers_that_cannot_load_the_project_fail_before_anything_is_written(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    import sim.batch.dask_cluster

    def cannot_load(self, worker):  # what a worker running another version of the project meets
        raise ModuleNotFoundError("No module named 'sim.batch.dask_cluster'")

    monkeypatch.setattr(sim.batch.dask_cluster.PauseProfiler, "setup", cannot_load)
    out = tmp_path / "out"
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        code, stdout, stderr = call_main(
            ["experiment", experiment_file(tmp_path), "--out", out, "--quiet", "--scheduler", cluster.scheduler_address]
        )
        left = set(cluster.scheduler.worker_plugins)
    assert code == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and "cannot load this project's code" in lines[0] and "sim.batch.dask_cluster" in lines[0]
    assert not out.exists()
    assert sim.batch.dask_cluster.PLUGIN_NAME not in left, "the scheduler would hand the plugin to every new worker"


@pytest.mark.slow
def test_a_folder_whose_report_failed_is_not_complete_until_the_report_is_written(tmp_path, monkeypatch):
    import json

    import sim.api.experiment
    from sim.config.errors import UsageError

    def no_space(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    file, out = experiment_file(tmp_path), tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(sim.api.experiment, "write_html", no_space)  # the disk fills while report.html is written
        code, stdout, stderr = call_main(["experiment", file, "--out", out, "--workers", "1", "--quiet"])
    assert code == 1 and "No space left" in stderr, stderr
    assert (out / "runs.parquet").exists() and not (out / "report.html").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] != "complete"
    with pytest.raises(UsageError, match="unfinished"):
        sim.api.load_results(out)

    code, _, stderr = call_main(["compare", out])  # compare reads finished folders only
    assert code == 2 and len(stderr.splitlines()) == 1 and "not complete (status 'analysing')" in stderr, stderr
    assert "again with the same --out" in stderr and not (out / "report.html").exists()

    code, _, stderr = call_main(
        ["experiment", file, "--out", out, "--workers", "1", "--quiet"]
    )  # resumes, writes the files
    assert code == 0, stderr
    assert (out / "report.html").exists() and json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert sim.api.load_results(out).kind == "experiment"
    assert call_main(["compare", out])[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_run_or_sweep_whose_files_failed_is_not_complete(tmp_path, monkeypatch, command):
    import json

    import sim.api.run
    import sim.api.sweep

    def no_space(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    out = tmp_path / "out"
    if command == "run":
        monkeypatch.setattr(sim.api.run, "write_csv", no_space)  # summary.csv
        argv = ["run", BASELINE, "--replications", "2", "--workers", "1", "--quiet", "--out", out]
    else:
        monkeypatch.setattr(sim.api.sweep, "point_table", no_space)  # points.csv
        argv = [
            "sweep",
            ROOT / "configs" / "sweeps" / SWEEP,
            "--replications",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            out,
        ]
    code, _, stderr = call_main(argv)
    assert code == 1 and "No space left" in stderr, stderr
    assert (out / "runs.parquet").exists() and json.loads((out / "manifest.json").read_text())["status"] != "complete"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_run_or_sweep_writes_its_files_under_its_lock(tmp_path, monkeypatch, command):
    import sim.api.run
    import sim.api.sweep
    from sim.batch.folder import lock_folder
    from sim.config.errors import UsageError

    out, refused = tmp_path / "out", []

    def another_process_tries(original):
        def write(path, *args, **kwargs):
            try:
                os.close(lock_folder(out))  # flock: another open file, as another process's
            except UsageError:
                refused.append(path)
            return original(path, *args, **kwargs)

        return write

    module = sim.api.run if command == "run" else sim.api.sweep  # where summary.csv or points.csv is written
    monkeypatch.setattr(module, "write_csv", another_process_tries(module.write_csv))
    if command == "run":
        argv = ["run", BASELINE, "--replications", "2", "--workers", "1", "--quiet", "--out", out]
    else:
        argv = [
            "sweep",
            ROOT / "configs" / "sweeps" / SWEEP,
            "--replications",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            out,
        ]
    code, _, stderr = call_main(argv)
    assert code == 0, stderr
    assert refused and refused[0] == out / ("summary.csv" if command == "run" else "points.csv")
    os.close(lock_folder(out))  # released at the end


# ------------------------------------------------------------ interrupted by a signal

INTERRUPTED_GUARD_S = 60  # a run that has not ended by then hangs (it ends within a second or two)


def long_chunks(folder: Path, replications: int) -> Path:
    """An experiment of one option in chunks of 5000 replications (minutes each), so that a
    worker is in the middle of one when the run is interrupted. With 20000 replications, two
    chunks run and two wait for a worker; with 5001, the second chunk is a single replication,
    and the worker that ran it then waits, idle, for a task that never comes."""
    path = folder / "long.toml"
    path.write_text(f"""
[experiment]
name = "long_chunks"
description = "chunks that take minutes"
base = "{BASELINE}"
reference = "a"
replications = {replications}
root_seed = 5
chunk_size = 5000
outcomes = ["attacks_rocket"]

[scenarios.a]
""")
    return path


def start_runner(argv: list) -> subprocess.Popen:
    """``run.py`` in a process group of its own (as a supervisor or a terminal starts it), with
    SIGINT's default action back (a shell that starts the tests in the background ignores it)."""

    def own_group_and_sigint() -> None:
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), *map(str, argv)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=own_group_and_sigint,
    )


def workers_of(runner: subprocess.Popen, count: int, ready: Path | None = None) -> list[psutil.Process]:
    """The runner's ``count`` worker processes, once they all run (and ``ready`` exists)."""
    parent = psutil.Process(runner.pid)
    deadline = time.monotonic() + INTERRUPTED_GUARD_S
    while len(parent.children()) < count or (ready is not None and not ready.exists()):
        if runner.poll() is not None:
            pytest.fail(f"the run ended (exit {runner.returncode}) before it was interrupted: {runner.stderr.read()}")
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    return parent.children()


def send(runner: subprocess.Popen, sig: int, to: str) -> None:
    """``sig`` to the main process, to its whole group, or to the main process and then, a
    moment later, to the group (what ``timeout`` and many supervisors do)."""
    if to in ("main", "main, then group"):
        os.kill(runner.pid, sig)
    if to == "main, then group":
        time.sleep(0.3)
    if to in ("group", "main, then group"):
        with contextlib.suppress(ProcessLookupError):  # the whole group may have ended already
            os.killpg(runner.pid, sig)


def ended(runner: subprocess.Popen, workers: list[psutil.Process]) -> tuple[int, str, list[int]]:
    """The runner's exit code, its stderr, and the workers it left behind (killed here)."""
    try:
        _, stderr = runner.communicate(timeout=INTERRUPTED_GUARD_S)
    except subprocess.TimeoutExpired:
        left = [p.pid for p in workers if p.is_running()]
        os.killpg(runner.pid, signal.SIGKILL)
        runner.communicate()
        pytest.fail(f"the interrupted run hung (workers {left} still there after {INTERRUPTED_GUARD_S} s)")
    _, alive = psutil.wait_procs(workers, timeout=10)
    for process in alive:
        process.kill()
    return runner.returncode, stderr, [p.pid for p in alive]


def check_interrupted_cleanly(code: int, stderr: str, orphans: list[int], out: Path) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), f"stderr has {len(lines)} lines:\n{stderr}"
    assert code == 130, f"exit {code}: {stderr}"
    assert not orphans, f"workers outlived the interrupted run: {orphans}"
    assert not (out / "runs.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"


@pytest.mark.slow
@pytest.mark.parametrize("to", ["main", "group", "main, then group"])
def test_sigterm_during_long_chunks_stops_the_run_and_its_workers(tmp_path, to):
    out = tmp_path / "out"
    runner = start_runner(["experiment", long_chunks(tmp_path, 20000), "--out", out, "--workers", "2", "--quiet"])
    workers = workers_of(runner, 2)
    time.sleep(0.5)  # both workers are in the middle of a chunk
    send(runner, signal.SIGTERM, to)
    check_interrupted_cleanly(*ended(runner, workers), out)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_group_with_an_idle_worker_is_one_line(tmp_path, sig):
    out = tmp_path / "out"
    runner = start_runner(["experiment", long_chunks(tmp_path, 5001), "--out", out, "--workers", "2", "--quiet"])
    workers = workers_of(runner, 2, ready=out / "parts" / "000" / "000001.parquet")  # the one-replication chunk is done
    time.sleep(0.2)
    send(runner, sig, "group")
    check_interrupted_cleanly(*ended(runner, workers), out)


SWEEP_FILE = ROOT / "configs" / "sweeps" / SWEEP
EVERY_COMMAND = {
    "run": ["run", BASELINE, "--replications", "4000"],
    "sweep": ["sweep", SWEEP_FILE, "--replications", "400"],
    "validate": ["validate", BASELINE, "--replications", "400"],
    "calibrate": ["calibrate", "--quick"],
}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(EVERY_COMMAND))
def test_every_command_stops_cleanly_when_timeout_ends_it(tmp_path, command):
    """``timeout`` sends SIGTERM to the command and then to its group."""
    out = tmp_path / "out"
    runner = start_runner([*EVERY_COMMAND[command], "--out", out, "--workers", "2", "--quiet"])
    workers = workers_of(runner, 2)
    time.sleep(0.5)
    send(runner, signal.SIGTERM, "main, then group")
    code, stderr, orphans = ended(runner, workers)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), f"stderr has {len(lines)} lines:\n{stderr}"
    assert code == 130, f"exit {code}: {stderr}"
    assert not orphans, f"workers outlived the interrupted run: {orphans}"


@pytest.mark.slow
def test_a_run_that_timeout_ended_resumes_to_the_same_bytes(tmp_path):
    argv = ["run", BASELINE, "--replications", "300", "--workers", "2", "--quiet"]
    reference = tmp_path / "reference"
    assert call_main([*argv, "--out", reference])[0] == 0

    out = tmp_path / "out"
    runner = start_runner([*argv, "--out", out])
    workers = workers_of(runner, 2, ready=out / "parts" / "000" / "000000.parquet")
    send(runner, signal.SIGTERM, "main, then group")
    code, stderr, orphans = ended(runner, workers)
    assert code == 130 and len(stderr.splitlines()) == 1 and not orphans, stderr
    assert not (out / "runs.parquet").exists(), "the run finished before it was interrupted"

    code, stdout, stderr = call_main([*argv, "--out", out])
    assert code == 0, stderr
    assert "resumed" in stdout
    assert (out / "runs.parquet").read_bytes() == (reference / "runs.parquet").read_bytes()
