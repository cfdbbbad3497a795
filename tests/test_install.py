"""The install: a light core (the default job and the ordinary commands import no extra), one
line naming the ``pip install`` when an extra is missing, the version written once, the console
command, a mistyped command, and progress as plain lines in a log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest
from builders import call_main
from test_batch import experiment_text, one_error_line

import sim
from sim.cli.main import main
from sim.cli.options import ProgressLines

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRA_PACKAGES = ("pyabc", "ema_workbench", "ipykernel", "jupyter", "torch", "sbi")  # jupyter_client ... by prefix

# A meta path finder that makes the packages of the extras unimportable, as in a core install.
BLOCKER = """
import sys
BLOCKED = {"pyabc", "ema_workbench", "dask", "distributed", "torch", "sbi"}
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def run_python(args: list[str], tmp_path: Path, block: bool = False) -> subprocess.CompletedProcess:
    """``python ARGS`` from the project's folder, stderr a pipe (not a terminal); with ``block``,
    the extras' packages cannot be imported."""
    paths = [str(ROOT)]
    if block:
        blocker = tmp_path / "blocker"
        blocker.mkdir(exist_ok=True)
        (blocker / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
        paths.insert(0, str(blocker))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def small_experiment(folder: Path) -> Path:
    """Two scenarios x 5 replications, one replication a chunk: ten chunks, each a tenth."""
    path = folder / "small.toml"
    path.write_text(
        experiment_text(
            {"continuity": {}, "strong_cram": {"set": {"cram.kill_prob": 0.8}}},
            replications=5,
            chunk_size=1,
            end_date=date(2020, 3, 31),
        ),
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- the light core


@pytest.mark.slow
def test_the_default_job_and_the_cli_import_no_extra(tmp_path):
    """Importing the command line and running an experiment (as the default job does) imports
    neither pyabc, EMA Workbench nor anything of Jupyter; stderr being a pipe, progress comes
    as plain lines, a tenth of the chunks each."""
    script = (
        "import json, sys\n"
        "from sim.cli.main import main\n"
        f"code = main(['experiment', {str(small_experiment(tmp_path))!r}, '--out', {str(tmp_path / 'out')!r}, '--workers', '1'])\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0].startswith({EXTRA_PACKAGES!r}))\n"
        "print(json.dumps({'code': code, 'loaded': loaded}))\n"
    )
    done = run_python(["-c", script], tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"code": 0, "loaded": []}
    progress = [line for line in done.stderr.splitlines() if line.startswith("progress: ")]
    assert len(progress) == 10, done.stderr
    assert progress[-1].startswith("progress: 10/10 rep (100%)")
    assert "\r" not in done.stderr  # no bar redrawn in place


@pytest.mark.slow
def test_calibrate_without_pyabc_is_one_line_naming_the_extra(tmp_path):
    done = run_python(
        ["run.py", "calibrate", "--quick", "--out", str(tmp_path / "out"), "--quiet"], tmp_path, block=True
    )
    line = one_error_line(done.returncode, done.stdout, done.stderr)
    assert line == 'error: calibrate needs pyabc, which the core install leaves out: pip install -e ".[calibrate]"'
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_calibrate_method_npe_without_sbi_is_one_line_naming_the_extra(tmp_path):
    """The npe extra is checked before any folder or pilot run (pyabc, blocked as well, is
    never reached)."""
    done = run_python(
        ["run.py", "calibrate", "--method", "npe", "--quick", "--out", str(tmp_path / "out"), "--quiet"],
        tmp_path,
        block=True,
    )
    line = one_error_line(done.returncode, done.stdout, done.stderr)
    assert line == (
        'error: calibrate --method npe needs sbi and torch, which the core install leaves out: pip install -e ".[npe]"'
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_scheduler_without_dask_is_one_line_naming_the_extra(tmp_path):
    done = run_python(
        [
            "run.py",
            "run",
            "configs/baseline.toml",
            "--replications",
            "2",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ],
        tmp_path,
        block=True,
    )
    line = one_error_line(done.returncode, done.stdout, done.stderr)
    assert line == 'error: --scheduler needs dask, which the core install leaves out: pip install -e ".[dask]"'


ROBUSTNESS = """[experiment]
name = "rob"
description = "a rocket rate that decides the threshold: PRIM has a box to find"
base = {base}
reference = "continuity"
replications = 6
root_seed = 5
chunk_size = 3
end_date = 2020-03-31
states = 8
states_design = "lhs"
outcomes = ["attacks_rocket"]

[uncertain."threats.rocket.base_rate_per_day"]
low = 0.01
high = 4.0

[thresholds]
attacks_rocket = {{max = 30}}

[scenarios.continuity]

[scenarios.strong_cram]
set = {{"cram.kill_prob" = 0.8}}
"""


@pytest.mark.slow
def test_prim_without_ema_workbench_is_one_line_naming_the_extra(tmp_path):
    """A robustness experiment whose states fail where the rocket rate is high needs PRIM:
    without EMA Workbench, one line naming the extra (the runs are kept for the same command)."""
    path = tmp_path / "rob.toml"
    path.write_text(ROBUSTNESS.format(base=json.dumps(str(ROOT / "configs" / "baseline.toml"))), encoding="utf-8")
    done = run_python(
        ["run.py", "experiment", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"],
        tmp_path,
        block=True,
    )
    line = one_error_line(done.returncode, done.stdout, done.stderr)
    assert line.startswith(
        "error: PRIM (a robustness experiment's scenario discovery) needs ema_workbench, which the "
        'core install leaves out: pip install -e ".[discovery]" (the chunks already finished are kept'
    )


def test_the_extras_are_those_the_readme_names():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(extras) == {"calibrate", "discovery", "dask", "docs", "notebook", "npe", "test"}
    core = " ".join(PYPROJECT["project"]["dependencies"]).lower()
    for package in ("pyabc", "ema_workbench", "dask", "ipykernel", "jupyter", "mkdocs", "torch", "sbi"):
        assert package not in core
    assert (
        extras["test"][0] == "militia-pressure-sim[calibrate,discovery,dask,docs,notebook,npe]"
    )  # the test command installs all
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for extra in extras:
        assert f"| `{extra}` |" in readme, f"the README's table of extras lacks {extra}"
    # a torch range would let pip take a newer CUDA build of several GB: the README says how to get the CPU one
    assert (
        "torch==2.13.0" in extras["npe"] and "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in readme
    )
    assert any(r.startswith("ruff") for r in extras["test"])


# --------------------------------------------------------------------------- version, command


def test_the_version_is_the_one_in_pyproject(capsys):
    assert sim.__version__ == PYPROJECT["project"]["version"]
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"run.py {PYPROJECT['project']['version']}\n"


def test_the_console_command_is_the_command_line(monkeypatch, capsys):
    value = PYPROJECT["project"]["scripts"]["militia-sim"]
    assert metadata.EntryPoint("militia-sim", value, "console_scripts").load() is main
    try:
        installed = metadata.distribution("militia-pressure-sim")
    except metadata.PackageNotFoundError:
        installed = None
    if installed is not None and installed.version == sim.__version__:  # installed from this checkout
        assert [e.value for e in installed.entry_points if e.name == "militia-sim"] == [value]
    monkeypatch.setattr(sys, "argv", ["/somewhere/bin/militia-sim", "--version"])
    with pytest.raises(SystemExit):
        main()
    assert capsys.readouterr().out == f"militia-sim {sim.__version__}\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["valdate", "configs/baseline.toml"], "error: unknown command 'valdate'; did you mean 'validate'?"),
        (["exprimet"], "error: unknown command 'exprimet'; did you mean 'experiment'?"),
        (
            ["frobnicate"],
            (
                "error: unknown command 'frobnicate'; the commands are run, trace, experiment, compare, sweep, "
                "calibrate, validate, describe (see 'run.py --help')"
            ),
        ),
    ],
)
def test_a_mistyped_command_is_one_line(argv, message):
    code, stdout, stderr = call_main(argv)
    assert one_error_line(code, stdout, stderr) == message


def test_an_experiment_file_still_goes_to_the_default_job(tmp_path):
    code, stdout, stderr = call_main([tmp_path / "missing.toml"])
    assert "experiment file not found" in one_error_line(code, stdout, stderr)


# --------------------------------------------------------------------------- progress in a log


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Stream:
    def __init__(self) -> None:
        self.text, self.flushes = "", 0

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        self.flushes += 1


def test_progress_lines_come_every_tenth_each_flushed():
    stream = Stream()
    progress = ProgressLines(1000, "rep", stream, clock=Clock(0.001))
    for _ in range(1000):
        progress(1)
    lines = stream.text.splitlines()
    assert [line.split(",")[0] for line in lines[:2]] == ["progress: 100/1", "progress: 200/1"]
    assert len(lines) == 10 and stream.flushes == 10
    assert lines[-1].startswith("progress: 1,000/1,000 rep (100%)")


def test_progress_lines_come_every_ten_seconds_between_tenths():
    """A slow run: 1,000 updates 1 s apart (a fake clock) give one line a tenth and one
    every 10 s in between; without a total, one every 10 s."""
    stream = Stream()
    progress = ProgressLines(1000, "sim", stream, clock=Clock(1.0))
    for _ in range(1000):
        progress(1)
    assert len(stream.text.splitlines()) == 100  # 1,000 s: a line every 10 s (the tenths fall on them)
    stream = Stream()
    progress = ProgressLines(None, "sim", stream, clock=Clock(1.0))
    for _ in range(95):
        progress(1)
    lines = stream.text.splitlines()
    assert len(lines) == 9 and lines[0] == "progress: 10 sim, 10 s"
