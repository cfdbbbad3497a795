"""Faults: a worker process that dies, a disk that is full, a folder that cannot be written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from builders import call_main

import sim.batch.folder
import sim.batch.runner

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
DOOMED = 7  # the replication whose worker dies




def experiment_file(folder: Path) -> Path:
    path = folder / "exp.toml"
    path.write_text(f"""
[experiment]
name = "faults"
description = "a worker dies"
base = "{BASELINE}"
reference = "a"
replications = 12
root_seed = 5
chunk_size = 2
end_date = 2020-01-20
outcomes = ["attacks_rocket"]

[scenarios.a]

[scenarios.b]
set = {{ "cram.kill_prob" = 0.9 }}
""")
    return path


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
    assert code == 130, stderr
    assert stderr.startswith("interrupted: ") and "resume" in stderr and "Traceback" not in stderr
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
    code, stdout, stderr = call_main(["experiment", experiment_file(tmp_path), "--out", out, "--workers", "1", "--quiet"])
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
