"""The command line starts light: help, the version, a usage error and a refused input answer
without importing the heavy libraries (pandas, scipy, pyarrow, matplotlib, simpy).

Counted as modules loaded in a fresh process, never as time (see ``bench/startup.py`` for that).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "scipy", "pyarrow", "matplotlib", "simpy", "numpy")
PROBE = f"""
import json, runpy, sys
sys.argv = ["run.py", *json.loads(sys.argv[1])]
try:
    runpy.run_path("run.py", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
sys.stderr.write("\\n" + json.dumps({{"code": code, "heavy": heavy}}) + "\\n")
"""


def loaded(arguments: list[str]) -> tuple[object, list[str]]:
    """The exit code of `run.py ARGUMENTS` and the heavy libraries it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"]


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["--version"], ["--bogus"], ["rnu"], ["run", "--replications", "0"]]
    + [[command, "--help"] for command in COMMANDS if command != "trace"],
    ids=" ".join,
)
def test_help_version_and_usage_errors_load_no_heavy_library(arguments):
    code, heavy = loaded(arguments)
    assert code in (0, 2)
    assert heavy == []


def test_trace_help_loads_only_the_model_that_declares_the_event_kinds():
    """``trace --help`` lists the event kinds, which the model's modules declare: it imports
    the model (SimPy, NumPy, pandas), never scipy, pyarrow's readers or matplotlib."""
    code, heavy = loaded(["trace", "--help"])
    assert code == 0
    assert "scipy" not in heavy and "matplotlib" not in heavy


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "configs/baseline.toml", "--set", "cram.kill_prob=1.5"],
        ["run", "configs/no_such_file.toml"],
        ["trace", "configs/no_such_file.toml"],
        ["validate", "configs/no_such_file.toml"],
    ],
    ids=" ".join,
)
def test_a_refused_scenario_loads_no_heavy_library(arguments):
    code, heavy = loaded(arguments)
    assert code == 2
    assert heavy == []


@pytest.mark.parametrize("command", ["experiment", "sweep"])
def test_a_refused_experiment_or_sweep_file_loads_no_scipy(command, tmp_path):
    """Experiment and sweep files are read by the design layer, which works in pandas; scipy
    (the designs' samplers, the analysis) is not needed to refuse one."""
    path = tmp_path / "bad.toml"
    path.write_text(f'[{command}]\nname = "x"\nbogus = 1\n', encoding="utf-8")
    code, heavy = loaded([command, str(path)])
    assert code == 2
    assert "scipy" not in heavy and "matplotlib" not in heavy
