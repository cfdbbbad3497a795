"""Bounded inputs: counts, seeds, file sizes and kinds, error lines, generated TOML.

Every input a user can hand the project has an upper bound, checked before anything is
planned or written, and refused with one line naming the file, the key, the value and the
rule with its reason. Seeds survive the whole pipeline up to 2^64 - 1; special files
(``/dev/zero``, named pipes) are refused before they are opened.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.cli.main import main
from sim.config.errors import ConfigError, UsageError
from sim.config.loader import load_scenario, read_document

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
RECORD = ROOT / "configs" / "data" / "public_record.csv"
CALIBRATION = ROOT / "configs" / "calibration.toml"
SEED_2_63 = 2**63
SEED_MAX = 2**64 - 1
SEED_TOO_BIG = 2**64
SHORT = "2020-02-29"  # a short horizon keeps the runs below quick


def call_main(argv: list[str]) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def one_error_line(capsys, code: int) -> str:
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def experiment_file(tmp: Path, replications: int = 2, root_seed: int = 3, scenarios: int = 2) -> Path:
    entries = "".join(f'[scenarios.s{i}]\nset = {{ "cram.kill_prob" = 0.{i + 1} }}\n' for i in range(scenarios))
    path = tmp / "experiment.toml"
    path.write_text(
        f'[experiment]\nname = "bounds"\ndescription = "x"\nbase = "{BASELINE.as_posix()}"\nreference = "s0"\n'
        f'replications = {replications}\nroot_seed = {root_seed}\noutcomes = ["us_killed"]\nend_date = {SHORT}\n\n{entries}',
        encoding="utf-8",
    )
    return path


def sweep_file(
    tmp: Path, design: str, parameters: str, points: int | None = None, root_seed: int = 3, base: str | None = None
) -> Path:
    path = tmp / "sweep.toml"
    sized = f"points = {points}\n" if points is not None else ""
    path.write_text(
        f'[sweep]\nname = "bounds"\ndescription = "x"\nbase = "{base or BASELINE.as_posix()}"\ndesign = "{design}"\n{sized}'
        f'replications = 2\nroot_seed = {root_seed}\noutcomes = ["us_killed"]\nend_date = {SHORT}\n\n{parameters}',
        encoding="utf-8",
    )
    return path


# --- 1. counts have upper bounds -----------------------------------------------------------


def test_replications_option_has_an_upper_bound():
    from sim.cli.options import replications_count

    assert replications_count("10000000") == 10_000_000
    with pytest.raises(argparse.ArgumentTypeError, match="10,000,000"):
        replications_count("100000000000000000000")
    with pytest.raises(argparse.ArgumentTypeError, match=">= 1"):
        replications_count("0")


@pytest.mark.parametrize("command", ["run", "validate", "experiment", "sweep"])
def test_huge_replications_on_the_command_line_is_one_line(command, tmp_path, capsys):
    files = {
        "run": BASELINE,
        "validate": BASELINE,
        "experiment": experiment_file(tmp_path),
        "sweep": sweep_file(tmp_path, "grid", '[parameters."cram.kill_prob"]\nvalues = [0.5]\n'),
    }
    out = tmp_path / "out"
    line = one_error_line(
        capsys, call_main([command, files[command], "--replications", "1" + "0" * 20, "--out", out, "--quiet"])
    )
    assert "--replications" in line and "10,000,000" in line
    assert not out.exists()


def test_experiment_file_replications_bounded(tmp_path):
    path = experiment_file(tmp_path, replications=10**20)
    with pytest.raises(
        ConfigError, match="experiment.replications = 100000000000000000000 must be in \\[1, 10,000,000\\] \\(four days"
    ):
        from sim.design.experiment import load_experiment

        load_experiment(path)


def test_scenarios_times_replications_bounded(tmp_path):
    from sim.design.experiment import load_experiment

    path = experiment_file(tmp_path, replications=6_000_000, scenarios=2)
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    assert "2 scenarios x 6000000 replications" in str(caught.value) and "10,000,000" in str(caught.value)
    assert str(path) in str(caught.value)


def test_grid_sweep_of_a_hundred_million_points_is_refused_before_it_is_built(tmp_path):
    from sim.design.sweep import load_sweep

    values = "values = [" + ", ".join(f"0.{i:02d}" for i in range(100)) + "]\n"
    parameters = "".join(
        f'[parameters."{p}"]\n{values}'
        for p in ("cram.kill_prob", "cram.engage_prob", "threats.rocket.heavy_salvo_prob", "threats.rocket.dud_prob")
    )
    with pytest.raises(ConfigError, match="100000000 points, more than 100,000"):
        load_sweep(sweep_file(tmp_path, "grid", parameters))


def test_sized_sweep_points_bounded(tmp_path):
    from sim.design.sweep import load_sweep

    parameters = '[parameters."cram.kill_prob"]\nlow = 0.1\nhigh = 0.9\n'
    with pytest.raises(ConfigError, match="sweep.points = 100000000 must be in \\[1, 100,000\\] \\(each point"):
        load_sweep(sweep_file(tmp_path, "lhs", parameters, points=10**8))


def test_batch_bounds_hold_for_the_python_api(tmp_path):
    from sim import api

    with pytest.raises(ConfigError, match="10,000,000"):
        api.run_scenario(BASELINE, replications=10**20, seed=1, out=tmp_path / "out", batch=api.BatchOptions(workers=1))
    assert not (tmp_path / "out").exists()


# --- 2. seeds up to 2^64 - 1 ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [SEED_2_63, SEED_MAX])
def test_large_seed_survives_a_run(seed, tmp_path, capsys):
    scenario = tmp_path / "short.toml"
    scenario.write_text(f'extends = "{BASELINE.as_posix()}"\n[scenario]\nend_date = {SHORT}\n', encoding="utf-8")
    out = tmp_path / "out"
    code = call_main(
        ["run", scenario, "--replications", "2", "--seed", str(seed), "--workers", "1", "--quiet", "--out", out]
    )
    assert code == 0, capsys.readouterr().err
    table = pq.read_table(out / "runs.parquet")
    assert str(table.schema.field("seed").type) == "uint64"
    assert table.column("seed").to_pylist() == [seed, seed]
    runs = pd.read_parquet(out / "runs.parquet")
    assert int(runs["seed"].iloc[0]) == seed
    # the same replication traced with that seed is the same world
    code = call_main(["trace", scenario, "--seed", str(seed), "--replication", "1"])
    assert code == 0


def test_large_seed_from_an_experiment_file(tmp_path, capsys):
    out = tmp_path / "out"
    code = call_main(
        ["experiment", experiment_file(tmp_path, root_seed=SEED_MAX), "--out", out, "--workers", "1", "--quiet"]
    )
    assert code == 0, capsys.readouterr().err
    assert pq.read_table(out / "runs.parquet").column("seed").to_pylist() == [SEED_MAX] * 4


@pytest.mark.parametrize("command", ["run", "trace", "validate"])
def test_seed_of_2_to_the_64_refused_on_the_command_line(command, tmp_path, capsys):
    out = ["--out", tmp_path / "out"] if command != "trace" else []
    line = one_error_line(capsys, call_main([command, BASELINE, "--seed", str(SEED_TOO_BIG), *out]))
    assert "--seed" in line and str(SEED_TOO_BIG) in line and "2^64 - 1" in line
    assert not (tmp_path / "out").exists()


def test_root_seed_of_2_to_the_64_refused_in_files(tmp_path):
    from sim.calibration.settings import load_calibration
    from sim.design.experiment import load_experiment
    from sim.design.sweep import load_sweep

    with pytest.raises(ConfigError, match=f"experiment.root_seed = {SEED_TOO_BIG} must be in \\[0, 2\\^64 - 1\\]"):
        load_experiment(experiment_file(tmp_path, root_seed=SEED_TOO_BIG))
    parameters = '[parameters."cram.kill_prob"]\nvalues = [0.5]\n'
    with pytest.raises(ConfigError, match=f"sweep.root_seed = {SEED_TOO_BIG} must be in"):
        load_sweep(sweep_file(tmp_path, "grid", parameters, root_seed=SEED_TOO_BIG))
    calibration = tmp_path / "calibration.toml"
    text = CALIBRATION.read_text(encoding="utf-8").replace("root_seed = 1 ", f"root_seed = {SEED_TOO_BIG} ")
    text = (
        text.replace('scenario = "', f'scenario = "{(ROOT / "configs").as_posix()}/')
        .replace('record = "', f'record = "{(ROOT / "configs").as_posix()}/')
        .replace('replay = "', f'replay = "{(ROOT / "configs").as_posix()}/')
    )
    calibration.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"calibration.root_seed = {SEED_TOO_BIG} must be in"):
        load_calibration(calibration)


def test_seed_of_2_to_the_64_refused_by_the_python_api(tmp_path):
    from sim import api

    with pytest.raises(ConfigError, match="2\\^64 - 1"):
        api.run_scenario(
            BASELINE, replications=1, seed=SEED_TOO_BIG, out=tmp_path / "out", batch=api.BatchOptions(workers=1)
        )
    with pytest.raises(ConfigError, match="2\\^64 - 1"):
        api.trace(BASELINE, seed=SEED_TOO_BIG)
    assert not (tmp_path / "out").exists()


# --- 3. extends merges in linear time; files have bounded keys and size ---------------------


def _parent_and_child(tmp: Path, keys: int) -> Path:
    body = "".join(f"k{i} = {i}\n" for i in range(keys))
    (tmp / f"parent{keys}.toml").write_text("[t]\n" + body, encoding="utf-8")
    child = tmp / f"child{keys}.toml"
    child.write_text(f'extends = "parent{keys}.toml"\n[t]\n' + body, encoding="utf-8")
    return child


class TooManyCalls(Exception):
    pass


def calls_made(action, budget: float = float("inf")) -> int:
    """Function calls (Python and built-in) that ``action()`` makes: a count of operations that
    does not depend on the machine's speed or load. Stops with :class:`TooManyCalls` past ``budget``."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
            if count > budget:
                raise TooManyCalls(count)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def test_extends_merges_in_linear_time(tmp_path):
    """8 times the keys make about 8 times the calls when the merge is linear, 64 times when
    it is quadratic (as it was when each key of the child scanned every key of the parent).
    Counting calls, not seconds, makes the check exact on a loaded machine; the budget of 16
    times stops a quadratic merge early instead of letting it run for seconds."""
    small, large = _parent_and_child(tmp_path, 100), _parent_and_child(tmp_path, 800)
    for path in (small, large):
        doc, origins = read_document(path)
        assert len(origins) == len(doc["t"]) and origins["t.k0"] == str(path)
    base = calls_made(lambda: read_document(small))
    try:
        ratio = calls_made(lambda: read_document(large), budget=16 * base) / base
    except TooManyCalls as exc:
        pytest.fail(f"8 times the keys made more than 16 times the calls ({exc.args[0]} against {base}): not linear")
    assert ratio < 16, f"8 times the keys made {ratio:.1f} times the calls (linear: about 8, quadratic: about 64)"


