"""Bad input through the command line: one line on stderr, exit code 2, nothing written.

Every case must end with exit code 2, exactly one line on stderr starting with ``error:``
that names the key, the value, the rule and the file (or ``--set``), no traceback, and no
output folder. Most cases call :func:`sim.cli.main` in this process; a handful run
``run.py`` as a real subprocess to show that no traceback reaches the user.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
CONFIGS = ROOT / "configs"


@dataclass(frozen=True)
class Case:
    """One kind of bad input.

    ``files``: scenario files to write under tmp_path (``{baseline}`` and ``{tmp}`` are
    filled in). ``argv``: the command line (``{tmp}`` filled in; ``--out {tmp}/out`` is
    added to every ``run``). ``expect``: text the error line must contain (key, value,
    rule). ``origin``: the file or ``--set`` the line must end with, in parentheses, or
    None for command-line options that have no file.
    """

    argv: list[str]
    expect: list[str]
    origin: str | None
    files: dict[str, str] = field(default_factory=dict)


def _extends(body: str) -> str:
    return 'extends = "{baseline}"\n' + body


CASES: dict[str, Case] = {
    # --- the scenario file itself ---
    "missing_file": Case(["run", "{tmp}/nope.toml"], ["scenario file not found"], "{tmp}/nope.toml"),
    "scenario_is_a_directory": Case(
        ["run", "{tmp}/adir.toml"], ["scenario file cannot be read"], "{tmp}/adir.toml", {"adir.toml/": ""}
    ),
    "empty_file": Case(
        ["run", "{tmp}/empty.toml"], ["error: scenario is missing (required)"], "{tmp}/empty.toml", {"empty.toml": ""}
    ),
    "missing_key": Case(
        ["run", "{tmp}/short.toml"],
        ["error: scenario.end_date is missing (required)"],
        "{tmp}/short.toml",
        {"short.toml": '[scenario]\nname = "x"\ndescription = "x"\nstart_date = 2020-01-01\n'},
    ),
    "invalid_toml": Case(
        ["run", "{tmp}/broken.toml"],
        ["scenario file is not valid TOML"],
        "{tmp}/broken.toml",
        {"broken.toml": "x = [\n"},
    ),
    "not_utf8": Case(
        ["run", "{tmp}/latin1.toml"],
        ["scenario file cannot be read"],
        "{tmp}/latin1.toml",
        {"latin1.toml": b"name = '\xe9'\n"},
    ),
    # --- keys and values in a file ---
    "unknown_top_level_key_in_file": Case(
        ["run", "{tmp}/unknown.toml"],
        ["error: bogus = 1 is not a known key (known: scenario, campaign, threats"],
        "{tmp}/unknown.toml",
        {"unknown.toml": _extends("bogus = 1\n")},
    ),
    "unknown_nested_key_in_file": Case(
        ["run", "{tmp}/unknown.toml"],
        ["error: threats.rocket.bogus_key = 2 is not a known key (known: base_rate_per_day,"],
        "{tmp}/unknown.toml",
        {"unknown.toml": _extends("[threats.rocket]\nbogus_key = 2\n")},
    ),
    "string_for_number_in_file": Case(
        ["run", "{tmp}/type.toml"],
        ["error: threats.rocket.base_rate_per_day = 'lots' must be a finite number"],
        "{tmp}/type.toml",
        {"type.toml": _extends('[threats.rocket]\nbase_rate_per_day = "lots"\n')},
    ),
    "number_for_table_in_file": Case(
        ["run", "{tmp}/type.toml"],
        ["error: cram = 3 must be a table"],
        "{tmp}/type.toml",
        {"type.toml": _extends("cram = 3\n")},
    ),
    "probability_1.3_in_file": Case(
        ["run", "{tmp}/prob.toml"],
        ["error: threats.rocket.heavy_salvo_prob = 1.3 must be in [0, 1]"],
        "{tmp}/prob.toml",
        {"prob.toml": _extends("[threats.rocket]\nheavy_salvo_prob = 1.3\n")},
    ),
    "nan_in_file": Case(
        ["run", "{tmp}/nan.toml"],
        ["error: cram.kill_prob = nan must be a finite number"],
        "{tmp}/nan.toml",
        {"nan.toml": _extends("[cram]\nkill_prob = nan\n")},
    ),
    "float_for_integer_in_file": Case(
        ["run", "{tmp}/int.toml"],
        ["error: sites.embassy.cram_fire_units = 1.5 must be an integer"],
        "{tmp}/int.toml",
        {"int.toml": _extends("[sites.embassy]\ncram_fire_units = 1.5\n")},
    ),
    # --- the extends chain ---
    "extends_invalid_toml": Case(
        ["run", "{tmp}/child.toml"],
        ["scenario file is not valid TOML"],
        "{tmp}/broken.toml",
        {"broken.toml": "x = [\n", "child.toml": 'extends = "broken.toml"\n'},
    ),
    "extends_missing_file": Case(
        ["run", "{tmp}/child.toml"],
        ["scenario file not found"],
        "{tmp}/gone.toml",
        {"child.toml": 'extends = "gone.toml"\n'},
    ),
    "extends_bad_value_in_middle_file": Case(
        ["run", "{tmp}/child.toml"],
        ["error: threats.rocket.heavy_salvo_prob = 1.3 must be in [0, 1]"],
        "{tmp}/middle.toml",
        {
            "middle.toml": _extends("[threats.rocket]\nheavy_salvo_prob = 1.3\n"),
            "child.toml": 'extends = "middle.toml"\n[cram]\nkill_prob = 0.5\n',
        },
    ),
    "extends_unknown_key_in_middle_file": Case(
        ["run", "{tmp}/child.toml"],
        ["error: cram.bogus = 4 is not a known key (known: detection_delay_s,"],
        "{tmp}/middle.toml",
        {"middle.toml": _extends("[cram]\nbogus = 4\n"), "child.toml": 'extends = "middle.toml"\n'},
    ),
    "extends_cycle": Case(
        ["run", "{tmp}/loop.toml"],
        ["error: extends = ", "a cycle?"],
        "{tmp}/loop.toml",
        {"loop.toml": 'extends = "loop.toml"\n'},
    ),
    "extends_not_a_string": Case(
        ["run", "{tmp}/child.toml"],
        ["error: extends = 3 must be a path to another scenario file"],
        "{tmp}/child.toml",
        {"child.toml": "extends = 3\n"},
    ),
    # --- --set overrides ---
    "set_probability_1.3": Case(
        ["run", "--set", "threats.rocket.heavy_salvo_prob=1.3"],
        ["error: threats.rocket.heavy_salvo_prob = 1.3 must be in [0, 1]"],
        "--set",
    ),
    "set_negative_rate": Case(
        ["run", "--set", "threats.rocket.base_rate_per_day=-1"],
        ["error: threats.rocket.base_rate_per_day = -1 must be >= 0"],
        "--set",
    ),
    "set_end_before_start": Case(
        ["run", "--set", "scenario.end_date=2019-01-01"],
        ["error: scenario.end_date = 2019-01-01 must be after start_date 2020-01-01"],
        "--set",
    ),
    "set_end_centuries_ahead": Case(
        ["run", "--set", "scenario.end_date=9999-12-31"],
        ["error: scenario.end_date = 9999-12-31 must be at most 36,525 days after start_date 2020-01-01"],
        "--set",
    ),
    "set_nan": Case(
        ["run", "--set", "threats.rocket.base_rate_per_day=nan"],
        ["error: threats.rocket.base_rate_per_day = nan must be a finite number"],
        "--set",
    ),
    "set_inf": Case(
        ["run", "--set", "cram.kill_prob=inf"], ["error: cram.kill_prob = inf must be a finite number"], "--set"
    ),
    "set_minus_inf": Case(
        ["run", "--set", "cram.detection_delay_s=-inf"],
        ["error: cram.detection_delay_s = -inf must be a finite number"],
        "--set",
    ),
    "set_string_for_number": Case(
        ["run", "--set", "threats.rocket.base_rate_per_day=lots"],
        ["error: threats.rocket.base_rate_per_day = 'lots' must be a finite number"],
        "--set",
    ),
    "set_bool_for_number": Case(
        ["run", "--set", "cram.kill_prob=true"], ["error: cram.kill_prob = True must be a finite number"], "--set"
    ),
    "set_float_for_integer": Case(
        ["run", "--set", "sites.embassy.cram_fire_units=1.5"],
        ["error: sites.embassy.cram_fire_units = 1.5 must be an integer"],
        "--set",
    ),
    "set_string_for_date": Case(
        ["run", "--set", 'scenario.start_date="2020-01-01"'],
        ["error: scenario.start_date = '2020-01-01' must be a date"],
        "--set",
    ),
    "set_unknown_key": Case(
        ["run", "--set", "threats.rocket.nope=1"], ["error: threats.rocket.nope = 1 is not a known parameter"], "--set"
    ),
    "set_unknown_section": Case(
        ["run", "--set", "weather.rain=1"], ["error: weather.rain = 1 is not a known parameter"], "--set"
    ),
    "set_below_a_parameter": Case(
        ["run", "--set", "cram.kill_prob.x=1"], ["error: cram.kill_prob.x = 1 is not a known parameter"], "--set"
    ),
    "set_without_equals": Case(
        ["run", "--set", "threats.rocket.heavy_salvo_prob"],
        ["error: threats.rocket.heavy_salvo_prob must have the form dotted.key=value"],
        "--set",
    ),
    "set_empty_key": Case(["run", "--set", "=3"], ["error: =3 must have the form dotted.key=value"], "--set"),
    "set_names_a_table": Case(["run", "--set", "cram=3"], ["error: cram = 3 names a table, not a parameter"], "--set"),
    "set_names_a_site": Case(
        ["run", "--set", "sites.embassy=3"], ["error: sites.embassy = 3 names a table, not a parameter"], "--set"
    ),
    "set_new_site_incomplete": Case(
        ["run", "--set", 'sites.newbase.label="New"'], ["error: sites.newbase.personnel is missing (required)"], "--set"
    ),
    "set_on_trace": Case(
        ["trace", "--set", "threats.rocket.heavy_salvo_prob=1.3"],
        ["error: threats.rocket.heavy_salvo_prob = 1.3 must be in [0, 1]"],
        "--set",
    ),
    # --- command-line options (argparse): key, value and rule, no file ---
    "replications_0": Case(
        ["run", "--replications", "0"], ["argument --replications", "'0'", "must be an integer >= 1"], None
    ),
    "replications_not_a_number": Case(
        ["run", "--replications", "abc"], ["argument --replications", "'abc'", "must be an integer >= 1"], None
    ),
    "seed_negative": Case(["run", "--seed", "-1"], ["argument --seed", "'-1'", "must be an integer >= 0"], None),
    "seed_float": Case(["run", "--seed", "1.5"], ["argument --seed", "'1.5'", "must be an integer >= 0"], None),
    "workers_0": Case(["run", "--workers", "0"], ["argument --workers", "'0'", "must be an integer >= 1"], None),
    "trace_replication_negative": Case(
        ["trace", "--replication", "-2"], ["argument --replication", "'-2'", "must be an integer >= 0"], None
    ),
    # a first word that is neither a command nor a file is an unknown command (a path goes to the default job)
    "unknown_command": Case(["fly"], ["unknown command 'fly'; the commands are run, trace, experiment"], None),
    "missing_experiment_file": Case(["fly.toml"], ["experiment file not found", "(fly.toml)"], None),
    "trace_kinds_unknown": Case(
        ["trace", "--kinds", "attack_rocket,attack_tank"],
        ["--kinds 'attack_tank' is not an event kind", "attack_rocket"],
        None,
    ),
    "trace_kinds_empty": Case(["trace", "--kinds", ""], ["--kinds '' is not an event kind"], None),
    "trace_save_bad_suffix": Case(
        ["trace", "--save", "{tmp}/log.txt"], ["--save {tmp}/log.txt", "must end in .csv or .parquet"], None
    ),
    "trace_save_no_suffix": Case(
        ["trace", "--save", "{tmp}/log"], ["--save {tmp}/log", "must end in .csv or .parquet"], None
    ),
    # --- robustness experiments ---
    # an [uncertain] entry that names a table of entries (sites.embassy): an IndexError traceback
    # when the states were applied, found by tests/test_fuzz.py
    "uncertain_names_an_entry": Case(
        ["experiment", "{tmp}/exp.toml", "--out", "{tmp}/out", "--workers", "1", "--quiet"],
        ["error: sites.embassy = ", "names a table, not a parameter"],
        "{tmp}/exp.toml [a, state 0]",
        {
            "exp.toml": '[experiment]\nname = "x"\ndescription = "x"\nbase = "{baseline}"\nreference = "a"\nreplications = 1\n'
            'root_seed = 1\nend_date = 2020-01-10\noutcomes = ["us_killed"]\nstates = 2\n\n[scenarios.a]\n\n'
            '[scenarios.b]\n\n[uncertain."sites.embassy"]\nlow = 0.1\nhigh = 0.9\n'
        },
    ),
    # --- calibration files ---
    # a prior of absurd arguments (its distribution overflows): the error line came with two lines
    # of numpy's RuntimeWarning on stderr, found by tests/test_fuzz.py (seen in a subprocess:
    # pytest captures the warnings of an in-process call)
    "prior_overflows": Case(
        ["calibrate", "{tmp}/cal.toml", "--quick", "--quiet", "--workers", "1", "--out", "{tmp}/out"],
        [
            "error: priors.\"cram.kill_prob\" = 'uniform(-1.7e+308, 1.7e+308)' puts prior mass where the parameter's rule refuses it"
        ],
        "{tmp}/cal.toml",
        {
            "cal.toml": "\n".join(
                [
                    "[calibration]",
                    'name = "x"',
                    'description = "x"',
                    f'scenario = "{CONFIGS}/baseline.toml"',
                    f'record = "{CONFIGS}/data/public_record.csv"',
                    f'replay = "{CONFIGS}/scenarios/forecast_2020_2021.toml"',
                    "root_seed = 1",
                    *(
                        f"[calibration.{budget}]\nparticles = 10\nmax_generations = 2\nmax_simulations = 100\n"
                        "min_acceptance_rate = 0.05\nepsilon_quantile = 0.5\npilot_replications = 10\n"
                        "predictive_replications = 10"
                        for budget in ("full", "quick")
                    ),
                    '[priors."cram.kill_prob"]',
                    'family = "uniform"',
                    "low = -1.7e308",
                    "high = 1.7e308",
                    "",
                ]
            )
        },
    ),
    # --- the public record read by validate ---
    # a fitted count of 1e308 to 1.7e308: a traceback (ValueError: lam value too large, in the
    # baselines) after the validation folder was written, found by tests/test_fuzz.py
    "record_observed_huge": Case(
        [
            "validate",
            "{tmp}/short.toml",
            "--record",
            "{tmp}/record.csv",
            "--replications",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--out",
            "{tmp}/out",
        ],
        ["error: row 2: observed_low = '1e308' must be at most 1,000,000,000"],
        "{tmp}/record.csv",
        {
            "short.toml": _extends("[scenario]\nend_date = 2020-01-10\n"),
            "record.csv": "check,statistic,kinds,from,to,trigger,days,observed_low,observed_high,use,source\n"
            "rockets,count,attack_rocket,2020-01-01,2020-03-31,,,1e308,1.7e308,fit,x\n",
        },
    ),
    # a followed_within window of 1e308 days: a traceback (OverflowError in the baselines) after
    # the validation folder was written, found by tests/test_fuzz.py
    "record_followed_within_days_huge": Case(
        [
            "validate",
            "{tmp}/short.toml",
            "--record",
            "{tmp}/record.csv",
            "--replications",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--out",
            "{tmp}/out",
        ],
        ["error: row 2: days = '1e308' must be in (0, 3,653]"],
        "{tmp}/record.csv",
        {
            "short.toml": _extends("[scenario]\nend_date = 2020-01-10\n"),
            "record.csv": "check,statistic,kinds,from,to,trigger,days,observed_low,observed_high,use,source\n"
            "reply,followed_within,attack_rocket,2020-01-01,2020-01-05,attack_rocket,1e308,0,1,fit,x\n",
        },
    ),
}

# Run as real subprocesses too: one of each family.
SUBPROCESS_CASES = [
    "missing_file",
    "invalid_toml",
    "extends_bad_value_in_middle_file",
    "set_probability_1.3",
    "set_without_equals",
    "replications_0",
    "trace_kinds_unknown",
    "prior_overflows",
]


def _fill(text: str, tmp: Path) -> str:
    return text.replace("{tmp}", str(tmp)).replace("{baseline}", str(BASELINE))


def _prepare(case: Case, tmp: Path) -> tuple[list[str], Path | None]:
    """Write the case's files; return its argv and the --out folder (for ``run``)."""
    for name, content in case.files.items():
        if name.endswith("/"):
            (tmp / name.rstrip("/")).mkdir()
        elif isinstance(content, bytes):
            (tmp / name).write_bytes(content)
        else:
            (tmp / name).write_text(_fill(content, tmp), encoding="utf-8")
    argv = [_fill(a, tmp) for a in case.argv]
    out = None
    if argv[0] == "run":
        out = tmp / "out"
        argv += ["--out", str(out), "--quiet"]
        for option, value in (("--workers", "1"), ("--replications", "2")):
            if option not in argv:  # never override the option a case is about
                argv += [option, value]
    return argv, out


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def call_main(argv: list[str]) -> int:
    """sim.cli.main, with argparse's SystemExit turned into its exit code."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def check_one_error_line(code, stdout: str, stderr: str, case: Case, tmp: Path) -> None:
    assert code == 2, f"exit code {code!r}, stderr: {stderr!r}"
    assert "Traceback" not in stdout and "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    line = lines[0]
    assert line.startswith("error: "), line
    for text in case.expect:
        assert _fill(text, tmp) in line, f"{_fill(text, tmp)!r} not in {line!r}"
    if case.origin is not None:
        assert line.endswith(f"({_fill(case.origin, tmp)})"), f"{line!r} does not name {_fill(case.origin, tmp)!r}"


def check_nothing_written(before: dict, tmp: Path, out: Path | None) -> None:
    if out is not None:
        assert not out.exists(), f"{out} was created"
    assert _snapshot(tmp) == before, "files appeared or changed under tmp_path"


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_in_process(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a stray default results/ folder would show up in the snapshot
    case = CASES[name]
    argv, out = _prepare(case, tmp_path)
    before = _snapshot(tmp_path)
    code = call_main(argv)
    captured = capsys.readouterr()
    check_one_error_line(code, captured.out, captured.err, case, tmp_path)
    check_nothing_written(before, tmp_path, out)


@pytest.mark.slow
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_subprocess(name, tmp_path):
    case = CASES[name]
    argv, out = _prepare(case, tmp_path)
    before = _snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "run.py", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    check_one_error_line(proc.returncode, proc.stdout, proc.stderr, case, tmp_path)
    check_nothing_written(before, tmp_path, out)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["in_process", "subprocess"])
def test_out_folder_not_empty_is_refused(how, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    keep = out / "keep.txt"
    keep.write_text("precious\n")
    before = _snapshot(tmp_path)
    argv = ["run", str(BASELINE), "--replications", "2", "--workers", "1", "--quiet", "--out", str(out)]
    if how == "in_process":
        code = call_main(argv)
        captured = capsys.readouterr()
        stdout, stderr = captured.out, captured.err
    else:
        proc = subprocess.run([sys.executable, "run.py", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    case = Case(argv, [f"output folder {out}", "already exists and is not empty"], None)
    check_one_error_line(code, stdout, stderr, case, tmp_path)
    assert keep.read_text() == "precious\n"
    assert _snapshot(tmp_path) == before, "the existing folder was changed or files were added beside it"


def test_out_is_an_existing_file_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.write_text("not a folder\n")
    before = _snapshot(tmp_path)
    code = call_main(["run", str(BASELINE), "--replications", "2", "--workers", "1", "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    case = Case([], [f"output folder {out}", "already exists"], None)
    check_one_error_line(code, captured.out, captured.err, case, tmp_path)
    assert _snapshot(tmp_path) == before
