"""What a results folder guarantees: checksummed parts that a resume verifies and recomputes,
a damaged manifest, table or part reported in one line, stale partial files cleaned, a lock
that keeps a second run out, and `compare` on a damaged folder in one line."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import call_main, two_option_experiment


def experiment_file(folder: Path) -> Path:
    return two_option_experiment(folder, "integrity", "a damaged folder", 6)


def run(file: Path, out: Path) -> tuple[int, str, str]:
    return call_main(["experiment", file, "--out", out, "--workers", "1", "--quiet"])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished experiment folder, kept as the reference bytes."""
    folder = tmp_path_factory.mktemp("integrity")
    file = experiment_file(folder)
    out = folder / "reference"
    code, _, stderr = run(file, out)
    assert code == 0, stderr
    return {"file": file, "out": out, "runs": (out / "runs.parquet").read_bytes()}


def copy_of(finished, tmp_path) -> Path:
    out = tmp_path / "out"
    subprocess.run(["cp", "-a", str(finished["out"]), str(out)], check=True)
    return out


def one_error_line(stdout: str, stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stdout + stderr
    return lines[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_records_the_checksum_of_every_part_and_of_the_runs(finished):
    out = finished["out"]
    checksums = json.loads((out / "manifest.json").read_text())["checksums"]
    parts = sorted(out.glob("parts/*/*.parquet"))
    assert len(parts) == 6
    assert checksums["runs.parquet"] == sha256(out / "runs.parquet")
    for part in parts:
        assert checksums[part.relative_to(out).as_posix()] == sha256(part)


def flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGES = {
    "flipped bit": flip_a_bit,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3]),
    "empty": lambda p: p.write_bytes(b""),
    "invalid record": lambda p: p.with_suffix(".json").write_text("{not json"),
    "record is a list": lambda p: p.with_suffix(".json").write_text("[]"),
    "missing record": lambda p: p.with_suffix(".json").unlink(),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("which", [0, 3, 5])
def test_a_damaged_part_is_recomputed_to_the_reference_bytes(finished, tmp_path, damage, which):
    out = copy_of(finished, tmp_path)
    part = sorted(out.glob("parts/*/*.parquet"))[which]
    DAMAGES[damage](part)
    code, stdout, stderr = run(finished["file"], out)
    assert code == 0, stderr
    assert f"part {part.relative_to(out).as_posix()} damaged" in stdout and "recomputed" in stdout, stdout
    assert "resumed: 5 chunks" in stdout
    assert (out / "runs.parquet").read_bytes() == finished["runs"]


def test_a_damaged_runs_table_is_rebuilt_by_a_rerun_and_refused_by_compare(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    flip_a_bit(out / "runs.parquet")
    line = one_error_line(*call_main(["compare", out])[1:])
    assert "runs.parquet" in line and "damaged" in line
    code, _, stderr = run(finished["file"], out)
    assert code == 0, stderr
    assert (out / "runs.parquet").read_bytes() == finished["runs"]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_a_damaged_manifest_is_one_line_naming_it(finished, tmp_path, content):
    out = copy_of(finished, tmp_path)
    (out / "manifest.json").write_text(content)
    code, stdout, stderr = run(finished["file"], out)
    assert code == 2
    line = one_error_line(stdout, stderr)
    assert "manifest.json" in line and "damaged" in line and "different" not in line
    assert "remove the folder or choose another --out" in line


@pytest.mark.parametrize("damage", ["invalid manifest", "manifest is a list", "garbage runs", "no outcomes"])
def test_compare_on_a_damaged_folder_is_one_line(finished, tmp_path, damage):
    out = copy_of(finished, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    if damage == "invalid manifest":
        (out / "manifest.json").write_text("{not json")
    elif damage == "manifest is a list":
        (out / "manifest.json").write_text("[]")
    elif damage == "garbage runs":
        (out / "runs.parquet").write_bytes(b"garbage" * 100)
        del manifest["checksums"]  # a folder from before checksums: the table itself is unreadable
        (out / "manifest.json").write_text(json.dumps(manifest))
    else:
        del manifest["outcomes"]
        (out / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, stderr = call_main(["compare", out])
    assert code == 2
    line = one_error_line(stdout, stderr)
    assert str(out) in line


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_partial_files_are_cleaned_on_the_next_run(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    stale = [
        out / f".runs.parquet.partial-{dead_pid()}",
        out / "parts" / "000" / f".000001.parquet.partial-{os.getpid()}",
    ]
    for path in stale:
        path.write_bytes(b"half a file")
    code, _, stderr = run(finished["file"], out)
    assert code == 0, stderr
    assert not any(p.exists() for p in stale)
    assert not list(out.rglob("*.partial-*"))


def test_a_folder_in_use_stops_a_second_run_with_one_line(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    before = (out / "manifest.json").read_bytes()
    with open(out / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.truncate(0)
        lock.write("4242\n")
        lock.flush()
        code, stdout, stderr = run(finished["file"], out)
    assert code == 2
    line = one_error_line(stdout, stderr)
    assert f"{out} is in use by process 4242" in line
    assert (out / "manifest.json").read_bytes() == before
    code, _, stderr = run(finished["file"], out)  # the lock went with its holder
    assert code == 0, stderr


@pytest.mark.parametrize("plant", ["link", "dangling link", "folder", "pipe"])
def test_a_lock_that_is_not_a_regular_file_is_refused_and_nothing_it_points_to_changes(finished, tmp_path, plant):
    out = copy_of(finished, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = out / ".lock"
    lock.unlink(missing_ok=True)
    if plant == "link":
        lock.symlink_to(victim)
    elif plant == "dangling link":
        lock.symlink_to(tmp_path / "made_by_the_lock")
    elif plant == "folder":
        lock.mkdir()
    else:
        os.mkfifo(lock)
    before = (out / "manifest.json").read_bytes()
    code, stdout, stderr = run(finished["file"], out)
    assert code == 2, stderr
    line = one_error_line(stdout, stderr)
    assert f"{lock} is not a regular file" in line
    assert victim.read_text() == "precious\n" and not (tmp_path / "made_by_the_lock").exists()
    assert (out / "manifest.json").read_bytes() == before


def test_compare_cleans_what_a_killed_compare_left_and_keeps_what_a_live_one_writes(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    (out / "plots").mkdir(exist_ok=True)
    dead = [out / f".report.html.partial-{dead_pid()}", out / "plots" / f".figure.png.partial-{dead_pid()}"]
    live = out / f".notes.txt.partial-{os.getpid()}"
    for path in (*dead, live):
        path.write_bytes(b"half a file")
    code, _, stderr = call_main(["compare", out])
    assert code == 0, stderr
    assert not any(p.exists() for p in dead) and live.exists()


def test_compare_on_a_folder_in_use_is_one_line_and_writes_nothing(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    (out / "report.md").unlink()
    with open(out / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.truncate(0)
        lock.write("4242\n")
        lock.flush()
        code, stdout, stderr = call_main(["compare", out])
    assert code == 2
    assert f"{out} is in use by process 4242" in one_error_line(stdout, stderr)
    assert not (out / "report.md").exists()