def test_extends_keeps_the_origin_of_each_key(tmp_path):
    (tmp_path / "parent.toml").write_text("[a]\nb = 1\nc = 2\n[d]\ne = {f = 1}\n[g]\nh = 1\n", encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n[a]\nb = 3\n[d]\ne = 4\n[g.h]\ni = 5\n', encoding="utf-8")
    doc, origins = read_document(child)
    assert doc == {"a": {"b": 3, "c": 2}, "d": {"e": 4}, "g": {"h": {"i": 5}}}
    parent, mine = str(tmp_path / "parent.toml"), str(child)
    assert origins == {"a.b": mine, "a.c": parent, "d.e": mine, "g.h.i": mine}


def test_too_many_keys_refused(tmp_path):
    path = tmp_path / "many.toml"
    path.write_text("[t]\n" + "".join(f"k{i} = {i}\n" for i in range(10_001)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "10002 keys" in message and "10,000" in message and str(path) in message


def test_too_large_a_file_refused(tmp_path):
    path = tmp_path / "large.toml"
    path.write_text("#" * (10 * 2**20 + 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="10485761 bytes.*10 MB"):
        load_scenario(path)


# --- 4. error lines are bounded -------------------------------------------------------------


@pytest.mark.parametrize(
    "body, shown",
    [
        ('[scenario]\nstart_date = "{x}"\n', "scenario.start_date = 'xxx"),
        ('[scenario]\n"{x}" = 1\n', "scenario.xxx"),
    ],
)
def test_long_values_and_keys_are_shortened_in_errors(body, shown, tmp_path, capsys):
    path = tmp_path / "long.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n' + body.replace("{x}", "x" * 1_000_000), encoding="utf-8")
    line = one_error_line(capsys, call_main(["run", path, "--out", tmp_path / "out"]))
    assert len(line) < 1000
    assert shown in line and "characters)" in line and line.endswith(f"({path})")
    assert "(1000000 characters)" in line or "(1000009 characters)" in line


def test_error_line_is_bounded_whatever_its_parts():
    error = ConfigError("k" * 10**6, "v" * 10**6, "r" * 10**6, "o" * 10**6)
    assert len(str(error)) <= 2000
    assert "characters" in str(error)
    assert len(str(UsageError("u" * 10**6))) <= 2000
    assert str(ConfigError("a.b", 1.3, "must be in [0, 1]", "f.toml")) == "a.b = 1.3 must be in [0, 1] (f.toml)"


# --- 5. special files -----------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_extends_a_special_file_is_refused(special, fifo, tmp_path):
    target = fifo if special == "fifo" else Path(special)
    path = tmp_path / "child.toml"
    path.write_text(f'extends = "{target.as_posix()}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a regular file"):
        load_scenario(path)


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_special_files_refused_everywhere(special, fifo, tmp_path, capsys):
    from sim.calibration.public_record import load_record
    from sim.design.sweep import load_sweep

    target = fifo if special == "fifo" else Path(special)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_scenario(target)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_record(target)
    parameters = '[parameters."cram.kill_prob"]\nvalues = [0.5]\n'
    with pytest.raises(ConfigError, match="not a regular file"):
        load_sweep(sweep_file(tmp_path, "grid", parameters, base=target.as_posix()))
    line = one_error_line(capsys, call_main(["validate", BASELINE, "--record", target, "--out", tmp_path / "out"]))
    assert "not a regular file" in line and str(target) in line


def test_record_file_too_large_refused(tmp_path):
    from sim.calibration.public_record import load_record

    path = tmp_path / "record.csv"
    path.write_text(RECORD.read_text(encoding="utf-8") + "#" * (10 * 2**20), encoding="utf-8")
    with pytest.raises(ConfigError, match="bytes.*10 MB"):
        load_record(path)


# --- 6. a pyarrow without CVE-2023-47248 ------------------------------------------------------


def test_pyarrow_requirement_excludes_14_0_0():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pyarrow = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "pyarrow"]
    assert len(pyarrow) == 1
    assert not pyarrow[0].specifier.contains("14.0.0")
    assert pyarrow[0].specifier.contains("14.0.1")


# --- 7. generated TOML is written by a TOML writer --------------------------------------------


def test_calibrated_scenario_with_quotes_and_backslashes_in_its_path_round_trips(tmp_path):
    from sim.analysis.posterior import write_calibrated_scenario

    folder = tmp_path / 'we"ird\\dir'
    folder.mkdir()
    base = folder / 'base "x".toml'
    base.write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")
    posterior = folder / "posterior.parquet"
    parameters = pd.DataFrame(
        [
            {
                "parameter": "cram.kill_prob",
                "unit": "probability",
                "prior": 'uniform(0.3, 0.9) "quoted"',
                "posterior_median": 0.61,
                "posterior_low90": 0.4,
                "posterior_high90": 0.8,
                "moved": True,
            }
        ]
    )
    path = tmp_path / "calibrated.toml"
    write_calibrated_scenario(path, base, parameters, 'a provenance with "quotes"', posterior)
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert (path.parent / document["extends"]).resolve() == base.resolve()
    scenario = load_scenario(path)
    assert scenario.cram.kill_prob == 0.61
    assert scenario.scenario.name == "calibrated"
    kill_line = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("kill_prob = "))
    assert "# probability; source: calibrated" in kill_line


def test_set_assignments_are_written_as_toml():
    from sim.config.loader import parse_assignment
    from sim.design.batch import assignments

    tricky = 'a "quoted" \\ back\tslash é \x07'
    (text,) = assignments({"scenario.name": tricky})
    assert parse_assignment(text) == ("scenario.name", tricky)


# --- 8. a byte-order mark -----------------------------------------------------------------------


def test_a_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + f'extends = "{BASELINE.as_posix()}"\n[cram]\nkill_prob = 0.5\n'.encode())
    assert load_scenario(path).cram.kill_prob == 0.5
